import { expect } from 'chai';
import { MemoryPresence } from '../../src/infra/memory/memory-presence.js';
import { keys } from '../../src/infra/redis/redis-keys.js';
import { RedisPresence } from '../../src/infra/redis/redis-presence.js';
import { describeWithRedis } from '../helpers/cluster.js';
import { useRedis } from '../helpers/redis-server.js';
import { assertOneSlotPerStep } from '../helpers/redis-steps.js';
import { registerPresenceContract, sortByUser } from './presence-contract.js';

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

    it("a survivor removes all of a dead node's entries in a room it lists: each user once, and only those with no socket elsewhere", async () => {
      const bob = { userId: 'u-bob', name: 'Bob' };
      const cid = { userId: 'u-cid', name: 'Cid' };
      const dead = new RedisPresence(redis.client, 'node-dead');
      const survivor = new RedisPresence(redis.client, 'node-b');
      await dead.join('r1', 's1', ann);
      await dead.join('r1', 's2', ann);
      await dead.join('r1', 's3', bob);
      await survivor.join('r1', 's4', bob);
      await survivor.join('r1', 's5', cid);
      expect(await redis.client.sMembers(keys.nodePresenceRooms('node-dead'))).to.deep.equal(['r1']);
      expect(await survivor.removeNode('node-dead', 'r1')).to.deep.equal([ann]);
      expect(sortByUser(await survivor.list('r1'))).to.deep.equal([bob, cid]);
      expect(await survivor.removeNode('node-dead', 'r1')).to.deep.equal([]);
      // The survivor's own entries count as before: Bob leaves with his last socket.
      expect(await survivor.leave('r1', 's4')).to.deep.equal(bob);
    });

    it('a node lists the rooms it has sockets in until its last socket there leaves', async () => {
      const a = new RedisPresence(redis.client, 'node-a');
      const rooms = async () => (await redis.client.sMembers(keys.nodePresenceRooms('node-a'))).sort();
      await Promise.all([a.join('r1', 's1', ann), a.join('r1', 's2', ann), a.join('r2', 's1', ann)]);
      expect(await rooms()).to.deep.equal(['r1', 'r2']);
      await a.leave('r1', 's1');
      expect(await rooms()).to.deep.equal(['r1', 'r2']);
      await a.leave('r1', 's2');
      expect(await rooms()).to.deep.equal(['r2']);
      await a.join('r1', 's3', ann);
      expect(await rooms()).to.deep.equal(['r1', 'r2']);
    });
  });

  assertOneSlotPerStep(redis, 20);
});
