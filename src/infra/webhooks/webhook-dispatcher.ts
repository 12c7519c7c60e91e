import type { Logger } from '../../ports/logger.js';
import type { ClaimedDelivery, WebhookOutbox } from '../../ports/webhook-outbox.js';
import type { WebhookMetrics } from '../metrics.js';
import { signedHeaders } from './signing.js';

export interface WebhookBackoff {
  /** Delay after the first failed attempt. */
  baseMs: number;
  /** Each further failure multiplies the delay by this. */
  factor: number;
  /** No delay is longer than this. */
  maxMs: number;
}

export interface WebhookDispatcherOptions {
  /** The signing key (the bytes of WEBHOOK_SECRET). */
  key: Buffer;
  /** WEBHOOK_MAX_ATTEMPTS: attempts per delivery before it becomes a dead letter. */
  maxAttempts: number;
  /** A receiver that has not answered within this is a failed attempt (default 5 s). */
  timeoutMs?: number;
  /** Requests in flight at once on this node (default 16). */
  concurrency?: number;
  /** How long a claim is this node's (default 30 s); must outlast `timeoutMs`. */
  leaseMs?: number;
  /** Longest pause between two looks at the outbox when nothing woke the dispatcher (default 1 s). */
  pollMs?: number;
  /** Default: 5 s, ×4, at most 1 h (5 s, 20 s, 80 s, 5 min, 21 min, 1 h, …), each with jitter. */
  backoff?: WebhookBackoff;
}

export const DEFAULT_WEBHOOK_BACKOFF: WebhookBackoff = { baseMs: 5000, factor: 4, maxMs: 3_600_000 };

/**
 * The delay before the next attempt after `failures` failed ones: exponential, capped, and
 * "equal jitter" (between half and all of it), so that the deliveries a receiver outage
 * failed together do not all come back in the same instant.
 */
export function backoffDelay(failures: number, b: WebhookBackoff, random: () => number = Math.random): number {
  const full = Math.min(b.maxMs, b.baseMs * b.factor ** Math.max(0, failures - 1));
  return Math.round(full / 2 + (random() * full) / 2);
}

type Outcome = { ok: true } | { ok: false; reason: 'status' | 'timeout' | 'network' | 'stopped'; error: string };

/**
 * Delivers what the outbox holds, in the background: claims due deliveries (at most
 * `concurrency` in flight), POSTs each one signed, and completes, reschedules with backoff
 * or dead-letters it. Nothing it does is awaited by a request path, and what a receiver
 * answers goes no further than a log line and the outbox's `lastError`.
 */
export class WebhookDispatcher {
  private running = false;
  private loop: Promise<void> | null = null;
  private readonly inFlight = new Map<string, { abort: AbortController; done: Promise<void> }>();
  private wakeUp: (() => void) | null = null;
  /** A wake that came while the loop was not napping: its next nap returns at once. */
  private woken = false;
  private readonly timeoutMs: number;
  private readonly concurrency: number;
  private readonly leaseMs: number;
  private readonly pollMs: number;
  private readonly backoff: WebhookBackoff;

  constructor(
    private readonly outbox: WebhookOutbox,
    private readonly options: WebhookDispatcherOptions,
    private readonly logger: Logger,
    private readonly metrics: WebhookMetrics,
  ) {
    this.timeoutMs = options.timeoutMs ?? 5000;
    this.concurrency = options.concurrency ?? 16;
    this.leaseMs = Math.max(options.leaseMs ?? 30_000, this.timeoutMs * 2);
    this.pollMs = options.pollMs ?? 1000;
    this.backoff = options.backoff ?? DEFAULT_WEBHOOK_BACKOFF;
  }

  start(): void {
    if (this.running) return;
    this.running = true;
    this.loop = this.run();
  }

  /** There is new work (this node queued an event): look now instead of at the next poll. */
  wake(): void {
    if (this.wakeUp) this.wakeUp();
    else this.woken = true;
  }

  /**
   * Stops claiming, aborts the requests in flight and hands their deliveries back (due at
   * once, no attempt counted), so another node or the next start delivers them. A receiver
   * that had already acted on an aborted request gets it again: delivery is at least once.
   */
  async stop(): Promise<void> {
    if (!this.running) return;
    this.running = false;
    this.wake();
    for (const { abort } of this.inFlight.values()) abort.abort();
    await this.loop;
    await Promise.all([...this.inFlight.values()].map((f) => f.done));
  }

