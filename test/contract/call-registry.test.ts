import { expect } from 'chai';
import { MemoryCallRegistry } from '../../src/infra/memory/memory-call-registry.js';
import { RedisCallRegistry } from '../../src/infra/redis/redis-call-registry.js';
import { keys } from '../../src/infra/redis/redis-keys.js';
import { describeWithRedis } from '../helpers/cluster.js';
import { useRedis } from '../helpers/redis-server.js';
import { callPeer, registerCallRegistryContract } from './call-registry-contract.js';

registerCallRegistryContract('memory', () => new MemoryCallRegistry());

describeWithRedis('CallRegistry in Redis', () => {
  const redis = useRedis();
  registerCallRegistryContract('Redis', () => new RedisCallRegistry(redis.client, 'node-a'));

  // What signaling across nodes and NodeRegistry's cleanup of a dead node rely on.
  describe('across nodes', () => {
    it('a call is one call on every node: peers, capacity and roomOf', async () => {
      const a = new RedisCallRegistry(redis.client, 'node-a');
      const b = new RedisCallRegistry(redis.client, 'node-b');
      await a.join('r1', callPeer('p1'), 2);
      expect(await b.join('r1', callPeer('p2'), 2)).to.deep.equal({ joined: true, peers: [callPeer('p1')] });
      expect(await a.join('r1', callPeer('p3'), 2)).to.deep.equal({ joined: false, reason: 'ROOM_FULL' });
      expect(await a.roomOf('p2')).to.equal('r1');
    });

    it("a survivor removes a dead node's peer on its behalf", async () => {
      const dead = new RedisCallRegistry(redis.client, 'node-dead');
      const survivor = new RedisCallRegistry(redis.client, 'node-b');
      await dead.join('r1', callPeer('p1'), 2);
      expect(await survivor.leaveFor('node-dead', 'r1', 'p1')).to.equal(true);
      expect(await survivor.roomOf('p1')).to.equal(null);
      expect(await survivor.join('r1', callPeer('p2'), 2)).to.deep.equal({ joined: true, peers: [] });
    });

    it('a peer that rejoined on another node (a recovered session keeps its id) is left alone by the dead node’s cleanup', async () => {
      const dead = new RedisCallRegistry(redis.client, 'node-dead');
      const survivor = new RedisCallRegistry(redis.client, 'node-b');
      await dead.join('r1', callPeer('p1'), 2);
      expect((await survivor.join('r1', callPeer('p1'), 2)).joined).to.equal(true);
      expect(await survivor.leaveFor('node-dead', 'r1', 'p1')).to.equal(false);
      expect(await survivor.roomOf('p1')).to.equal('r1');
      expect(await survivor.join('r1', callPeer('p2'), 2)).to.deep.equal({ joined: true, peers: [callPeer('p1')] });
    });

    it('a peer stored before entries named their node can still be removed by any node', async () => {
      await redis.client.hSet(keys.callPeers('r1'), 'p1', JSON.stringify(callPeer('p1')));
      await redis.client.set(keys.peerRoom('p1'), 'r1');
      const b = new RedisCallRegistry(redis.client, 'node-b');
      expect(await b.leave('r1', 'p1')).to.equal(true);
      expect(await b.roomOf('p1')).to.equal(null);
    });
  });
});
