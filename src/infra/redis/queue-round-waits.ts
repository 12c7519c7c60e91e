import { isUnavailable } from '../../domain/app-error.js';

/*
 * The queue consumer's rounds that wait rather than fail: no attempt is counted against the
 * entries, and the round is tried again after a back-off (PersistConsumer.run).
 */

/** A change whose message is not stored yet (its entry is with another consumer): retried later, no attempt counted. */
export class ChangeWaits extends Error {
  constructor(m: { roomId: string; seq: number }) {
    super(`the change to message ${m.seq} of room ${m.roomId} waits for the message to be stored`);
  }
}

/** The replicas REDIS_MIN_REPLICAS_ACK asks for do not hold the entries yet: retried later, no attempt counted. */
export class ReplicasBehind extends Error {
  constructor(cause: unknown) {
    super(`the queue entries wait for the Redis replicas: ${(cause as Error).message}`);
  }
}

/** The `reason` label of queue_retries_total for a round that failed or waited. */
export function retryReason(err: unknown): string {
  if (err instanceof ChangeWaits) return 'change_waits';
  if (err instanceof ReplicasBehind) return 'replicas_behind';
  return isUnavailable(err) ? 'store_unavailable' : 'error';
}
