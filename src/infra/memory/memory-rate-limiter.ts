import { RateLimiterMemory, RateLimiterRes } from 'rate-limiter-flexible';
import type { RateDecision, RateLimiter } from '../../ports/realtime.js';

/** A rate-limiter-flexible memory bucket behind the RateLimiter port. */
export class MemoryRateLimiter implements RateLimiter {
  private readonly limiter: RateLimiterMemory;

  constructor(points: number, durationMs: number) {
    this.limiter = new RateLimiterMemory({ points, duration: durationMs / 1000 });
  }

  async consume(key: string, points = 1): Promise<RateDecision> {
    try {
      await this.limiter.consume(key, points);
      return { allowed: true };
    } catch (rejection) {
      if (rejection instanceof RateLimiterRes) return { allowed: false, retryAfterMs: Math.max(1, rejection.msBeforeNext) };
      throw rejection;
    }
  }
}
