import { expect } from 'chai';
import { MemoryConnectionCounter } from '../../src/infra/memory/memory-connection-counter.js';
import { RedisConnectionCounter } from '../../src/infra/redis/redis-connection-counter.js';
import { keys } from '../../src/infra/redis/redis-keys.js';
import { describeWithRedis } from '../helpers/cluster.js';
import { useRedis } from '../helpers/redis-server.js';
import { assertOneSlotPerStep } from '../helpers/redis-steps.js';
import { registerConnectionCounterContract, type ConnectionCaps } from './connection-counter-contract.js';

registerConnectionCounterContract('memory', (caps) => new MemoryConnectionCounter(caps.perUser, caps.perIp));

describeWithRedis('ConnectionCounter in Redis', () => {
  const redis = useRedis();
  const NODE_TIMEOUT_MS = 5000;
  /** A node's counter, its heartbeat stamped as NodeRegistry would (`beatAgoMs` ago). */
  const nodeCounter = async (nodeId: string, caps: ConnectionCaps, beatAgoMs = 0) => {
    await redis.client.zAdd(keys.nodes, { score: Date.now() - beatAgoMs, value: nodeId });
    return new RedisConnectionCounter(redis.client, nodeId, caps.perUser, caps.perIp, NODE_TIMEOUT_MS);
  };
  registerConnectionCounterContract('Redis', (caps) => nodeCounter('node-a', caps));

  describe('across nodes', () => {
    const caps = { perUser: 2, perIp: 10 };

    it("caps count every node's connections", async () => {
      const [a, b] = [await nodeCounter('node-a', caps), await nodeCounter('node-b', caps)];
      expect(await a.acquire('u1', 'ip-1', 'c1')).to.equal('ok');
      expect(await b.acquire('u1', 'ip-1', 'c2')).to.equal('ok');
      expect(await a.acquire('u1', 'ip-1', 'c3')).to.equal('user');
      await b.release('u1', 'ip-1', 'c2');
      expect(await a.acquire('u1', 'ip-1', 'c3')).to.equal('ok');
    });

    it('the slots of a node that died without releasing them are freed once they stand in the way', async () => {
      const dead = await nodeCounter('node-dead', caps);
      await dead.acquire('u1', 'ip-1', 'c1');
      await dead.acquire('u1', 'ip-1', 'c2');
      await redis.client.zAdd(keys.nodes, { score: Date.now() - NODE_TIMEOUT_MS - 1000, value: 'node-dead' });
      const survivor = await nodeCounter('node-b', caps);
      expect(await survivor.acquire('u1', 'ip-1', 'c3')).to.equal('ok');
      expect(await survivor.acquire('u1', 'ip-1', 'c4')).to.equal('ok');
      expect(await survivor.acquire('u1', 'ip-1', 'c5')).to.equal('user');
    });

    it('the slots of a node whose heartbeat is gone (reaped) are freed as well', async () => {
      const gone = await nodeCounter('node-gone', caps);
      await gone.acquire('u1', 'ip-1', 'c1');
      await gone.acquire('u1', 'ip-1', 'c2');
      await redis.client.zRem(keys.nodes, 'node-gone');
      expect(await (await nodeCounter('node-b', caps)).acquire('u1', 'ip-1', 'c3')).to.equal('ok');
    });

    it('the slots of a live node stay', async () => {
      const live = await nodeCounter('node-a', caps, NODE_TIMEOUT_MS / 2);
      await live.acquire('u1', 'ip-1', 'c1');
      await live.acquire('u1', 'ip-1', 'c2');
      expect(await (await nodeCounter('node-b', caps)).acquire('u1', 'ip-1', 'c3')).to.equal('user');
    });
  });

  assertOneSlotPerStep(redis, 20);
});
