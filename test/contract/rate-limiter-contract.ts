import { expect } from 'chai';
import type { RateDecision, RateLimiter } from '../../src/ports/realtime.js';

export interface RateLimiterFixture {
  /** The window every limiter of this implementation is made with (short: tests wait it out). */
  windowMs: number;
  /** A fresh limiter of `points` per `windowMs`, sharing nothing with earlier ones. */
  open(points: number): RateLimiter | Promise<RateLimiter>;
}

const sleep = (ms: number) => new Promise((r) => setTimeout(r, ms));
const allowedCount = (decisions: RateDecision[]) => decisions.filter((d) => d.allowed).length;

/**
 * The contract every RateLimiter keeps, as the handshake, chat:send, the event router and the
 * REST API rely on it: `points` per window and key, a refusal that says when to come back
 * (sent to the client as retryAfterMs), and a budget that comes back when the window ends.
 */
export function registerRateLimiterContract(name: string, fixture: RateLimiterFixture): void {
  describe(`RateLimiter contract: ${name}`, () => {
    const { windowMs } = fixture;
    const consumeN = async (limiter: RateLimiter, key: string, n: number) => {
      const decisions: RateDecision[] = [];
      for (let i = 0; i < n; i++) decisions.push(await limiter.consume(key));
      return decisions;
    };

    it('allows `points` consumes in a window and refuses the next', async () => {
      const limiter = await fixture.open(3);
      expect(await consumeN(limiter, 'k', 3)).to.deep.equal(Array(3).fill({ allowed: true }));
      expect((await limiter.consume('k')).allowed).to.equal(false);
    });

    it('a refusal says when to retry: after 0 ms and at most one window', async () => {
      const limiter = await fixture.open(1);
      await limiter.consume('k');
      const refused = await limiter.consume('k');
      if (refused.allowed) throw new Error('expected a refusal');
      expect(refused.retryAfterMs).to.be.above(0);
      expect(refused.retryAfterMs).to.be.at.most(windowMs);
    });

    it('a caller that waits retryAfterMs has its whole budget again', async () => {
      const limiter = await fixture.open(2);
      await consumeN(limiter, 'k', 2);
      const refused = await limiter.consume('k');
      if (refused.allowed) throw new Error('expected a refusal');
      // Waiting as long as the refusal said is what a client does; the margin covers timer and expiry rounding.
      await sleep(refused.retryAfterMs + 20);
      expect(allowedCount(await consumeN(limiter, 'k', 3))).to.equal(2);
    });

    it('counts each key on its own', async () => {
      const limiter = await fixture.open(2);
      await consumeN(limiter, 'a', 3);
      expect(allowedCount(await consumeN(limiter, 'b', 3))).to.equal(2);
    });

    it('consume(key, points) takes that many points; more than the budget is refused', async () => {
      const limiter = await fixture.open(3);
      expect(await limiter.consume('k', 2)).to.deep.equal({ allowed: true });
      expect((await limiter.consume('k', 2)).allowed).to.equal(false);
      expect((await limiter.consume('big', 4)).allowed).to.equal(false);
    });

    it('concurrent consumes of one key: exactly `points` allowed', async () => {
      const limiter = await fixture.open(3);
      const decisions = await Promise.all(Array.from({ length: 10 }, () => limiter.consume('k')));
      expect(allowedCount(decisions)).to.equal(3);
    });
  });
}
