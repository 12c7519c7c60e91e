export const WEBHOOK_EVENT_TYPES = [
  'room.created',
  'room.updated',
  'room.deleted',
  'participant.joined',
  'participant.left',
  'call.started',
  'call.ended',
  'message.created',
  'message.dead_lettered',
] as const;
export type WebhookEventType = (typeof WEBHOOK_EVENT_TYPES)[number];

export interface WebhookPublisher {
  /**
   * Resolves once the event is durably queued. A type filtered out, or no WEBHOOK_URLS,
   * resolves at once and costs nothing. `occurrenceId`: a caller that may publish the same
   * occurrence twice passes a stable id; the second publish is a no-op.
   */
  publish(type: WebhookEventType, data: Record<string, unknown>, occurrenceId?: string): Promise<void>;
  /** True when this type would be delivered (so hot paths can skip building data). */
  wants(type: WebhookEventType): boolean;
}

/** Webhooks off. */
export const noWebhooks: WebhookPublisher = {
  publish: async () => {},
  wants: () => false,
};
