import { AppError, isOutage, isUnavailable } from '../../domain/app-error.js';
import type { Message } from '../../protocol/models.js';
import type { Logger } from '../../ports/logger.js';
import type { MessageStore } from '../../ports/store.js';
import { noWebhooks, type WebhookPublisher } from '../../ports/webhooks.js';
import type { QueueMetrics } from '../metrics.js';
import type { RedisClient } from './redis-client.js';
import { QUEUE_GROUP, type QueuePartition } from './queue-layout.js';
import { parseMessage } from './redis-message-log.js';
import { deadLetter, type QueueEntry } from './queue-dead-letter.js';
import { ChangeWaits, ReplicasBehind, retryReason } from './queue-round-waits.js';

export interface PersistConsumerOptions {
  nodeId: string;
  maxAttempts: number;
  /** Entries taken from one partition per read. */
  batchSize?: number;
  /** The longest wait between two reads of a queue that stays empty. */
  idleMs?: number;
  /** Entries pending longer than this on a consumer (a crashed node) are claimed. */
  claimIdleMs?: number;
  /**
   * After a read that returned less than a full batch, wait this long before the next one so
   * that entries accumulate. Without it, under light load every read returns with a single
   * entry: one store transaction and one acknowledgement round trip per message.
   */
  lingerMs?: number;
  /** Told once a change (an entry of kind `change`) is in the store, so Redis may forget its state. */
  onChangeStored?: (message: Message) => Promise<void>;
  /** Called when the store refuses an entry because its seq is taken (Redis lost data). */
  onSeqConflict?: (roomId: string) => Promise<void>;
  /**
   * REDIS_MIN_REPLICAS_ACK: resolves once the replicas hold what this consumer read from `key`
   * (ReplicaAcks on its connection); entries are stored only then, so no failover loses them.
   */
  replicated?: (key: string) => Promise<void>;
}

interface Taken {
  partition: QueuePartition;
  entry: QueueEntry;
}

const sleep = (ms: number) => new Promise((r) => setTimeout(r, ms));

/**
 * The consumer side of the persistence queue. Every node reads every partition in group
 * `persist` (Redis spreads the entries over the nodes), writes what it took to the store in
 * one idempotent batch (a redelivered message that is already stored counts as done), then
 * acknowledges and deletes the entries, one transaction per partition.
 * - Reads do not block: one blocking read cannot wait on several partitions in a Redis
 *   Cluster, and a blocked connection per partition would cost more than a read of each
 *   partition in one pipeline, repeated at a pace that slows to `idleMs` while nothing comes.
 * - Store down (UNAVAILABLE): the entries stay pending, the node backs off and stops taking
 *   new work, and no attempt is counted, so an outage never dead-letters anything.
 * - A batch that fails on a working store is retried entry by entry; an entry that keeps
 *   failing (or cannot be parsed) is moved to its partition's dead-letter stream after
 *   `maxAttempts`, atomically with its acknowledgement.
 * - Entries held by a consumer that died are claimed (XAUTOCLAIM) after `claimIdleMs`.
 * - With REDIS_MIN_REPLICAS_ACK, entries are stored only once the replicas hold them (WAIT).
 * - A partition with a negative index (the single stream of earlier releases) is read until
 *   it is empty, then left alone.
 */
export class PersistConsumer {
  private running = false;
  private loop: Promise<void> | null = null;
  private active: QueuePartition[];
  /** Partitions whose own pending entries are read again first (after a restart or a failure). */
  private readonly readPending: Set<QueuePartition>;
  private readonly groupReady = new Set<QueuePartition>();
  private lastClaim = 0;
  private readonly batchSize: number;
  private readonly idleMs: number;
  private readonly claimIdleMs: number;
  private readonly lingerMs: number;
  private webhooks: WebhookPublisher = noWebhooks;

  constructor(
    private readonly redis: RedisClient,
    private readonly store: MessageStore,
    private readonly logger: Logger,
    private readonly metrics: QueueMetrics,
    partitions: readonly QueuePartition[],
    private readonly options: PersistConsumerOptions,
  ) {
    this.active = [...partitions];
    this.readPending = new Set(partitions);
    this.batchSize = options.batchSize ?? 200;
    this.idleMs = options.idleMs ?? 200;
    this.claimIdleMs = options.claimIdleMs ?? 10_000;
    this.lingerMs = options.lingerMs ?? 20;
  }

