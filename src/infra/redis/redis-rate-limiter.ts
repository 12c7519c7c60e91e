import { RateLimiterRedis } from 'rate-limiter-flexible';
import type { RateDecision, RateLimiter } from '../../ports/realtime.js';
import { consumeFrom } from '../memory/memory-rate-limiter.js';
import type { RedisClient } from './redis-client.js';

/**
 * A cluster-wide budget (rate-limiter-flexible's RateLimiterRedis). It fails when Redis
 * does: guard it and give it insurance (InsuredRateLimiter) where it is composed.
 */
export class RedisRateLimiter implements RateLimiter {
  private readonly limiter: RateLimiterRedis;

  constructor(redis: RedisClient, name: string, points: number, durationMs: number) {
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
