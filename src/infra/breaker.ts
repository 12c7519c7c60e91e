import CircuitBreaker from 'opossum';
import { AppError } from '../domain/app-error.js';
import type { Logger } from '../ports/logger.js';

export interface BreakerOptions {
  name: string;
  /** A call slower than this fails (the dependency hangs: paused, black-holed). */
  timeoutMs: number;
  /** How long the breaker stays open before it lets one trial call through. */
  resetTimeoutMs?: number;
  /**
   * Which failures are the dependency's (they count toward opening, and reach the caller as
   * UNAVAILABLE). Default: UNAVAILABLE AppErrors, which the stores raise for outages.
   */
  isOutage?: (err: unknown) => boolean;
}

const unavailableAppError = (err: unknown) => err instanceof AppError && err.code === 'UNAVAILABLE';

/** For clients that surface connection failures as plain errors (node-redis). */
export const anyErrorButAppErrors = (err: unknown) => unavailableAppError(err) || (err instanceof Error && !(err instanceof AppError));

export type BreakerState = 'closed' | 'open' | 'half-open';

/**
 * A circuit breaker (opossum) in front of one dependency. Every call gets a deadline; when
 * most recent calls fail, the breaker opens and further calls fail at once with
 * UNAVAILABLE instead of each waiting out its own timeout. Only outages count (timeouts,
 * and UNAVAILABLE, which the stores and Redis ports raise for connection failures); any
 * other error passes through untouched.
 */
export class Breaker {
  private readonly breaker: CircuitBreaker<[() => Promise<unknown>], unknown>;

  private readonly isOutage: (err: unknown) => boolean;

  constructor(
    private readonly options: BreakerOptions,
    logger: Logger,
  ) {
    this.isOutage = options.isOutage ?? unavailableAppError;
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
      errorFilter: (err: unknown) => !this.isOutage(err),
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
      if (err instanceof AppError) throw err;
      const code = (err as { code?: string }).code;
      if (code === 'EOPENBREAKER') throw new AppError('UNAVAILABLE', `${this.options.name} is unavailable; try again shortly`);
      if (code === 'ETIMEDOUT') throw new AppError('UNAVAILABLE', `${this.options.name} did not answer in time; try again`);
      if (this.isOutage(err)) throw new AppError('UNAVAILABLE', `${this.options.name} is unavailable; try again shortly`);
      throw err;
    }
  }

  shutdown(): void {
    this.breaker.shutdown();
  }
}

/**
 * Returns `target` with every method except `except` run through `breaker`. Used on the
 * store and on the Redis-backed ports, so each call to a dependency has a deadline and an
 * outage fails fast everywhere without wrapping each method by hand.
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
