import { RateLimiterRes, type RateLimiterAbstract } from 'rate-limiter-flexible';
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

const ALLOWED: Promise<RateDecision> = Promise.resolve({ allowed: true });

/**
 * A fixed-window budget per key in process memory, with the semantics of
 * rate-limiter-flexible's RateLimiterMemory (which it replaces on the per-event hot path):
 * the window opens at a key's first consume and lasts `durationMs`; every consume counts,
 * refused ones included; past `points` the answer is "refused, retry when the window ends".
 * Expired windows are swept at most once per window length instead of one timer per key
 * (measured: a timer and two promises per event were ~2 µs and most of this module's GC).
 */
export class MemoryRateLimiter implements RateLimiter {
  private readonly windows = new Map<string, { used: number; resetAt: number }>();
  private nextSweep = 0;

  constructor(
    private readonly points: number,
    private readonly durationMs: number,
  ) {}

  consume(key: string, points = 1): Promise<RateDecision> {
    const now = Date.now();
    let w = this.windows.get(key);
    if (w === undefined || w.resetAt <= now) {
      if (now >= this.nextSweep) this.sweep(now);
      w = { used: 0, resetAt: now + this.durationMs };
      this.windows.set(key, w);
    }
    w.used += points;
    if (w.used <= this.points) return ALLOWED;
    return Promise.resolve({ allowed: false, retryAfterMs: Math.max(1, w.resetAt - now) });
  }

  private sweep(now: number): void {
    this.nextSweep = now + Math.max(this.durationMs, 1000);
    for (const [key, w] of this.windows) if (w.resetAt <= now) this.windows.delete(key);
  }
}
