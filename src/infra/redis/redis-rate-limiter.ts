import type { RateDecision, RateLimiter } from '../../ports/realtime.js';
import type { Breaker } from '../breaker.js';
import { InsuredRateLimiter } from '../insured-rate-limiter.js';
import { MemoryRateLimiter } from '../memory/memory-rate-limiter.js';
import { LuaScript } from './lua-script.js';
import type { RedisClient } from './redis-client.js';

/**
 * Takes between `need` and `want` points from a fixed window of `limit` (KEYS[1]; ARGV: need,
 * want, limit, window ms). Returns {granted, ms left in the window}; granted is 0 when fewer
 * than `need` are left, and nothing is taken then. A key left without a TTL gets one.
 */
const TAKE = new LuaScript(`
local used = tonumber(redis.call('GET', KEYS[1]) or '0')
local left = tonumber(ARGV[3]) - used
local ttl = redis.call('PTTL', KEYS[1])
if left < tonumber(ARGV[1]) then
  if ttl < 0 then redis.call('PEXPIRE', KEYS[1], ARGV[4]) ttl = tonumber(ARGV[4]) end
  return {0, ttl}
end
local granted = math.min(tonumber(ARGV[2]), left)
redis.call('INCRBY', KEYS[1], granted)
if ttl < 0 then redis.call('PEXPIRE', KEYS[1], ARGV[4]) ttl = tonumber(ARGV[4]) end
return {granted, ttl}
`);

/** The points one node holds of a key's window, taken from Redis ahead of use. */
interface Lease {
  points: number;
  /** When the window in Redis ends: the points held lapse with it. */
  endsAt: number;
  /** The window is spent in Redis until `endsAt` (it only fills up): refuse without asking. */
  spent: boolean;
  taking: Promise<void> | null;
}

const ALLOWED: Promise<RateDecision> = Promise.resolve({ allowed: true });

/**
 * A cluster-wide fixed-window budget in Redis, leased: a node takes points for a key in
 * batches (a tenth of the budget, at most 64) and spends them locally, taking the next batch
 * before the last is used up. A send therefore costs no Redis round trip of its own
 * (the chat path's one Redis step is the append), and the budget stays exact from above: all
 * nodes together never get more than `points` in a window. What a node holds when the
 * window ends lapses, so a key used on several nodes at once may be refused slightly early
 * (at most a batch per node per window), never late. Once Redis says a window is spent, the
 * node refuses locally until it ends: a flood of refused sends costs Redis nothing.
 *
 * It fails when Redis does: the server runs its Redis calls guarded, and insures it
 * (`insuredRedisBudget`).
 */
export class RedisRateLimiter implements RateLimiter {
  private readonly leases = new Map<string, Lease>();
  private readonly batch: number;
  private nextSweep = 0;

  /**
   * `guard` runs each Redis call (the server's breaker, for a deadline); the points a node
   * holds are spent without it, so a send whose points are in hand costs no breaker call.
   */
  constructor(
    private readonly redis: RedisClient,
    private readonly name: string,
    private readonly points: number,
    private readonly durationMs: number,
    private readonly guard: <T>(call: () => Promise<T>) => Promise<T> = (call) => call(),
  ) {
    this.batch = Math.max(1, Math.min(64, Math.floor(points / 10)));
  }

  async consume(key: string, points = 1): Promise<RateDecision> {
    for (;;) {
      const lease = this.leaseOf(key);
      if (lease.points >= points) {
        lease.points -= points;
        // Batches of one (budgets under 20) are never taken ahead: that would take from other nodes.
        if (this.batch > 1 && lease.points < this.batch / 2 && !lease.taking) this.refill(key, lease, 1, this.batch - lease.points);
        return ALLOWED;
      }
      if (lease.spent || points > this.points) return this.refused(lease);
      if (lease.taking) {
        // Concurrent consumes of one key wait for one take, then look again.
        await lease.taking;
        continue;
      }
      await this.refill(key, lease, points - lease.points, Math.max(points, this.batch) - lease.points);
      if (lease.points < points) return this.refused(lease);
    }
  }

  private refused(lease: Lease): RateDecision {
    return { allowed: false, retryAfterMs: Math.max(1, lease.endsAt - Date.now()) };
  }

  private refill(key: string, lease: Lease, need: number, want: number): Promise<void> {
    const taking = this.guard(() => TAKE.run(this.redis, [`rl:${this.name}:{${key}}`], [need, want, this.points, this.durationMs])).then(
      (reply) => {
        const [granted, ttl] = (reply as [number, number]).map(Number) as [number, number];
        const now = Date.now();
        // The window ended while this take was on its way: what was held lapsed with it.
        if (lease.endsAt <= now) lease.points = 0;
        lease.endsAt = now + Math.max(1, ttl);
        lease.points += granted;
        // Refused a single point: the window is spent for every node until it ends.
        lease.spent = granted === 0 && need === 1;
      },
    );
    lease.taking = taking;
    // A background refill that fails is retried by the next consume that needs it.
    void taking.then(
      () => (lease.taking = null),
      () => (lease.taking = null),
    );
    return taking;
  }

  private leaseOf(key: string): Lease {
    const now = Date.now();
    let lease = this.leases.get(key);
    if (lease !== undefined && lease.endsAt <= now && lease.taking) {
      // The window ended while a take is on its way: what is held lapsed with it.
      lease.points = 0;
      lease.spent = false;
    } else if (lease === undefined || lease.endsAt <= now) {
      if (now >= this.nextSweep) this.sweep(now);
      lease = { points: 0, endsAt: now, spent: false, taking: null };
      this.leases.set(key, lease);
    }
    return lease;
  }

  private sweep(now: number): void {
    this.nextSweep = now + Math.max(this.durationMs, 1000);
    for (const [key, lease] of this.leases) if (lease.endsAt <= now && !lease.taking) this.leases.delete(key);
  }
}

/**
 * A cluster-wide budget as the server runs it: the Redis budget behind `breaker`, insured by
 * a local budget of the same size for when Redis cannot answer.
 */
export function insuredRedisBudget(redis: RedisClient, breaker: Breaker, name: string, points: number, durationMs: number): RateLimiter {
  const shared = new RedisRateLimiter(redis, name, points, durationMs, (call) => breaker.run(call));
  return new InsuredRateLimiter(shared, new MemoryRateLimiter(points, durationMs));
}