  private async run(): Promise<void> {
    let failures = 0;
    while (this.running) {
      const free = this.concurrency - this.inFlight.size;
      let claimed = 0;
      if (free > 0) {
        try {
          const batch = await this.outbox.claim(free, this.leaseMs);
          claimed = batch.length;
          for (const d of batch) this.track(d);
          failures = 0;
        } catch (err) {
          // The outbox is down (Redis, a locked file): keep what is in flight, try again later.
          if (failures++ === 0) this.logger.warn('webhook outbox unavailable; retrying', { err: (err as Error).message });
          await this.nap(Math.min(this.pollMs * 2 ** failures, 10_000));
          continue;
        }
      }
      // A full batch: more may be due, look again as soon as a slot is free.
      if (!this.running || (claimed > 0 && claimed === free && this.inFlight.size < this.concurrency)) continue;
      await this.nap(this.pollMs);
    }
  }

  /** Waits `ms`, or less when woken: new work, a free slot, or stop. */
  private nap(ms: number): Promise<void> {
    if (this.woken) {
      this.woken = false;
      return Promise.resolve();
    }
    return new Promise((resolve) => {
      const done = () => {
        clearTimeout(timer);
        if (this.wakeUp === done) this.wakeUp = null;
        resolve();
      };
      const timer = setTimeout(done, ms);
      this.wakeUp = done;
    });
  }

  private track(d: ClaimedDelivery): void {
    const abort = new AbortController();
    // Claimed while stop() was under way: handed back at once.
    if (!this.running) abort.abort();
    const done = this.deliver(d, abort.signal)
      .catch((err: unknown) => this.logger.warn('webhook delivery bookkeeping failed; the lease will expire and it is tried again', { deliveryId: d.id, err: (err as Error).message }))
      .finally(() => {
        this.inFlight.delete(d.id);
        this.wake();
      });
    this.inFlight.set(d.id, { abort, done });
  }

  private async deliver(d: ClaimedDelivery, stopped: AbortSignal): Promise<void> {
    const started = performance.now();
    const outcome = await this.attempt(d, stopped);
    const seconds = (performance.now() - started) / 1000;
    if (outcome.ok) {
      this.metrics.latency.observe({ outcome: 'ok' }, seconds);
      this.metrics.delivered.inc({ type: d.event.type });
      await this.outbox.complete(d);
      return;
    }
    if (outcome.reason === 'stopped') {
      await this.outbox.release(d);
      return;
    }
    this.metrics.latency.observe({ outcome: 'failed' }, seconds);
    this.metrics.failedAttempts.inc({ reason: outcome.reason });
    const failures = d.attempts + 1;
    const where = { deliveryId: d.id, eventId: d.event.id, type: d.event.type, receiver: originOf(d.url), attempts: failures, error: outcome.error };
    if (failures >= this.options.maxAttempts) {
      this.logger.warn('webhook delivery dead-lettered after its last attempt', where);
      if (await this.outbox.deadLetter(d, outcome.error)) this.metrics.deadLettered.inc();
      return;
    }
    const delayMs = backoffDelay(failures, this.backoff);
    this.logger.debug('webhook delivery failed; retrying later', { ...where, delayMs });
    await this.outbox.retryLater(d, outcome.error, delayMs);
  }

  /** One signed POST; the receiver's body is never read. */
  private async attempt(d: ClaimedDelivery, stopped: AbortSignal): Promise<Outcome> {
    const { id, type, timestamp, data } = d.event;
    const body = JSON.stringify({ type, timestamp, data });
    const headers = {
      'content-type': 'application/json',
      'user-agent': 'video-chat-server-webhooks',
      ...signedHeaders(this.options.key, id, Math.floor(Date.now() / 1000), body),
    };
    const timeout = AbortSignal.timeout(this.timeoutMs);
    try {
      // redirect: 'manual': a 3xx is an answer that is not 2xx, not a second request elsewhere.
      const res = await fetch(d.url, { method: 'POST', headers, body, redirect: 'manual', signal: AbortSignal.any([stopped, timeout]) });
      await res.body?.cancel().catch(() => undefined);
      if (res.status >= 200 && res.status < 300) return { ok: true };
      return { ok: false, reason: 'status', error: `HTTP ${res.status}` };
    } catch (err) {
      if (stopped.aborted) return { ok: false, reason: 'stopped', error: 'dispatcher stopped' };
      if (timeout.aborted) return { ok: false, reason: 'timeout', error: `no answer within ${this.timeoutMs} ms` };
      const cause = (err as { cause?: { code?: string; message?: string } }).cause;
      return { ok: false, reason: 'network', error: String(cause?.code ?? cause?.message ?? (err as Error).message).slice(0, 200) };
    }
  }
}

/** A receiver as logs name it: its origin only (a URL's path or query may hold a token). */
function originOf(url: string): string {
  try {
    return new URL(url).origin;
  } catch {
    return '(invalid url)';
  }
}
