import { AppError, isUnavailable } from '../../domain/app-error.js';
import type { Message } from '../../protocol/models.js';
import type { Logger } from '../../ports/logger.js';
import type { MessageStore } from '../../ports/store.js';
import type { QueueMetrics } from '../metrics.js';
import type { RedisClient } from './redis-client.js';
import { keys } from './redis-keys.js';
import { parseMessage } from './redis-message-log.js';

export interface PersistConsumerOptions {
  nodeId: string;
  maxAttempts: number;
  batchSize?: number;
  blockMs?: number;
  /** Entries pending longer than this on a consumer (a crashed node) are claimed. */
  claimIdleMs?: number;
  /**
   * After a read that returned less than a full batch, wait this long before the next one so
   * that entries accumulate. Without it, under light load every blocking read returns with a
   * single entry: one store transaction and one acknowledgement round trip per message.
   */
  lingerMs?: number;
  /** Called when the store refuses an entry because its seq is taken (Redis lost data). */
  onSeqConflict?: (roomId: string) => Promise<void>;
}

interface QueueEntry {
  id: string;
  message: Record<string, string>;
}

/** Is the store itself down (wait, do not count an attempt) rather than the entry bad? */
const sleep = (ms: number) => new Promise((r) => setTimeout(r, ms));

/**
 * The consumer side of the persistence queue. Every node reads `chat:queue` in group
 * `persist`, writes batches to the store idempotently (a redelivered message that is already
 * stored counts as done), then acknowledges and deletes the entries.
 * - Store down (UNAVAILABLE): the entries stay pending, the node backs off and stops taking
 *   new work, and no attempt is counted, so an outage never dead-letters anything.
 * - A batch that fails on a working store is retried entry by entry; an entry that keeps
 *   failing (or cannot be parsed) is moved to the dead-letter stream after `maxAttempts`,
 *   atomically with its acknowledgement.
 * - Entries held by a consumer that died are claimed (XAUTOCLAIM) after `claimIdleMs`.
 */
export class PersistConsumer {
  private running = false;
  private loop: Promise<void> | null = null;
  private readPending = true;
  private groupReady = false;
  private lastClaim = 0;
  private readonly batchSize: number;
  private readonly blockMs: number;
  private readonly claimIdleMs: number;
  private readonly lingerMs: number;

  constructor(
    private readonly redis: RedisClient,
    private readonly store: MessageStore,
    private readonly logger: Logger,
    private readonly metrics: QueueMetrics,
    private readonly options: PersistConsumerOptions,
  ) {
    this.batchSize = options.batchSize ?? 200;
    this.blockMs = options.blockMs ?? 1000;
    this.claimIdleMs = options.claimIdleMs ?? 10_000;
    this.lingerMs = options.lingerMs ?? 20;
  }

  start(): void {
    if (this.running) return;
    this.running = true;
    this.loop = this.run();
  }

  /** Stops after the batch in hand; unfinished entries stay pending for another node. */
  async stop(): Promise<void> {
    this.running = false;
    await this.loop;
  }

  private async run(): Promise<void> {
    let backoffMs = 100;
    while (this.running) {
      try {
        await this.ensureGroup();
        const worked = await this.step();
        backoffMs = 100;
        if (!worked && this.readPending) this.readPending = false;
      } catch (err) {
        if (!isUnavailable(err)) this.logger.warn('persistence queue: retrying', { err: (err as Error).message, backoffMs });
        this.metrics.retries.inc({ reason: isUnavailable(err) ? 'store_unavailable' : 'error' });
        this.readPending = true;
        await sleep(backoffMs);
        backoffMs = Math.min(backoffMs * 2, 5000);
      }
    }
  }

  private async ensureGroup(): Promise<void> {
    if (this.groupReady) return;
    try {
      await this.redis.xGroupCreate(keys.queue, keys.queueGroup, '0', { MKSTREAM: true });
    } catch (err) {
      if (!String((err as Error).message).includes('BUSYGROUP')) throw err;
    }
    this.groupReady = true;
  }