  /** `webhooks` hears of each entry this consumer dead-letters (`message.dead_lettered`). */
  start(webhooks: WebhookPublisher = noWebhooks): void {
    if (this.running) return;
    this.webhooks = webhooks;
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
    let idleMs = this.lingerMs;
    while (this.running) {
      try {
        await this.ensureGroups();
        const taken = await this.step();
        backoffMs = 100;
        idleMs = taken === 0 ? Math.min(Math.max(idleMs * 2, 10), this.idleMs) : this.lingerMs;
        // Persistence is off the ack path (Redis holds the message): a short wait costs no
        // sender anything and turns a trickle of entries into batches.
        if (taken < this.batchSize && this.running) await sleep(idleMs);
      } catch (err) {
        const waits = err instanceof ChangeWaits || err instanceof ReplicasBehind;
        if (!isUnavailable(err) && !waits) this.logger.warn('persistence queue: retrying', { err: (err as Error).message, backoffMs });
        this.metrics.retries.inc({ reason: retryReason(err) });
        for (const p of this.active) this.readPending.add(p);
        await sleep(backoffMs);
        backoffMs = Math.min(backoffMs * 2, 5000);
      }
    }
  }

  private async ensureGroups(): Promise<void> {
    const missing = this.active.filter((p) => !this.groupReady.has(p));
    await Promise.all(
      missing.map(async (p) => {
        try {
          await this.redis.xGroupCreate(p.queue, QUEUE_GROUP, '0', { MKSTREAM: true });
        } catch (err) {
          if (!String((err as Error).message).includes('BUSYGROUP')) throw err;
        }
        this.groupReady.add(p);
      }),
    );
  }

  /** One read-and-persist round over every partition; returns how many entries it took. */
  private async step(): Promise<number> {
    if (Date.now() - this.lastClaim > this.claimIdleMs / 2) {
      this.lastClaim = Date.now();
      await Promise.all(this.active.map((p) => this.claimAbandoned(p)));
    }
    const taken = (await Promise.all(this.active.map((p) => this.read(p)))).flat();
    if (taken.length > 0) await this.persist(taken);
    else await this.retireDrained();
    return taken.length;
  }

  /** Own pending entries first (after a restart or a failed batch), then new ones. */
  private async read(partition: QueuePartition): Promise<Taken[]> {
    const pending = this.readPending.has(partition);
    const reply = await this.redis
      .xReadGroup(QUEUE_GROUP, this.options.nodeId, { key: partition.queue, id: pending ? '0' : '>' }, { COUNT: this.batchSize })
      .catch((err: Error) => {
        // NOGROUP: Redis lost the stream (restart without AOF, FLUSHALL): recreate it.
        if (err.message.includes('NOGROUP')) this.groupReady.delete(partition);
        throw err;
      });
    const entries = ((reply as { messages: QueueEntry[] }[] | null)?.[0]?.messages ?? []).filter(Boolean);
    if (pending && entries.length === 0) this.readPending.delete(partition);
    // A read of new entries ('>') is replicated (as XCLAIMs), so a WAIT after it covers them; a
    // re-read of our pending ones is not, maybe on a new connection: re-claiming them is.
    if (pending && entries.length > 0 && this.options.replicated) {
      await this.redis.xClaimJustId(partition.queue, QUEUE_GROUP, this.options.nodeId, 0, entries.map((e) => e.id));
    }
    return entries.map((entry) => ({ partition, entry }));
  }

  /** The stream of an earlier release is read until nothing is left in it or pending on it. */
  private async retireDrained(): Promise<void> {
    for (const p of this.active.filter((x) => x.index < 0)) {
      const [length, pending] = await Promise.all([this.redis.xLen(p.queue), this.redis.xPending(p.queue, QUEUE_GROUP)]);
      if (length > 0 || Number(pending.pending) > 0) continue;
      this.active = this.active.filter((x) => x !== p);
      this.logger.info('persistence queue: the queue of the earlier release is drained', { queue: p.queue });
    }
  }

  private async persist(taken: Taken[]): Promise<void> {
    const replicated = this.options.replicated;
    if (replicated) {
      const queues = [...new Set(taken.map((t) => t.partition.queue))];
      // Only the replicas' refusal waits quietly; a Redis failure is an error like any other.
      await Promise.all(queues.map((queue) => replicated(queue))).catch((err: unknown) => {
        throw isUnavailable(err) && !isOutage(err) ? new ReplicasBehind(err) : err;
      });
    }
    const parsed: (Taken & { message: Message })[] = [];
    for (const t of taken) {
      try {
        parsed.push({ ...t, message: parseMessage(String(t.entry.message.m)) });
      } catch (err) {
        await this.failed(t, `entry cannot be parsed: ${(err as Error).message}`);
      }
    }
    if (parsed.length === 0) return;
    // Changes (edits, deletes, reactions) follow the message they change in its partition's
    // stream: the new messages of the batch are stored first, then each change in order.
    const changes = parsed.filter((p) => p.entry.message.kind === 'change');
    if (changes.length > 0) {
      await this.persistMessages(parsed.filter((p) => p.entry.message.kind !== 'change'));
      for (const c of changes) await this.persistChange(c);
      return;
    }
    await this.persistMessages(parsed);
  }

