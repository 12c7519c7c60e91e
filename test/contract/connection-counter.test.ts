import { expect } from 'chai';
import { MemoryConnectionCounter } from '../../src/infra/memory/memory-connection-counter.js';
import { Breaker, guardMethods } from '../../src/infra/breaker.js';
import { OptimisticConnectionCounter } from '../../src/infra/redis/optimistic-connection-counter.js';
import { RedisConnectionCounter } from '../../src/infra/redis/redis-connection-counter.js';
import { keys } from '../../src/infra/redis/redis-keys.js';
import { describeWithRedis } from '../helpers/cluster.js';
import { useRedis } from '../helpers/redis-server.js';
import { silentLogger } from '../helpers/silent-logger.js';
import { eventually } from '../helpers/socket-client.js';
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
  /** What the server runs: a node's counter admitting ahead of Redis where it knows there is room. */
  const aheadCounter = async (nodeId: string, caps: ConnectionCaps) => new OptimisticConnectionCounter(await nodeCounter(nodeId, caps), caps, silentLogger);
  registerConnectionCounterContract('Redis, admitting ahead of its answer', (caps) => aheadCounter('node-a', caps));

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

  describe('admitting ahead of the answer (no round trip on the connect path)', () => {
    const held = (userId: string) => redis.client.sCard(keys.userConnections(userId));
    /** Resolves to the answer, or to 'waiting' if none came within `ms`. */
    const within = <T>(p: Promise<T>, ms: number) => Promise.race([p, new Promise<'waiting'>((r) => setTimeout(() => r('waiting'), ms))]);
    /** Runs `fn` with Redis stopped (SIGSTOP), and lets it go on whatever happens. */
    const whilePaused = async <T>(fn: () => Promise<T>): Promise<T> => {
      redis.server.pause();
      try {
        return await fn();
      } finally {
        redis.server.resume();
      }
    };

    it("admits a user's next connection while Redis does not answer, and records its slot once it does", async () => {
      const counter = await aheadCounter('node-a', { perUser: 3, perIp: 10 });
      expect(await counter.acquire('u1', 'ip-1', 'c1')).to.equal('ok');
      await whilePaused(async () => expect(await within(counter.acquire('u1', 'ip-1', 'c2'), 500)).to.equal('ok'));
      await eventually(async () => (await held('u1')) === 2, 5000, 'the slot recorded');
    });

    it("a user's first connection on a node waits for Redis: at the cap on other nodes, it is refused", async () => {
      const caps = { perUser: 2, perIp: 10 };
      const [a, b] = [await aheadCounter('node-a', caps), await aheadCounter('node-b', caps)];
      expect(await b.acquire('u1', 'ip-1', 'b1')).to.equal('ok');
      expect(await b.acquire('u1', 'ip-1', 'b2')).to.equal('ok');
      // In an array: an async function returning the promise itself would wait for it.
      const [first] = await whilePaused(async () => {
        const answer = a.acquire('u1', 'ip-1', 'a1');
        expect(await within(answer, 300)).to.equal('waiting');
        return [answer];
      });
      expect(await first).to.equal('user');
    });

    it('admits one connection per set ahead of an answer: the next one, of the user or of the address, waits for it', async () => {
      const counter = await aheadCounter('node-a', { perUser: 2, perIp: 10 });
      expect(await counter.acquire('u1', 'ip-1', 'c1')).to.equal('ok');
      expect(await counter.acquire('u2', 'ip-1', 'c2')).to.equal('ok');
      const [sameUser, sameAddress] = await whilePaused(async () => {
        expect(await within(counter.acquire('u1', 'ip-1', 'c3'), 500)).to.equal('ok');
        const waiting = [counter.acquire('u1', 'ip-1', 'c4'), counter.acquire('u2', 'ip-1', 'c5')];
        expect(await within(Promise.race(waiting), 300)).to.equal('waiting');
        return waiting;
      });
      expect(await sameUser).to.equal('user');
      expect(await sameAddress).to.equal('ok');
      expect(await held('u1')).to.equal(2);
    });

    it('a node whose view is stale admits one over a cap other nodes filled since, counts it, and refuses the next', async () => {
      const caps = { perUser: 2, perIp: 10 };
      const [a, b] = [await aheadCounter('node-a', caps), await aheadCounter('node-b', caps)];
      expect(await a.acquire('u1', 'ip-1', 'a0')).to.equal('ok');
      expect(await b.acquire('u1', 'ip-1', 'b1')).to.equal('ok');
      expect(await a.acquire('u1', 'ip-1', 'a1')).to.equal('ok');
      await eventually(async () => (await held('u1')) === 3, 5000, 'the connection over the cap counted');
      expect(await a.acquire('u1', 'ip-1', 'a2')).to.equal('user');
      expect(await b.acquire('u1', 'ip-1', 'b2')).to.equal('user');
      await b.release('u1', 'ip-1', 'b1');
      expect(await a.acquire('u1', 'ip-1', 'a3')).to.equal('user');
      await a.release('u1', 'ip-1', 'a1');
      expect(await a.acquire('u1', 'ip-1', 'a4')).to.equal('ok');
      expect(await held('u1')).to.equal(2);
    });

    it('two nodes racing for one user: each admits exactly one ahead of Redis, and Redis counts every admitted connection', async () => {
      const caps = { perUser: 3, perIp: 100 };
      const nodes = [await aheadCounter('node-a', caps), await aheadCounter('node-b', caps)];
      for (const [n, node] of nodes.entries()) expect(await node.acquire('u1', 'ip-1', `first-${n}`)).to.equal('ok');
      const attempts = await whilePaused(async () => {
        const all = nodes.map((node, n) => Array.from({ length: 5 }, (_, i) => node.acquire('u1', 'ip-1', `n${n}-c${i}`)));
        for (const [n, tries] of all.entries()) {
          const early = await Promise.all(tries.map((t) => within(t, 300)));
          expect(early.filter((a) => a === 'ok'), `node ${n} ahead of Redis`).to.have.length(1);
        }
        return all;
      });
      const answers = await Promise.all(attempts.flat());
      const admitted = nodes.length + answers.filter((a) => a === 'ok').length;
      expect(admitted).to.be.within(caps.perUser, caps.perUser + nodes.length);
      expect(await held('u1')).to.equal(admitted);
      for (const [n, node] of nodes.entries()) expect(await node.acquire('u1', 'ip-1', `late-${n}`)).to.equal('user');
    });

    it("a release sent while its take is on its way leaves no slot behind, and takes none of another connection's", async () => {
      const counter = await aheadCounter('node-a', { perUser: 3, perIp: 10 });
      expect(await counter.acquire('u1', 'ip-1', 'c1')).to.equal('ok');
      const [released] = await whilePaused(async () => {
        expect(await within(counter.acquire('u1', 'ip-1', 'c2'), 500)).to.equal('ok');
        return [counter.release('u1', 'ip-1', 'c2')];
      });
      await released;
      expect(await redis.client.sMembers(keys.userConnections('u1'))).to.deep.equal(['node-a|c1']);
      expect(await redis.client.sCard(keys.ipConnections('ip-1'))).to.equal(1);
      expect(await redis.client.hKeys(keys.nodeConnections('node-a'))).to.deep.equal(['c1']);
    });

    it('after a step fails (the handshake admits), nobody is admitted ahead until Redis answers again; its close frees no one', async () => {
      const caps = { perUser: 3, perIp: 10 };
      const breaker = new Breaker({ name: 'redis', timeoutMs: 200 }, silentLogger);
      const shared = guardMethods(await nodeCounter('node-a', caps), breaker);
      const counter = new OptimisticConnectionCounter(shared, caps, silentLogger);
      try {
        for (const c of ['c1', 'c2', 'c3']) expect(await counter.acquire('u1', 'ip-1', c)).to.equal('ok');
        // The cap is reached: the next step waits for Redis, which does not answer in time.
        await whilePaused(async () => {
          const failed = await counter.acquire('u1', 'ip-1', 'admitted-on-failure').then(
            () => null,
            (err: unknown) => err,
          );
          expect(failed, 'the step failed').to.be.instanceOf(Error);
        });
        await counter.release('u1', 'ip-1', 'admitted-on-failure');
        expect(await counter.acquire('u1', 'ip-1', 'c4')).to.equal('user');
        await counter.release('u1', 'ip-1', 'c1');
        expect(await counter.acquire('u1', 'ip-1', 'c5')).to.equal('ok');
        expect(await held('u1')).to.equal(3);
      } finally {
        breaker.shutdown();
      }
    });

    it('forgets the sets it no longer has connections in, once they are unused for a while', async () => {
      let now = 1_000_000;
      const counter = new OptimisticConnectionCounter(await nodeCounter('node-a', { perUser: 3, perIp: 10 }), { perUser: 3, perIp: 10 }, silentLogger, () => now);
      for (let i = 0; i < 20; i++) {
        expect(await counter.acquire(`u${i}`, `ip-${i}`, `c${i}`)).to.equal('ok');
        await counter.release(`u${i}`, `ip-${i}`, `c${i}`);
      }
      expect(counter.viewCount).to.equal(40);
      now += 10_001;
      expect(await counter.acquire('u-last', 'ip-last', 'c-last')).to.equal('ok');
      expect(counter.viewCount).to.equal(2);
    });
  });

  assertOneSlotPerStep(redis, 20);
});
