import { RateLimiterRedis } from 'rate-limiter-flexible';
import type { RateDecision, RateLimiter } from '../../ports/realtime.js';
import type { Breaker } from '../breaker.js';
import { consumeFrom, MemoryRateLimiter } from '../memory/memory-rate-limiter.js';
import type { RedisClient } from './redis-client.js';

/**
 * A cluster-wide budget (RateLimiterRedis) behind the Redis circuit breaker, with an
 * in-memory insurance budget of the same size: while Redis is down, paused or slow, each
 * node keeps limiting on its own instead of waiting on Redis or letting everything through.
 */
export class RedisRateLimiter implements RateLimiter {
  private readonly limiter: RateLimiterRedis;
  private readonly insurance: MemoryRateLimiter;

  constructor(
    redis: RedisClient,
    private readonly breaker: Breaker,
    name: string,
    points: number,
    durationMs: number,
  ) {
    // rate-limiter-flexible keeps Redis windows in whole seconds (EX) and reads 0 as "never
    // expires": a 300 ms window would refuse the key for good, and 1500 ms would be 1 s.
    if (!Number.isInteger(durationMs / 1000) || durationMs < 1000) {
      throw new RangeError(`rate limit ${name}: a Redis window must be a whole number of seconds, not ${durationMs} ms`);
    }
    this.limiter = new RateLimiterRedis({
      storeClient: redis,
      useRedisPackage: true,
      rejectIfRedisNotReady: true,
      keyPrefix: `rl:${name}`,
      points,
      duration: durationMs / 1000,
    });
    this.insurance = new MemoryRateLimiter(points, durationMs);
  }

  async consume(key: string, points = 1): Promise<RateDecision> {
    try {
      return await this.breaker.run(() => consumeFrom(this.limiter, key, points));
    } catch {
      return this.insurance.consume(key, points);
    }
  }
}
