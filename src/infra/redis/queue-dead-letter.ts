import type { Message } from '../../protocol/models.js';
import type { WebhookPublisher } from '../../ports/webhooks.js';
import type { RedisClient } from './redis-client.js';
import { QUEUE_GROUP, type QueuePartition } from './queue-layout.js';
import { parseMessage } from './redis-message-log.js';

/** A persistence queue entry as the stream holds it. */
export interface QueueEntry {
  id: string;
  message: Record<string, string>;
}

/**
 * Moves an entry that failed its last attempt to the partition's dead-letter stream, in one
 * MULTI (add there, ack and delete here, forget its attempts). `message.dead_lettered` is queued
 * first, so that it cannot be lost: if that fails, the entry stays pending and the next attempt
 * announces it again, which the occurrence id (the entry's stream and id) makes a no-op once it
 * got through.
 */
export async function deadLetter(
  redis: RedisClient,
  webhooks: WebhookPublisher,
  partition: QueuePartition,
  entry: QueueEntry,
  attempts: number,
  reason: string,
): Promise<void> {
  await announce(webhooks, partition, entry, attempts, reason);
  await redis
    .multi()
    .xAdd(partition.deadLetters, '*', {
      entryId: entry.id,
      reason: reason.slice(0, 500),
      attempts: String(attempts),
      firstSeenAt: new Date(Number(entry.id.split('-')[0])).toISOString(),
      entry: JSON.stringify(entry.message),
    })
    .xAck(partition.queue, QUEUE_GROUP, entry.id)
    .xDel(partition.queue, entry.id)
    .hDel(partition.attempts, entry.id)
    .exec();
}

async function announce(webhooks: WebhookPublisher, partition: QueuePartition, entry: QueueEntry, attempts: number, reason: string): Promise<void> {
  if (!webhooks.wants('message.dead_lettered')) return;
  let message: Message | null = null;
  try {
    message = parseMessage(String(entry.message.m));
  } catch {
    // An entry that cannot be parsed is announced all the same, without its message.
  }
  const data = { queue: partition.queue, entryId: entry.id, roomId: message?.roomId ?? entry.message.room ?? null, reason: reason.slice(0, 500), attempts, message };
  await webhooks.publish('message.dead_lettered', data, `${partition.queue}/${entry.id}`);
}
