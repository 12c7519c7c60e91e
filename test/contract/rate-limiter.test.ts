import { expect } from 'chai';
import { MemoryRateLimiter } from '../../src/infra/memory/memory-rate-limiter.js';
import { insuredRedisBudget, RedisRateLimiter } from '../../src/infra/redis/redis-rate-limiter.js';
import type { RedisClient } from '../../src/infra/redis/redis-client.js';
import { Breaker, redisDriverOutage } from '../../src/infra/breaker.js';
import type { RateLimiter } from '../../src/ports/realtime.js';
import { describeWithRedis } from '../helpers/cluster.js';
import { useRedis } from '../helpers/redis-server.js';
import { silentLogger } from '../helpers/silent-logger.js';
import { eventually } from '../helpers/socket-client.js';
import { registerRateLimiterContract } from './rate-limiter-contract.js';

registerRateLimiterContract('memory', { windowMs: 300, open: (points) => new MemoryRateLimiter(points, 300) });

/** Redis budgets as select-infra makes them (the limiter breaker's 250 ms deadline), one window of 1 s: the shortest Redis keeps. */
function redisLimiters() {
  const breakers: Breaker[] = [];
  after(() => breakers.forEach((b) => b.shutdown()));
  return (client: RedisClient, name: string, points: number): RateLimiter => {
    // A short reset: a test of recovery need not wait out the 2 s the server's breaker waits.
    const breaker = new Breaker({ name: 'redis-rate-limits', timeoutMs: 250, resetTimeoutMs: 200, isDriverOutage: redisDriverOutage }, silentLogger);
    breakers.push(breaker);
    return insuredRedisBudget(client, breaker, name, points, 1000);
  };
}

const sleep = (ms: number) => new Promise((r) => setTimeout(r, ms));

/** How often Redis has run `command` since it started (INFO commandstats). */
async function commandCalls(client: RedisClient, command: string): Promise<number> {
  const info = await client.info('commandstats');
  return Number(new RegExp(`^cmdstat_${command}:calls=(\\d+)`, 'm').exec(info)?.[1] ?? 0);
}

const consumeN = async (limiter: RateLimiter, key: string, n: number) => {
  const allowed: boolean[] = [];
  for (let i = 0; i < n; i++) allowed.push((await limiter.consume(key)).allowed);
  return allowed;
};

describeWithRedis('RateLimiter in Redis', () => {
  const redis = useRedis();
  const limiter = redisLimiters();
  let made = 0;
  registerRateLimiterContract('Redis', { windowMs: 1000, open: (points) => limiter(redis.client, `limit-${++made}`, points) });

  describe('across nodes', () => {
    it('limiters of one name share one budget (a cluster-wide limit); other names count apart', async () => {
      const [a, b, other] = [limiter(redis.client, 'messages', 2), limiter(redis.client, 'messages', 2), limiter(redis.client, 'http', 2)];
      expect(await consumeN(a, 'u1', 1)).to.deep.equal([true]);
      expect(await consumeN(b, 'u1', 2)).to.deep.equal([true, false]);
      expect(await consumeN(other, 'u1', 2)).to.deep.equal([true, true]);
    });

    it('a node holds points ahead of use, and all nodes together never get more than the budget', async () => {
      // A budget of 100 is leased in batches of 10: three nodes sending by turns.
      const nodes = [0, 1, 2].map(() => limiter(redis.client, 'messages', 100));
      let allowed = 0;
      for (let i = 0; i < 150; i++) if ((await nodes[i % 3]!.consume('u1')).allowed) allowed++;
      expect(allowed).to.be.at.most(100);
      // What each node still holds is at most one batch: the budget is refused early by that, never late.
      expect(allowed).to.be.at.least(100 - 3 * 10);
    });

    it('a window under a second, or not in whole seconds, ends on time (PEXPIRE)', async () => {
      const l = new RedisRateLimiter(redis.client, 'short', 1, 300);
      expect((await l.consume('k')).allowed).to.equal(true);
      const refused = await l.consume('k');
      expect(refused.allowed === false && refused.retryAfterMs <= 300).to.equal(true);
      await sleep(320);
      expect((await l.consume('k')).allowed).to.equal(true);
    });

    it('a spent window is refused without asking Redis again', async () => {
      const l = new RedisRateLimiter(redis.client, 'spent', 1, 5000);
      await l.consume('k');
      await l.consume('k');
      const before = await commandCalls(redis.client, 'evalsha');
      for (let i = 0; i < 20; i++) expect((await l.consume('k')).allowed).to.equal(false);
      expect(await commandCalls(redis.client, 'evalsha')).to.equal(before);
    });
  });
});

// Its own server: these tests pause and kill it.
describeWithRedis('RateLimiter in Redis: Redis paused, killed, back', () => {
  const redis = useRedis();
  const limiter = redisLimiters();
  const timed = async <T>(fn: () => Promise<T>) => {
    const started = Date.now();
    const value = await fn();
    return { value, ms: Date.now() - started };
  };

  it('Redis paused: each answer comes within the breaker deadline, from a per-node budget that still limits', async () => {
    const l = limiter(redis.client, 'handshakes', 2);
    await l.consume('warm-up');
    redis.server.pause();
    try {
      const { value, ms } = await timed(() => consumeN(l, 'ip-1', 3));
      expect(value).to.deep.equal([true, true, false]);
      // Three deadlines of 250 ms at most (the breaker opens after three timeouts).
      expect(ms).to.be.below(1200);
      const refused = await l.consume('ip-1');
      expect(refused.allowed === false && refused.retryAfterMs > 0 && refused.retryAfterMs <= 1000).to.equal(true);
    } finally {
      redis.server.resume();
    }
  });

  it('Redis killed: the per-node budget limits, answering at once', async () => {
    const l = limiter(redis.client, 'handshakes', 2);
    await redis.server.kill();
    const { value, ms } = await timed(() => consumeN(l, 'ip-1', 3));
    expect(value).to.deep.equal([true, true, false]);
    expect(ms).to.be.below(800);
  });

  it('Redis back: the limiters count in the shared budget again, by themselves', async () => {
    const [a, b] = [limiter(redis.client, 'messages', 2), limiter(redis.client, 'messages', 2)];
    await redis.server.kill();
    expect(await consumeN(a, 'u1', 3)).to.deep.equal([true, true, false]);
    await redis.server.start();
    // Shared again once a's two consumes of a fresh key leave b nothing.
    let probe = 0;
    await eventually(
      async () => {
        const key = `probe-${++probe}`;
        await consumeN(a, key, 2);
        return (await b.consume(key)).allowed === false;
      },
      5000,
      'the limiters to share a budget in Redis again',
    );
  });
});
