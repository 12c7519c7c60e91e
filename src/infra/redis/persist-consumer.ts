import { AppError } from '../../domain/app-error.js';
import type { Message } from '../../protocol/models.js';
import type { Logger } from '../../ports/logger.js';
import type { MessageStore } from '../../ports/store.js';
import type { RedisClient } from './redis-client.js';
import { keys } from './redis-keys.js';
import { parseMessage } from './redis-message-log.js';

export interface PersistConsumerOptions {
  nodeId: string;
  batchSize?: number;
  blockMs?: number;
  /** Entries pending longer than this on a consumer (a crashed node) are claimed. */
  claimIdleMs?: number;
  maxAttempts: number;
}

interface QueueEntry {
  id: string;
  message: Record<string, string>;
}

/**
 * The consumer-group side of the persistence queue: every node reads `chat:queue` in group
 * `persist`, writes batches to the store idempotently, then acknowledges and deletes them.
 * A batch that fails stays pending and is retried; entries a dead node held are claimed
 * (XAUTOCLAIM) after `claimIdleMs`. Entries that cannot be parsed are dead-lettered.
 */
export class PersistConsumer {
  private running = false;
  private loop: Promise<void> | null = null;
  private readPending = true;
  private lastClaim = 0;
  private readonly batchSize: number;
  private readonly blockMs: number;
  private readonly claimIdleMs: number;

  constructor(
    private readonly redis: RedisClient,
    private readonly store: MessageStore,
    private readonly logger: Logger,
    private readonly options: PersistConsumerOptions,
  ) {
    this.batchSize = options.batchSize ?? 200;
    this.blockMs = options.blockMs ?? 1000;
    this.claimIdleMs = options.claimIdleMs ?? 15_000;
  }

  start(): void {
    if (this.running) return;
    this.running = true;
    this.loop = this.run();
  }

  /** Finishes the batch in hand (its entries stay pending if unfinished) and stops. */
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
        const transient = err instanceof AppError && err.code === 'UNAVAILABLE';
        this.logger.warn('persistence queue: will retry', { err: (err as Error).message, transient, backoffMs });
        await sleep(backoffMs);
        backoffMs = Math.min(backoffMs * 2, 5000);
        this.readPending = true;
      }
    }
  }

  private groupReady = false;

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
    const reply = await this.redis
      .xReadGroup(keys.queueGroup, this.options.nodeId, { key: keys.queue, id: this.readPending ? '0' : '>' }, { COUNT: this.batchSize, BLOCK: this.readPending ? undefined : this.blockMs })
      .catch((err: Error) => {
        if (err.message.includes('NOGROUP')) this.groupReady = false;
        throw err;
      });
    const entries = ((reply as { messages: QueueEntry[] }[] | null)?.[0]?.messages ?? []) as QueueEntry[];
    if (entries.length === 0) return false;
    await this.persist(entries);
    return true;
  }

  private async persist(entries: QueueEntry[]): Promise<void> {
    const good: Message[] = [];
    const goodIds: string[] = [];
    for (const entry of entries) {
      try {
        good.push(parseMessage(String(entry.message.m)));
        goodIds.push(entry.id);
      } catch (err) {
        await this.deadLetter(entry, `unparseable entry: ${(err as Error).message}`);
      }
    }
    if (good.length === 0) return;
    await this.store.insertAssigned(good);
    await this.redis.multi().xAck(keys.queue, keys.queueGroup, goodIds).xDel(keys.queue, goodIds).exec();
  }

  /** Moves an entry to the dead-letter stream and acknowledges it, in one transaction. */
  private async deadLetter(entry: QueueEntry, reason: string): Promise<void> {
    this.logger.error('persistence queue: dead-lettering entry', { entryId: entry.id, reason });
    await this.redis
      .multi()
      .xAdd(keys.deadLetters, '*', {
        entryId: entry.id,
        reason,
        attempts: '1',
        firstSeenAt: new Date().toISOString(),
        entry: JSON.stringify(entry.message),
      })
      .xAck(keys.queue, keys.queueGroup, entry.id)
      .xDel(keys.queue, entry.id)
      .exec();
  }

  /** Claims entries another consumer has held too long (it crashed or hangs). */
  private async claimAbandoned(): Promise<boolean> {
    const res = await this.redis.xAutoClaim(keys.queue, keys.queueGroup, this.options.nodeId, this.claimIdleMs, '0-0', { COUNT: this.batchSize });
    const claimed = (res as { messages: unknown[] }).messages.filter(Boolean).length;
    if (claimed > 0) this.logger.info('persistence queue: claimed abandoned entries', { claimed });
    return claimed > 0;
  }
}

const sleep = (ms: number) => new Promise((r) => setTimeout(r, ms));
