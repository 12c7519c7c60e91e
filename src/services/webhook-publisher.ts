import { createHash, randomUUID } from 'node:crypto';
import { isUnavailable, unavailable } from '../domain/app-error.js';
import type { WebhookEvent, WebhookOutbox } from '../ports/webhook-outbox.js';
import type { WebhookEventType, WebhookPublisher } from '../ports/webhooks.js';

export interface WebhookPublisherSettings {
  /** Every receiver gets every wanted event, each with attempts of its own. */
  urls: readonly string[];
  /** WEBHOOK_EVENTS: the types delivered (all by default). */
  events: readonly WebhookEventType[];
}

/**
 * The publisher behind the WebhookPublisher port: filters by type, gives the event its id
 * and stores it in the outbox; the dispatcher delivers it later. `onQueued` tells the
 * local dispatcher there is work, so a new event does not wait for its next poll.
 */
export class OutboxWebhookPublisher implements WebhookPublisher {
  private readonly wanted: ReadonlySet<WebhookEventType>;

  constructor(
    private readonly settings: WebhookPublisherSettings,
    private readonly outbox: Pick<WebhookOutbox, 'enqueue'>,
    private readonly onQueued: () => void = () => {},
  ) {
    this.wanted = new Set(settings.urls.length > 0 ? settings.events : []);
  }

  wants(type: WebhookEventType): boolean {
    return this.wanted.has(type);
  }

  async publish(type: WebhookEventType, data: Record<string, unknown>, occurrenceId?: string): Promise<void> {
    if (!this.wanted.has(type)) return;
    // The type is part of the key: one message may be both created and dead-lettered.
    const dedupKey = occurrenceId === undefined ? null : `${type}:${occurrenceId}`;
    const event: WebhookEvent = { id: eventId(dedupKey), type, timestamp: new Date().toISOString(), data };
    let queued: boolean;
    try {
      queued = await this.outbox.enqueue(event, this.settings.urls, dedupKey);
    } catch (err) {
      if (isUnavailable(err)) throw err;
      throw unavailable('the webhook outbox cannot store the event; try again', err);
    }
    if (queued) this.onQueued();
  }
}

/**
 * The `webhook-id`. For a known occurrence it is derived from it, so that two publishes that
 * slip past the dedup window (or two outboxes) still give a receiver the same id to dedupe by.
 */
function eventId(dedupKey: string | null): string {
  if (dedupKey === null) return `evt_${randomUUID().replaceAll('-', '')}`;
  return `evt_${createHash('sha256').update(dedupKey).digest('base64url').slice(0, 32)}`;
}
