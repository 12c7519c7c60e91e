import type { WebhookEventType } from './webhooks.js';

/** One occurrence, as every receiver gets it: `id` is the `webhook-id` header, the rest the body. */
export interface WebhookEvent {
  id: string;
  type: WebhookEventType;
  /** ISO-8601: when it happened (the body's `timestamp`). */
  timestamp: string;
  data: Record<string, unknown>;
}

/** One event on its way to one URL, held by the dispatcher that claimed it. */
export interface ClaimedDelivery {
  id: string;
  url: string;
  event: WebhookEvent;
  /** Failed attempts so far. */
  attempts: number;
  lastError: string | null;
  /** When the event was queued (ISO-8601). */
  firstSeenAt: string;
  /**
   * Proof of this claim. Once the lease ran out another dispatcher may hold the delivery;
   * then every finishing call with this lease is refused (answers false) and changes nothing.
   */
  lease: string;
}

/** A delivery that failed WEBHOOK_MAX_ATTEMPTS times, as the admin API shows it. */
export interface WebhookDeadLetter {
  id: string;
  eventId: string;
  url: string;
  type: WebhookEventType;
  attempts: number;
  lastError: string | null;
  firstSeenAt: string;
  event: WebhookEvent;
}

/** The operator's view of webhook dead letters: list (oldest first), deliver again, or drop. */
export interface WebhookDeadLetters {
  list(limit: number): Promise<WebhookDeadLetter[]>;
  /** Due again at once with a fresh attempt budget; false when no dead letter has this id. */
  retry(id: string): Promise<boolean>;
  drop(id: string): Promise<boolean>;
}

/** Webhooks off: nothing can die. */
export const noWebhookDeadLetters: WebhookDeadLetters = {
  list: async () => [],
  retry: async () => false,
  drop: async () => false,
};

/**
 * The durable queue between publishers and dispatchers (SQLite in embedded mode, Redis in
 * cluster mode). Each delivery (one event, one URL) is handed to one dispatcher at a time
 * through a lease; a dispatcher that dies loses its lease and another takes the delivery
 * once it runs out.
 */
export interface WebhookOutbox {
  /**
   * Stores one delivery of `event` per URL, durably, before it resolves. With `dedupKey`,
   * a key already stored within the dedup window makes this a no-op that answers false.
   */
  enqueue(event: WebhookEvent, urls: readonly string[], dedupKey: string | null): Promise<boolean>;
  /** Up to `limit` deliveries that are due, leased to the caller for `leaseMs`. */
  claim(limit: number, leaseMs: number): Promise<ClaimedDelivery[]>;
  /** Delivered: removed. */
  complete(d: ClaimedDelivery): Promise<boolean>;
  /** A failed attempt: counted, with its error, and due again after `delayMs`. */
  retryLater(d: ClaimedDelivery, error: string, delayMs: number): Promise<boolean>;
  /** The last attempt failed: counted and kept as a dead letter. */
  deadLetter(d: ClaimedDelivery, error: string): Promise<boolean>;
  /** Handed back unattempted (the dispatcher stops): due at once, no attempt counted. */
  release(d: ClaimedDelivery): Promise<boolean>;
  /** Deliveries waiting or in flight, and dead letters: for /metrics. */
  depth(): Promise<{ pending: number; deadLetters: number }>;
  readonly deadLetters: WebhookDeadLetters;
  /** Closes what the outbox opened itself (a database file); a shared client is left alone. */
  close(): Promise<void>;
}
