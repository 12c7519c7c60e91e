import { expect } from 'chai';
import { NodeRegistry, type DeadNodeCleanup } from '../../src/infra/redis/node-registry.js';
import { RedisCallRegistry } from '../../src/infra/redis/redis-call-registry.js';
import { keys } from '../../src/infra/redis/redis-keys.js';
import { RedisConnectionCounter } from '../../src/infra/redis/redis-connection-counter.js';
import { RedisPresence } from '../../src/infra/redis/redis-presence.js';
import { describeWithRedis } from '../helpers/cluster.js';
import { useRedis } from '../helpers/redis-server.js';
import { assertOneSlotPerStep } from '../helpers/redis-steps.js';
import { silentLogger } from '../helpers/silent-logger.js';
import { eventually } from '../helpers/socket-client.js';
import { callPeer } from './call-registry-contract.js';

const ann = { userId: 'u-ann', name: 'Ann' };
const bob = { userId: 'u-bob', name: 'Bob' };

describeWithRedis('NodeRegistry: a node’s participants and call peers go with it', () => {
  const redis = useRedis();
  const registries: NodeRegistry[] = [];
  afterEach(async () => {
    for (const r of registries.splice(0)) await r.stop();
  });

  /** A node's presence, calls and registry on the suite's Redis; `cleanups` hears what its registry removed. */
  const node = (nodeId: string) => {
    const presence = new RedisPresence(redis.client, nodeId);
    const calls = new RedisCallRegistry(redis.client, nodeId);
    const connections = new RedisConnectionCounter(redis.client, nodeId, 10, 10, 400);
    const cleanups: DeadNodeCleanup[] = [];
    const registry = new NodeRegistry(redis.client, presence, calls, connections, silentLogger, { nodeId, heartbeatMs: 50, timeoutMs: 400, onCleanup: (c) => cleanups.push(c) });
    return { presence, calls, connections, registry, cleanups };
  };

  it('a survivor reaps a silent node: its users leave each room once, its peers each call, and what moved elsewhere stays', async () => {
    const dead = node('node-dead');
    const survivor = node('node-b');
    // Started before it serves, as on a node: its start clears what an earlier process of its id left.
    registries.push(survivor.registry);
    await survivor.registry.start();
    await dead.presence.join('r1', 's1', ann);
    await dead.presence.join('r1', 's2', ann);
    await dead.presence.join('r2', 's3', ann);
    await dead.presence.join('r2', 's4', bob);
    await dead.calls.join('r1', callPeer('p1'), 4);
    await dead.calls.join('r2', callPeer('p2'), 4);
    // Bob's session and peer p2 were recovered on the survivor before the node died.
    await survivor.presence.join('r2', 's4', bob);
    await survivor.calls.join('r2', callPeer('p2'), 4);
    await redis.client.zAdd(keys.nodes, { score: Date.now() - 10_000, value: 'node-dead' });
    await eventually(async () => (await redis.client.zScore(keys.nodes, 'node-dead')) === null, 5000, 'the dead node reaped');
    const left = survivor.cleanups.flatMap((c) => c.left).sort((a, b) => a.roomId.localeCompare(b.roomId));
    expect(left).to.deep.equal([
      { roomId: 'r1', participant: ann },
      { roomId: 'r2', participant: ann },
    ]);
    expect(survivor.cleanups.flatMap((c) => c.peersLeft)).to.deep.equal([{ roomId: 'r1', peerId: 'p1', userId: 'user-of-p1', name: 'Name p1' }]);
    expect(await survivor.presence.list('r1')).to.deep.equal([]);
    expect(await survivor.presence.list('r2')).to.deep.equal([bob]);
    expect(await survivor.calls.inCall('r2', 'p2')).to.equal(true);
    expect(await redis.client.exists([keys.nodePresenceRooms('node-dead')])).to.equal(0);
    expect(await redis.client.exists([keys.nodeCallRooms('node-dead')])).to.equal(0);
  });

  it('a node that stops removes its own entries and announces them', async () => {
    const a = node('node-a');
    await a.registry.start();
    await a.presence.join('r1', 's1', ann);
    await a.calls.join('r1', callPeer('p1'), 4);
    await a.registry.stop();
    expect(a.cleanups).to.deep.equal([{ left: [{ roomId: 'r1', participant: ann }], peersLeft: [{ roomId: 'r1', peerId: 'p1', userId: 'user-of-p1', name: 'Name p1' }] }]);
    expect(await a.presence.list('r1')).to.deep.equal([]);
    expect(await redis.client.zScore(keys.nodes, 'node-a')).to.equal(null);
  });

  it('a node taken for dead while it ran indexes its rooms afresh, so that its next death is cleaned up too', async () => {
    const a = node('node-a');
    const survivor = node('node-b');
    registries.push(a.registry);
    await a.registry.start();
    await a.presence.join('r1', 's1', ann);
    // What a survivor's reaping leaves: the entries, the index and the heartbeat gone.
    await survivor.presence.removeNode('node-a', 'r1');
    await redis.client.del([keys.nodePresenceRooms('node-a'), keys.nodeCallRooms('node-a')]);
    await redis.client.zRem(keys.nodes, 'node-a');
    await eventually(async () => (await redis.client.zScore(keys.nodes, 'node-a')) !== null, 5000, 'the next heartbeat');
    await a.presence.join('r1', 's2', ann);
    expect(await redis.client.sMembers(keys.nodePresenceRooms('node-a'))).to.deep.equal(['r1']);
  });

  assertOneSlotPerStep(redis, 5);
});
