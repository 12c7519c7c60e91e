import { expect } from 'chai';
import { timeOrderedId } from '../../src/domain/time-ordered-id.js';

describe('timeOrderedId (UUIDv7 message ids)', () => {
  it('is a UUIDv7 whose first 48 bits are the time, and later ids sort later', () => {
    const at = 1_700_000_000_000;
    const id = timeOrderedId(at);
    expect(id).to.match(/^[0-9a-f]{8}-[0-9a-f]{4}-7[0-9a-f]{3}-[89ab][0-9a-f]{3}-[0-9a-f]{12}$/);
    expect(id.replace(/-/g, '').slice(0, 12)).to.equal(at.toString(16).padStart(12, '0'));
    const ids = Array.from({ length: 2000 }, (_, i) => timeOrderedId(at + i));
    expect(ids.every((x, i) => i === 0 || ids[i - 1]! < x)).to.equal(true);
    expect(new Set(Array.from({ length: 5000 }, () => timeOrderedId())).size).to.equal(5000);
  });
});
