import { expect } from 'chai';
import { MemoryPresence } from '../../src/infra/memory/memory-presence.js';
import { RedisPresence } from '../../src/infra/redis/redis-presence.js';
import { describeWithRedis } from '../helpers/cluster.js';
import { useRedis } from '../helpers/redis-server.js';
import { registerPresenceContract } from './presence-contract.js';

registerPresenceContract('memory', () => new MemoryPresence());

describeWithRedis('Presence in Redis', () => {
  const redis = useRedis();
  registerPresenceContract('Redis', () => new RedisPresence(redis.client, 'node-a'));

  // What NodeRegistry relies on when it removes a dead node's participants.
  describe('across nodes', () => {
    const ann = { userId: 'u-ann', name: 'Ann' };

    it('one user on two nodes is one participant, announced on the first join and the last leave', async () => {
      const a = new RedisPresence(redis.client, 'node-a');
      const b = new RedisPresence(redis.client, 'node-b');
      expect(await a.join('r1', 's1', ann)).to.equal(true);
      expect(await b.join('r1', 's2', ann)).to.equal(false);
      expect(await b.list('r1')).to.deep.equal([ann]);
      expect(await a.leave('r1', 's1')).to.equal(null);
      expect(await b.leave('r1', 's2')).to.deep.equal(ann);
    });

    it('a session recovered on another node moves there: a late leave (or cleanup) from the old node changes nothing', async () => {
      const a = new RedisPresence(redis.client, 'node-a');
      const b = new RedisPresence(redis.client, 'node-b');
      await a.join('r1', 's1', ann);
      expect(await b.join('r1', 's1', ann)).to.equal(false);
      expect(await a.leave('r1', 's1')).to.equal(null);
      expect(await b.leaveFor('node-a', 'r1', 's1')).to.equal(null);
      expect(await b.list('r1')).to.deep.equal([ann]);
      expect(await b.leave('r1', 's1')).to.deep.equal(ann);
    });

    it("a survivor removes a dead node's entry on its behalf", async () => {
      const dead = new RedisPresence(redis.client, 'node-dead');
      const survivor = new RedisPresence(redis.client, 'node-b');
      await dead.join('r1', 's1', ann);
      expect(await survivor.leaveFor('node-dead', 'r1', 's1')).to.deep.equal(ann);
      expect(await survivor.list('r1')).to.deep.equal([]);
    });
  });
});
