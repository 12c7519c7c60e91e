import { RateLimiterMemory, RateLimiterRes, type RateLimiterAbstract } from 'rate-limiter-flexible';
import type { RateDecision, RateLimiter } from '../../ports/realtime.js';

/** Consumes from a rate-limiter-flexible limiter and turns its rejection into a decision. */
export async function consumeFrom(limiter: RateLimiterAbstract, key: string, points: number): Promise<RateDecision> {
  try {
    await limiter.consume(key, points);
    return { allowed: true };
  } catch (rejection) {
    if (rejection instanceof RateLimiterRes) return { allowed: false, retryAfterMs: Math.max(1, rejection.msBeforeNext) };
    throw rejection;
  }
}

/** A rate-limiter-flexible memory bucket behind the RateLimiter port. */
export class MemoryRateLimiter implements RateLimiter {
  private readonly limiter: RateLimiterMemory;

  constructor(points: number, durationMs: number) {
    this.limiter = new RateLimiterMemory({ points, duration: durationMs / 1000 });
  }

  consume(key: string, points = 1): Promise<RateDecision> {
    return consumeFrom(this.limiter, key, points);
  }
}
