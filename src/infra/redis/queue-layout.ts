/**
 * Where a room's message keys and its share of the persistence queue live.
 *
 * The queue is split into `QUEUE_PARTITIONS` streams. A room belongs to one partition (a
 * stable hash of its id), and its counter, recent log and idempotency records carry that
 * partition's hash tag, `{q<n>}`: the append step (next seq, log entry, queue entry) touches
 * one hash slot, as a Redis Cluster requires of a script, and so do the consumer's
 * acknowledgement and dead-letter transactions, which stay inside one partition.
 *
 * The number of partitions is recorded in Redis on first start (see QueueMeta): changing it
 * would move rooms to other counters.
 */
export interface QueuePartition {
  readonly index: number;
  /** The stream of accepted messages not yet written to the store. */
  readonly queue: string;
  /** entry id → failed attempts on a working store. */
  readonly attempts: string;
  readonly deadLetters: string;
}

export interface RoomMessageKeys {
  readonly partition: QueuePartition;
  readonly seq: string;
  readonly log: string;
  idempotency(clientMsgId: string): string;
  /** The room's change counter (its lastRev). */
  readonly rev: string;
  /** seq → rev of the message's last change: every changed message, until the room is deleted. */
  readonly revs: string;
  /** seq → JSON of the message after a change not yet written to the store. */
  readonly changes: string;
}

/** The consumer group every node reads each partition in. */
export const QUEUE_GROUP = 'persist';

/**
 * The one stream and its keys of releases before partitioning (on one Redis only): read by
 * the consumers until drained, listed with the dead letters. Never written by this release.
 */
export const LEGACY_PARTITION: QueuePartition = {
  index: -1,
  queue: 'chat:queue',
  attempts: 'chat:queue:attempts',
  deadLetters: 'chat:dead-letters',
};

/** A room's keys as releases before partitioning named them (`chat:{roomId}:…`). */
export const legacyRoomKeys = {
  seq: (roomId: string) => `chat:{${roomId}}:seq`,
  log: (roomId: string) => `chat:{${roomId}}:log`,
  idempotency: (roomId: string, clientMsgId: string) => `chat:{${roomId}}:idem:${clientMsgId}`,
};

export class QueueLayout {
  readonly partitions: readonly QueuePartition[];

  constructor(readonly count: number) {
    if (!Number.isSafeInteger(count) || count < 1) throw new Error(`QUEUE_PARTITIONS must be a positive integer, got ${count}`);
    this.partitions = Array.from({ length: count }, (_, index) => {
      const tag = `chat:{q${index}}`;
      return { index, queue: `${tag}:queue`, attempts: `${tag}:attempts`, deadLetters: `${tag}:dead-letters` };
    });
  }

  partitionOf(roomId: string): QueuePartition {
    return this.partitions[fnv1a(roomId) % this.count]!;
  }

  room(roomId: string): RoomMessageKeys {
    const partition = this.partitionOf(roomId);
    const base = `chat:{q${partition.index}}:room:${roomId}`;
    return {
      partition,
      seq: `${base}:seq`,
      log: `${base}:log`,
      idempotency: (clientMsgId) => `${base}:idem:${clientMsgId}`,
      rev: `${base}:rev`,
      revs: `${base}:revs`,
      changes: `${base}:changes`,
    };
  }
}

/** 32-bit FNV-1a over UTF-16 code units: stable across nodes and releases, cheap, well spread. */
function fnv1a(text: string): number {
  let hash = 0x811c9dc5;
  for (let i = 0; i < text.length; i++) {
    hash ^= text.charCodeAt(i);
    hash = Math.imul(hash, 0x01000193);
  }
  return hash >>> 0;
}
