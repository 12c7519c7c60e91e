import type { RateDecision, RateLimiter } from '../ports/realtime.js';

/**
 * A shared budget with a local one of the same size to fall back on. While the shared one
 * cannot answer (its Redis is down, slow, or its breaker open), each node keeps limiting on
 * its own instead of waiting for Redis or letting everything through.
 */
export class InsuredRateLimiter implements RateLimiter {
  constructor(
    private readonly shared: RateLimiter,
    private readonly insurance: RateLimiter,
  ) {}

  async consume(key: string, points = 1): Promise<RateDecision> {
    try {
      return await this.shared.consume(key, points);
    } catch {
      return this.insurance.consume(key, points);
    }
  }
}