  /** One read-and-persist round; false when there was nothing to do. */
  private async step(): Promise<boolean> {
    if (Date.now() - this.lastClaim > this.claimIdleMs / 2) {
      this.lastClaim = Date.now();
      if (await this.claimAbandoned()) this.readPending = true;
    }
    // Own pending entries first (after a restart or a failed batch), then new ones.
    const reply = await this.redis
      .xReadGroup(
        keys.queueGroup,
        this.options.nodeId,
        { key: keys.queue, id: this.readPending ? '0' : '>' },
        this.readPending ? { COUNT: this.batchSize } : { COUNT: this.batchSize, BLOCK: this.blockMs },
      )
      .catch((err: Error) => {
        // NOGROUP: Redis lost the stream (restart without AOF, FLUSHALL): recreate it.
        if (err.message.includes('NOGROUP')) this.groupReady = false;
        throw err;
      });
    const entries = ((reply as { messages: QueueEntry[] }[] | null)?.[0]?.messages ?? []).filter(Boolean);
    if (entries.length === 0) return false;
    await this.persist(entries);
    // Persistence is off the ack path (Redis holds the message): a short wait costs no sender
    // anything and turns a trickle of entries into batches.
    if (entries.length < this.batchSize && this.lingerMs > 0 && this.running) await sleep(this.lingerMs);
    return true;
  }

  private async persist(entries: QueueEntry[]): Promise<void> {
    const parsed: { entry: QueueEntry; message: Message }[] = [];
    for (const entry of entries) {
      try {
        parsed.push({ entry, message: parseMessage(String(entry.message.m)) });
      } catch (err) {
        await this.failed(entry, `entry cannot be parsed: ${(err as Error).message}`);
      }
    }
    if (parsed.length === 0) return;
    try {
      await this.store.insertAssigned(parsed.map((p) => p.message));
      await this.done(parsed.map((p) => p.entry.id));
    } catch (err) {
      if (isUnavailable(err) || parsed.length === 1) {
        if (isUnavailable(err)) throw err;
        return this.failed(parsed[0]!.entry, (err as Error).message, err);
      }
      // One bad entry must not hold back the healthy ones: retry them one by one.
      for (const p of parsed) {
        try {
          await this.store.insertAssigned([p.message]);
          await this.done([p.entry.id]);
        } catch (one) {
          if (isUnavailable(one)) throw one;
          await this.failed(p.entry, (one as Error).message, one);
        }
      }
    }
  }

  private async done(ids: string[]): Promise<void> {
    await this.redis.multi().xAck(keys.queue, keys.queueGroup, ids).xDel(keys.queue, ids).hDel(keys.queueAttempts, ids).exec();
    this.metrics.persisted.inc(ids.length);
  }

  /** Counts a failed attempt on a working store; dead-letters the entry at the limit. */
  private async failed(entry: QueueEntry, reason: string, err?: unknown): Promise<void> {
    if (err instanceof AppError && err.code === 'CONFLICT' && entry.message.room) {
      this.logger.error('persistence queue: seq reused — Redis lost acknowledged writes; raising the counter', { roomId: entry.message.room });
      await this.options.onSeqConflict?.(entry.message.room).catch(() => undefined);
    }
    const attempts = await this.redis.hIncrBy(keys.queueAttempts, entry.id, 1);
    this.metrics.retries.inc({ reason: 'entry_failed' });
    if (attempts < this.options.maxAttempts) {
      this.logger.warn('persistence queue: entry failed, will retry', { entryId: entry.id, attempts, reason });
      this.readPending = true;
      return;
    }
    this.logger.error('persistence queue: dead-lettering entry', { entryId: entry.id, attempts, reason });
    await this.redis
      .multi()
      .xAdd(keys.deadLetters, '*', {
        entryId: entry.id,
        reason: reason.slice(0, 500),
        attempts: String(attempts),
        firstSeenAt: new Date(Number(entry.id.split('-')[0])).toISOString(),
        entry: JSON.stringify(entry.message),
      })
      .xAck(keys.queue, keys.queueGroup, entry.id)
      .xDel(keys.queue, entry.id)
      .hDel(keys.queueAttempts, entry.id)
      .exec();
    this.metrics.deadLettered.inc();
  }

  /** Claims entries another consumer has held too long (it crashed or hangs). */
  private async claimAbandoned(): Promise<boolean> {
    const res = await this.redis.xAutoClaim(keys.queue, keys.queueGroup, this.options.nodeId, this.claimIdleMs, '0-0', { COUNT: this.batchSize });
    const claimed = (res as { messages: unknown[] }).messages.filter(Boolean).length;
    if (claimed > 0) this.logger.info('persistence queue: claimed abandoned entries', { claimed });
    return claimed > 0;
  }
}
