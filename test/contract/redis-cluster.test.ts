import { expect } from 'chai';
import { NodeRegistry, type DeadNodeCleanup } from '../../src/infra/redis/node-registry.js';
import { RedisCallRegistry } from '../../src/infra/redis/redis-call-registry.js';
import { RedisConnectionCounter } from '../../src/infra/redis/redis-connection-counter.js';
import { keys } from '../../src/infra/redis/redis-keys.js';
import { RedisPresence } from '../../src/infra/redis/redis-presence.js';
import { describeWithRedis } from '../helpers/cluster.js';
import { clusterAsClient, useRedisCluster } from '../helpers/redis-cluster.js';
import { keySlot } from '../helpers/redis-slot.js';
import { silentLogger } from '../helpers/silent-logger.js';
import { eventually } from '../helpers/socket-client.js';
import { callPeer, registerCallRegistryContract } from './call-registry-contract.js';
import { registerConnectionCounterContract } from './connection-counter-contract.js';
import { registerPresenceContract } from './presence-contract.js';

/**
 * The presence, call-registry and connection-counter contracts on a real three-master Redis
 * Cluster, which refuses any step whose keys are in two slots (CROSSSLOT), and a dead node's
 * cleanup, which spans rooms on every shard.
 */
describeWithRedis('on a Redis Cluster (three masters)', () => {
  const cluster = useRedisCluster();
  const redis = () => clusterAsClient(cluster.client);
  const beat = (nodeId: string, agoMs = 0) => cluster.client.zAdd(keys.nodes, { score: Date.now() - agoMs, value: nodeId });

  registerPresenceContract('Redis Cluster', () => new RedisPresence(redis(), 'node-a'));
  registerCallRegistryContract('Redis Cluster', () => new RedisCallRegistry(redis(), 'node-a'));
  registerConnectionCounterContract('Redis Cluster', async (caps) => {
    await beat('node-a');
    return new RedisConnectionCounter(redis(), 'node-a', caps.perUser, caps.perIp, 5000);
  });

  it('the rooms of these tests land on more than one shard, in the slots the slot helper computes', async () => {
    const rooms = ['r1', 'r2', 'r3', 'nowhere'];
    const master = await cluster.client.nodeClient(cluster.client.masters[0]!);
    for (const key of [...rooms.map((r) => keys.presence(r)), keys.nodePresenceRooms('node-a'), keys.userConnections('u1'), keys.nodes]) {
      expect(Number(await master.sendCommand(['CLUSTER', 'KEYSLOT', key])), key).to.equal(keySlot(key));
    }
    const shards = new Set(rooms.map((r) => cluster.client.getSlotMaster(keySlot(keys.presence(r))).port));
    expect(shards.size).to.be.greaterThan(1);
  });

  it("a dead node's users and peers are removed from rooms on every shard; a full cap purges its slots", async () => {
    const dead = { presence: new RedisPresence(redis(), 'node-dead'), calls: new RedisCallRegistry(redis(), 'node-dead') };
    const rooms = ['r1', 'r2', 'r3', 'r4', 'r5', 'r6'];
    for (const [i, roomId] of rooms.entries()) {
      await dead.presence.join(roomId, `s${i}`, { userId: 'u-ann', name: 'Ann' });
      await dead.calls.join(roomId, callPeer(`p${i}`), 4);
    }
    const deadCounter = new RedisConnectionCounter(redis(), 'node-dead', 1, 10, 400);
    await beat('node-dead');
    expect(await deadCounter.acquire('u1', 'ip-1', 'c1')).to.equal('ok');
    await beat('node-dead', 10_000);

    const cleanups: DeadNodeCleanup[] = [];
    const survivor = new NodeRegistry(redis(), new RedisPresence(redis(), 'node-b'), new RedisCallRegistry(redis(), 'node-b'), new RedisConnectionCounter(redis(), 'node-b', 1, 10, 400), silentLogger, {
      nodeId: 'node-b',
      heartbeatMs: 50,
      timeoutMs: 400,
      onCleanup: (c) => cleanups.push(c),
    });
    await survivor.start();
    try {
      await eventually(async () => (await cluster.client.zScore(keys.nodes, 'node-dead')) === null, 5000, 'the dead node reaped');
      expect(cleanups.flatMap((c) => c.left.map((l) => l.roomId)).sort()).to.deep.equal(rooms);
      expect(cleanups.flatMap((c) => c.peersLeft.map((l) => l.peerId)).sort()).to.deep.equal(rooms.map((_, i) => `p${i}`));
      expect(await new RedisConnectionCounter(redis(), 'node-b', 1, 10, 400).acquire('u1', 'ip-1', 'c2')).to.equal('ok');
    } finally {
      await survivor.stop();
    }
  });
});
