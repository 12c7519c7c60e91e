import { expect } from 'chai';
import { ExpiryIndex } from '../../src/transport/socket/expiry-index.js';

const sleep = (ms: number) => new Promise((r) => setTimeout(r, ms));

describe('ExpiryIndex (token expiry of every socket on one timer)', () => {
  it('expires each item once, at its second, and keeps the later ones', async () => {
    const expired: string[] = [];
    const index = new ExpiryIndex<string>(
      (item) => expired.push(item),
      (err) => {
        throw err;
      },
    );
    const now = Date.now();
    index.add('past', now - 5000);
    index.add('now', now);
    index.add('later', now + 60_000);
    await sleep(1100);
    expect(expired.sort()).to.deep.equal(['now', 'past']);
    // Out already: a disconnect after the expiry must not clean up a second time.
    expect(index.delete('now', now)).to.equal(false);
    expect(index.delete('later', now + 60_000)).to.equal(true);
    expect(index.delete('later', now + 60_000)).to.equal(false);
  });

  it('does not expire a deleted item, and lets an expiry callback delete others of its second', async () => {
    const expired: string[] = [];
    const index = new ExpiryIndex<string>(
      (item) => {
        expired.push(item);
        // As a transport closing takes its other namespace's socket with it.
        if (item === 'chat') expect(index.delete('rtc', at)).to.equal(true);
        if (item === 'rtc') expect(index.delete('chat', at)).to.equal(true);
      },
      (err) => {
        throw err;
      },
    );
    const at = Date.now() + 200;
    index.add('chat', at);
    index.add('rtc', at);
    index.add('gone', at);
    expect(index.delete('gone', at)).to.equal(true);
    await sleep(1300);
    expect(expired).to.have.length(1);
    expect(['chat', 'rtc']).to.include(expired[0]);
  });

  it('reports a failing callback and goes on with the others', async () => {
    const expired: string[] = [];
    const errors: unknown[] = [];
    const index = new ExpiryIndex<string>(
      (item) => {
        if (item === 'bad') throw new Error('boom');
        expired.push(item);
      },
      (err) => errors.push(err),
    );
    index.add('bad', Date.now());
    index.add('good', Date.now());
    await sleep(1100);
    expect(expired).to.deep.equal(['good']);
    expect(errors).to.have.length(1);
  });
});
