import { RateLimiterRedis } from 'rate-limiter-flexible';
import type { RateDecision, RateLimiter } from '../../ports/realtime.js';
import { guardMethods, type Breaker } from '../breaker.js';
import { InsuredRateLimiter } from '../insured-rate-limiter.js';
import { consumeFrom, MemoryRateLimiter } from '../memory/memory-rate-limiter.js';
import type { RedisClient } from './redis-client.js';

/**
 * A cluster-wide budget (rate-limiter-flexible's RateLimiterRedis). It fails when Redis
 * does: the server runs it guarded and insured (`insuredRedisBudget`).
 */
export class RedisRateLimiter implements RateLimiter {
  private readonly limiter: RateLimiterRedis;

  constructor(redis: RedisClient, name: string, points: number, durationMs: number) {
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
  }

  consume(key: string, points = 1): Promise<RateDecision> {
    return consumeFrom(this.limiter, key, points);
  }
}

/**
 * A cluster-wide budget as the server runs it: the Redis budget behind `breaker`, insured by
 * a local budget of the same size for when Redis cannot answer.
 */
export function insuredRedisBudget(redis: RedisClient, breaker: Breaker, name: string, points: number, durationMs: number): RateLimiter {
  return new InsuredRateLimiter(guardMethods(new RedisRateLimiter(redis, name, points, durationMs), breaker), new MemoryRateLimiter(points, durationMs));
}
