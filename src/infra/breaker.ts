import CircuitBreaker from 'opossum';
import { AppError, isOutage, isUnavailable, unavailable } from '../domain/app-error.js';
import type { Logger } from '../ports/logger.js';

export interface BreakerOptions {
  name: string;
  /** A call slower than this fails (the dependency hangs: paused, black-holed). */
  timeoutMs: number;
  /** How long the breaker stays open before it lets one trial call through. */
  resetTimeoutMs?: number;
  /**
   * Failures of the dependency's driver that are outages though they are not UNAVAILABLE
   * AppErrors. The stores translate their drivers' errors themselves (they know the codes)
   * and need none; node-redis does not, see `redisDriverOutage`.
   */
  isDriverOutage?: (err: unknown) => boolean;
}

/** node-redis reports a lost connection, a refused command and a closed client alike as plain errors. */
export const redisDriverOutage = (err: unknown): boolean => err instanceof Error && !(err instanceof AppError);

export type BreakerState = 'closed' | 'open' | 'half-open';

/** At most one log line per breaker per this many ms: an outage fails many calls at once. */
const LOG_INTERVAL_MS = 1000;

/**
 * The one guard in front of a dependency (opossum). Every call gets a deadline; when most
 * recent calls fail, the breaker opens and further calls fail at once with UNAVAILABLE
 * instead of each waiting out its own timeout. This is also where an outage becomes
 * UNAVAILABLE for the caller and where its cause is logged, once: a timeout, a driver
 * failure (`isDriverOutage`), or an UNAVAILABLE a store raised with its driver's error as
 * `cause`. Only outages count toward opening (not an UNAVAILABLE that is one request's alone,
 * see `unconfirmed`); any other error passes through untouched.
 */
export class Breaker {
  private readonly breaker: CircuitBreaker<[() => Promise<unknown>], unknown>;
  private readonly isDriverOutage: (err: unknown) => boolean;
  private lastLogAt = 0;
  private unlogged = 0;

  constructor(
    private readonly options: BreakerOptions,
    private readonly logger: Logger,
  ) {
    this.isDriverOutage = options.isDriverOutage ?? (() => false);
    this.breaker = new CircuitBreaker((fn: () => Promise<unknown>) => fn(), {
      timeout: options.timeoutMs,
      resetTimeout: options.resetTimeoutMs ?? 2000,
      errorThresholdPercentage: 50,
      rollingCountTimeout: 10_000,
      volumeThreshold: 3,
      // Nothing reads opossum's latency percentiles or snapshots; left on, every call
      // records its latency into an array and every second emits a snapshot.
      rollingPercentilesEnabled: false,
      enableSnapshots: false,
      // Only outages count toward opening: a bad entry or a missing room is not the
      // dependency's fault, and must not cut everyone else off.
      errorFilter: (err: unknown) => !(isOutage(err) || this.isDriverOutage(err)),
    });
    this.breaker.on('open', () => logger.warn('circuit breaker open', { dependency: options.name }));
    this.breaker.on('halfOpen', () => logger.info('circuit breaker half-open: trying', { dependency: options.name }));
    this.breaker.on('close', () => logger.info('circuit breaker closed', { dependency: options.name }));
  }

  get name(): string {
    return this.options.name;
  }

  get state(): BreakerState {
    return this.breaker.opened ? 'open' : this.breaker.halfOpen ? 'half-open' : 'closed';
  }

  async run<T>(fn: () => Promise<T>): Promise<T> {
    try {
      return (await this.breaker.fire(fn)) as T;
    } catch (err) {
      throw this.translate(err);
    }
  }

  shutdown(): void {
    this.breaker.shutdown();
  }

  private translate(err: unknown): unknown {
    const { name } = this.options;
    if (err instanceof AppError) {
      if (isUnavailable(err) && err.cause !== undefined) this.logCause(err.cause);
      return err;
    }
    const code = (err as { code?: string }).code;
    // Open: the dependency was not called, so there is no new cause to log.
    if (code === 'EOPENBREAKER') return unavailable(`${name} is unavailable; try again shortly`);
    if (code === 'ETIMEDOUT') {
      this.logCause(err);
      return unavailable(`${name} did not answer in time; try again`, err);
    }
    if (this.isDriverOutage(err)) {
      this.logCause(err);
      return unavailable(`${name} is unavailable; try again shortly`, err);
    }
    return err;
  }

  private logCause(cause: unknown): void {
    const now = Date.now();
    if (now - this.lastLogAt < LOG_INTERVAL_MS) {
      this.unlogged++;
      return;
    }
    const meta: Record<string, unknown> = { dependency: this.options.name, err: cause instanceof Error ? cause.message : String(cause) };
    if (this.unlogged > 0) meta.alsoFailedSinceLastLog = this.unlogged;
    this.logger.warn('dependency call failed', meta);
    this.lastLogAt = now;
    this.unlogged = 0;
  }
}

/**
 * Returns `target` with every method except `except` run through `breaker`: the one way a
 * request path reaches a dependency (the store and every Redis-backed port), so each call
 * has a deadline and an outage fails fast everywhere without wrapping each method by hand.
 * Background loops (the queue consumer, the node registry) hold their own clients and
 * handle failures themselves: they retry, they never answer a client.
 */
export function guardMethods<T extends object>(target: T, breaker: Breaker, except: string[] = []): T {
  const skip = new Set(except);
  return new Proxy(target, {
    get(obj, prop, receiver) {
      const value = Reflect.get(obj, prop, receiver) as unknown;
      if (typeof value !== 'function' || typeof prop !== 'string' || skip.has(prop)) return value;
      return (...args: unknown[]) => breaker.run(() => (value as (...a: unknown[]) => Promise<unknown>).apply(obj, args));
    },
  });
}
