import { expect } from 'chai';
import { randomUUID } from 'node:crypto';
import { QueueLayout } from '../../src/infra/redis/queue-layout.js';

/** The hash tag Redis Cluster places a key by: the text between the first `{` and the next `}`. */
const tagOf = (key: string) => /\{([^}]*)\}/.exec(key)?.[1];

describe('QueueLayout: where a room’s message keys and its queue partition live', () => {
  it('gives a room’s counter, log, clientMsgId records and its queue partition one hash tag', () => {
    const layout = new QueueLayout(16);
    const room = layout.room(randomUUID());
    const tags = [room.seq, room.log, room.idempotency('c1'), room.partition.queue, room.partition.attempts, room.partition.deadLetters].map(tagOf);
    expect(new Set(tags)).to.have.property('size', 1);
    expect(tags[0]).to.equal(`q${room.partition.index}`);
  });

  it('places a room by a hash that never changes between releases (changing it would move counters)', () => {
    // Pinned: these placements are in deployed Redis data.
    const layout = new QueueLayout(16);
    expect(['a', 'b', 'c'].map((id) => layout.partitionOf(id).index)).to.deep.equal([12, 5, 2]);
    expect(layout.room('a').seq).to.equal('chat:{q12}:room:a:seq');
  });

  it('spreads rooms evenly over the partitions', () => {
    const layout = new QueueLayout(16);
    const counts = new Array<number>(16).fill(0);
    for (let i = 0; i < 16_000; i++) counts[layout.partitionOf(randomUUID()).index]!++;
    for (const n of counts) expect(n).to.be.within(800, 1200);
  });

  it('refuses a partition count that is not a positive integer', () => {
    expect(() => new QueueLayout(0)).to.throw(/QUEUE_PARTITIONS/);
    expect(() => new QueueLayout(1.5)).to.throw(/QUEUE_PARTITIONS/);
  });
});