  /** A change is written where the store's copy is older (higher rev wins), then acked. */
  private async persistChange(c: Taken & { message: Message }): Promise<void> {
    try {
      const outcome = await this.store.applyAssigned(c.message);
      if (outcome === 'missing') {
        // Its message's entry is ahead of it in the stream, but two nodes read a partition at
        // once: that entry may be with the other consumer right now. Waiting for it costs no
        // attempt (counting them dead-lettered acked changes in a race) for as long as a held
        // entry can take to be stored or claimed; past that, its message's entry has failed.
        const age = Date.now() - Number(c.entry.id.split('-')[0]);
        if (age < this.claimIdleMs * this.options.maxAttempts) throw new ChangeWaits(c.message);
        throw new AppError('MESSAGE_NOT_FOUND', `message ${c.message.seq} of room ${c.message.roomId} is not stored`);
      }
      if (outcome === 'dropped') this.metrics.dropped.inc(1);
      await this.options.onChangeStored?.(c.message).catch(() => undefined);
      await this.done([c]);
    } catch (err) {
      if (isUnavailable(err) || err instanceof ChangeWaits) throw err;
      await this.failed(c, (err as Error).message, err);
    }
  }

  private async persistMessages(parsed: (Taken & { message: Message })[]): Promise<void> {
    if (parsed.length === 0) return;
    try {
      this.countDropped(await this.store.insertAssigned(parsed.map((p) => p.message)));
      await this.done(parsed);
    } catch (err) {
      if (isUnavailable(err)) throw err;
      if (parsed.length === 1) return this.failed(parsed[0]!, (err as Error).message, err);
      // One bad entry must not hold back the healthy ones: retry them one by one.
      for (const p of parsed) {
        try {
          this.countDropped(await this.store.insertAssigned([p.message]));
          await this.done([p]);
        } catch (one) {
          if (isUnavailable(one)) throw one;
          await this.failed(p, (one as Error).message, one);
        }
      }
    }
  }

  /** Entries of a room deleted while they were queued: dropped by the store, acked like the rest, counted. */
  private countDropped({ dropped }: { dropped: number }): void {
    if (dropped > 0) this.metrics.dropped.inc(dropped);
  }

  /** Acknowledges and deletes persisted entries: one transaction per partition, in one pipeline. */
  private async done(taken: Taken[]): Promise<void> {
    const byPartition = new Map<QueuePartition, string[]>();
    for (const t of taken) byPartition.set(t.partition, [...(byPartition.get(t.partition) ?? []), t.entry.id]);
    await Promise.all(
      [...byPartition].map(([p, ids]) => this.redis.multi().xAck(p.queue, QUEUE_GROUP, ids).xDel(p.queue, ids).hDel(p.attempts, ids).exec()),
    );
    this.metrics.persisted.inc(taken.length);
  }

  /** Counts a failed attempt on a working store; dead-letters the entry at the limit. */
  private async failed({ partition, entry }: Taken, reason: string, err?: unknown): Promise<void> {
    if (err instanceof AppError && err.code === 'CONFLICT' && entry.message.room) {
      this.logger.error('persistence queue: seq reused — Redis lost acknowledged writes; raising the counter', { roomId: entry.message.room });
      await this.options.onSeqConflict?.(entry.message.room).catch(() => undefined);
    }
    const attempts = await this.redis.hIncrBy(partition.attempts, entry.id, 1);
    this.metrics.retries.inc({ reason: 'entry_failed' });
    if (attempts < this.options.maxAttempts) {
      this.logger.warn('persistence queue: entry failed, will retry', { entryId: entry.id, attempts, reason });
      this.readPending.add(partition);
      return;
    }
    this.logger.error('persistence queue: dead-lettering entry', { entryId: entry.id, attempts, reason });
    await deadLetter(this.redis, this.webhooks, partition, entry, attempts, reason);
    this.metrics.deadLettered.inc();
  }

  /** Claims entries another consumer has held too long (it crashed or hangs). */
  private async claimAbandoned(partition: QueuePartition): Promise<void> {
    const res = await this.redis.xAutoClaim(partition.queue, QUEUE_GROUP, this.options.nodeId, this.claimIdleMs, '0-0', { COUNT: this.batchSize });
    const claimed = (res as { messages: unknown[] }).messages.filter(Boolean).length;
    if (claimed === 0) return;
    this.logger.info('persistence queue: claimed abandoned entries', { claimed, queue: partition.queue });
    this.readPending.add(partition);
  }
}
