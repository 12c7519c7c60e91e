import { z } from 'zod';

/**
 * Webhook event types (DESIGN §8.3): the `type` of every webhook body, the values of
 * WEBHOOK_EVENTS. Part of the public contract: receivers switch on these strings.
 */
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

/** The JSON body of every webhook request; its id is the `webhook-id` header. */
export const WebhookPayloadSchema = z.object({
  type: z.enum(WEBHOOK_EVENT_TYPES),
  timestamp: z.iso.datetime({ offset: true }).describe('when it happened'),
  data: z.record(z.string(), z.unknown()).describe('what happened: a message for message.created, …'),
});
