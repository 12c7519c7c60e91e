/**
 * Webhooks as the services see them (DESIGN §8.3): a service publishes a domain event; the
 * webhook subsystem queues it durably and delivers it, signed, to every WEBHOOK_URLS
 * receiver in the background. The names of the types are part of the public contract.
 */
import type { WebhookEventType } from '../protocol/webhooks.js';

// The type names are protocol (receivers and clients read them); services import them from here.
export { WEBHOOK_EVENT_TYPES, type WebhookEventType } from '../protocol/webhooks.js';

export interface WebhookPublisher {
  /**
   * Resolves once the event is durably queued (survives this process dying). A type filtered
   * out, or no WEBHOOK_URLS, resolves at once and costs nothing. `occurrenceId`: a caller that
   * may publish the same occurrence twice (a retry, two nodes seeing it) passes a stable id;
   * the second publish is a no-op (dedup window ≥ 24 h). Without it a fresh id is made.
   * Rejects with an UNAVAILABLE AppError when the outbox cannot store it.
   */
  publish(type: WebhookEventType, data: Record<string, unknown>, occurrenceId?: string): Promise<void>;
  /** True when this type would be delivered (so hot paths can skip building data). */
  wants(type: WebhookEventType): boolean;
}

/** Webhooks off (no WEBHOOK_URLS): nothing is wanted, publishing is free. */
export const noWebhooks: WebhookPublisher = {
  publish: async () => {},
  wants: () => false,
};
