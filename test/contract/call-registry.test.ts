import { expect } from 'chai';
import { MemoryCallRegistry } from '../../src/infra/memory/memory-call-registry.js';
import { RedisCallRegistry } from '../../src/infra/redis/redis-call-registry.js';
import { keys } from '../../src/infra/redis/redis-keys.js';
import { describeWithRedis } from '../helpers/cluster.js';
import { useRedis } from '../helpers/redis-server.js';
import { assertOneSlotPerStep } from '../helpers/redis-steps.js';
import { callPeer, registerCallRegistryContract } from './call-registry-contract.js';

registerCallRegistryContract('memory', () => new MemoryCallRegistry());

describeWithRedis('CallRegistry in Redis', () => {
  const redis = useRedis();
  registerCallRegistryContract('Redis', () => new RedisCallRegistry(redis.client, 'node-a'));

  // What signaling across nodes and NodeRegistry's cleanup of a dead node rely on.
  describe('across nodes', () => {
    const callRooms = (nodeId: string) => redis.client.sMembers(keys.nodeCallRooms(nodeId));

    it('a call is one call on every node: peers, capacity and inCall', async () => {
      const a = new RedisCallRegistry(redis.client, 'node-a');
      const b = new RedisCallRegistry(redis.client, 'node-b');
      await a.join('r1', callPeer('p1'), 2);
      expect(await b.join('r1', callPeer('p2'), 2)).to.deep.equal({ joined: true, peers: [callPeer('p1')] });
      expect(await a.join('r1', callPeer('p3'), 2)).to.deep.equal({ joined: false, reason: 'ROOM_FULL' });
      expect(await a.inCall('r1', 'p2')).to.equal(true);
    });

    it('a node lists the calls it has peers in until its last peer there leaves; a refused join lists nothing', async () => {
      const a = new RedisCallRegistry(redis.client, 'node-a');
      await a.join('r1', callPeer('p1'), 1);
      await a.join('r2', callPeer('p2'), 4);
      await a.join('r2', callPeer('p3'), 4);
      expect(await a.join('r1', callPeer('p4'), 1)).to.deep.equal({ joined: false, reason: 'ROOM_FULL' });
      expect((await callRooms('node-a')).sort()).to.deep.equal(['r1', 'r2']);
      await a.leave('r2', 'p2');
      expect((await callRooms('node-a')).sort()).to.deep.equal(['r1', 'r2']);
      await a.leave('r2', 'p3');
      await a.leave('r1', 'p1');
      expect(await callRooms('node-a')).to.deep.equal([]);
      expect(await a.join('r3', callPeer('p5'), 1)).to.deep.include({ joined: true });
      expect(await callRooms('node-a')).to.deep.equal(['r3']);
    });

    it("a survivor removes a dead node's peers from a call it lists, and nobody else's", async () => {
      const dead = new RedisCallRegistry(redis.client, 'node-dead');
      const survivor = new RedisCallRegistry(redis.client, 'node-b');
      await dead.join('r1', callPeer('p1'), 3);
      await dead.join('r1', callPeer('p2'), 3);
      await survivor.join('r1', callPeer('p3'), 3);
      expect(await callRooms('node-dead')).to.deep.equal(['r1']);
      expect((await survivor.removeNode('node-dead', 'r1')).map((p) => p.peerId).sort()).to.deep.equal(['p1', 'p2']);
      expect(await survivor.inCall('r1', 'p1')).to.equal(false);
      expect(await survivor.join('r1', callPeer('p4'), 3)).to.deep.equal({ joined: true, peers: [callPeer('p3')] });
      expect(await survivor.removeNode('node-dead', 'r1')).to.deep.equal([]);
    });

    it('a peer that rejoined on another node (a recovered session keeps its id) is left alone by the dead node’s cleanup', async () => {
      const dead = new RedisCallRegistry(redis.client, 'node-dead');
      const survivor = new RedisCallRegistry(redis.client, 'node-b');
      await dead.join('r1', callPeer('p1'), 2);
      expect((await survivor.join('r1', callPeer('p1'), 2)).joined).to.equal(true);
      expect(await survivor.leaveFor('node-dead', 'r1', 'p1')).to.equal(false);
      expect(await survivor.removeNode('node-dead', 'r1')).to.deep.equal([]);
      expect(await survivor.inCall('r1', 'p1')).to.equal(true);
      expect(await survivor.join('r1', callPeer('p2'), 2)).to.deep.equal({ joined: true, peers: [callPeer('p1')] });
    });

    it('a peer stored before entries named their node can still be removed by any node', async () => {
      await redis.client.hSet(keys.callPeers('r1'), 'p1', JSON.stringify(callPeer('p1')));
      const b = new RedisCallRegistry(redis.client, 'node-b');
      expect(await b.leave('r1', 'p1')).to.equal(true);
      expect(await b.inCall('r1', 'p1')).to.equal(false);
    });
  });

  assertOneSlotPerStep(redis, 20);
});
