import { AppError } from '../../domain/app-error.js';
import { withChangeFields } from '../../domain/message-change.js';
import type { Message } from '../../protocol/models.js';
import type { AppendResult, HistoryPage, HistoryQuery, NewMessage } from '../../ports/store.js';
import { APPEND, CHANGE, RAISE, SEED, SEED_REV, SETTLE, STATE } from './message-log-scripts.js';
import type { RedisClient } from './redis-client.js';
import type { QueueLayout } from './queue-layout.js';
import type { ReplicaAcks } from './replica-acks.js';

/** A known clientMsgId whose message is no longer in the recent log: the store has it (or will). */
export interface EvictedOriginal {
  evicted: true;
  seq: number;
  originNode: string;
}

/** Is this retry's original on another node than this one (its first fan-out may be lost)? */
const elsewhere = (originNode: string, nodeId: string) => originNode !== nodeId;

/** How long a clientMsgId is remembered in Redis (the store's unique index backs it up). */
const IDEMPOTENCY_TTL_SECONDS = 7 * 24 * 3600;

/** Parses a stored message JSON into the wire shape (fixed key order); throws on a bad shape. */
export function parseMessage(json: string): Message {
  const m = JSON.parse(json) as Partial<Message>;
  const strings = ['id', 'roomId', 'senderId', 'senderName', 'text', 'createdAt'] as const;
  for (const key of strings) if (typeof m[key] !== 'string') throw new Error(`field ${key} is missing or not a string`);
  if (!Number.isSafeInteger(m.seq) || m.seq! < 1) throw new Error('field seq is not a positive integer');
  if (m.clientMsgId !== undefined && m.clientMsgId !== null && typeof m.clientMsgId !== 'string') throw new Error('field clientMsgId is not a string');
  if (m.rev !== undefined && !Number.isSafeInteger(m.rev)) throw new Error('field rev is not an integer');
  if (m.reactions !== undefined && !Array.isArray(m.reactions)) throw new Error('field reactions is not a list');
  const message: Message = {
    id: m.id!,
    roomId: m.roomId!,
    seq: m.seq!,
    senderId: m.senderId!,
    senderName: m.senderName!,
    text: m.text!,
    clientMsgId: m.clientMsgId ?? null,
    createdAt: m.createdAt!,
  };
  return withChangeFields(message, m);
}

/** What the change step answered. */
export type ChangeStep = { rev: number } | 'seed' | 'retry';

/** The cluster's per-room sequence, idempotency records and recent-message log. */
export class RedisMessageLog {
  /** QUEUE_HIGH_WATER is for the whole queue; each step can only see its own partition. */
  private readonly partitionHighWater: number;

  constructor(
    private readonly redis: RedisClient,
    private readonly layout: QueueLayout,
    private readonly logMaxLen: number,
    queueHighWater: number,
    private readonly nodeId: string,
    /** With REDIS_MIN_REPLICAS_ACK: appends go on its connection and wait for its replicas. */
    private readonly replicaAcks: ReplicaAcks | null = null,
  ) {
    this.partitionHighWater = Math.ceil(queueHighWater / layout.count);
  }

  /** `null` when the room's counter needs seeding first (see `seed`). */
  async append(m: NewMessage): Promise<AppendResult | EvictedOriginal | null> {
    // The script appends `,"seq":N}` to this prefix: the JSON is built once, here.
    const prefix = JSON.stringify(m).slice(0, -1);
    const room = this.layout.room(m.roomId);
    const reply = await APPEND.run(
      this.replicaAcks?.client ?? this.redis,
      [room.seq, room.idempotency(m.clientMsgId ?? '-'), room.log, room.partition.queue],
      [m.clientMsgId ?? '', prefix, this.logMaxLen, IDEMPOTENCY_TTL_SECONDS, m.roomId, this.partitionHighWater, this.nodeId],
    );
    const [status, value, originNode = '', evictedSeq] = reply as [number, string | number, string?, string?];
    // A retry's original is confirmed too: its first attempt may have failed on this wait.
    if (this.replicaAcks && (Number(status) === 1 || Number(status) === 0 || Number(status) === 3)) await this.replicaAcks.confirm(room.seq);
    switch (Number(status)) {
      case 1: {
        const message: Message = { id: m.id, roomId: m.roomId, seq: Number(value), senderId: m.senderId, senderName: m.senderName, text: m.text, clientMsgId: m.clientMsgId, createdAt: m.createdAt };
        if (m.replyTo !== undefined) message.replyTo = m.replyTo;
        return { message, created: true, deliverAgain: false };
      }
      case -1:
        return null;
      case -2:
        throw new AppError('UNAVAILABLE', 'the server is catching up on stored messages; try again shortly');
      case 3:
        return { evicted: true, seq: Number(evictedSeq), originNode };
      default:
        // A retry that lands on another node than the one that stored the message: that node
        // may have died between storing and fanning out, so the fan-out is repeated (clients
        // drop the duplicate by seq). A retry on the same node never delivers twice.
        return { message: parseMessage(String(value)), created: false, deliverAgain: elsewhere(originNode, this.nodeId) };
    }
  }

  /** The original of a retry whose message left the recent log, as the store returned it. */
  original(found: Message, evicted: EvictedOriginal): AppendResult {
    return { message: found, created: false, deliverAgain: elsewhere(evicted.originNode, this.nodeId) };
  }

  /**
   * Starts the room's counter at the store's last seq, or past the recent log if that holds
   * more, unless another node already did.
   */
  async seed(roomId: string, lastSeq: number): Promise<void> {
    const room = this.layout.room(roomId);
    await SEED.run(this.redis, [room.seq, room.log], [lastSeq]);
  }

  /**
   * Moves the room's counter up to at least `floor`. Used when the store shows the counter
   * went back (Redis restarted without the latest writes), so no further seq is reused.
   */
  async raiseTo(roomId: string, floor: number): Promise<void> {
    await RAISE.run(this.redis, [this.layout.room(roomId).seq], [floor]);
  }

  /**
   * Forgets a deleted room: its counter, its recent log (an append then finds no room), and
   * the idempotency records of the messages in that log. Records of older messages (no
   * text in them, only node and seq) are not found without a scan: they expire with their
   * TTL (IDEMPOTENCY_TTL_SECONDS).
   */
  async forget(roomId: string): Promise<void> {
    const room = this.layout.room(roomId);
    const recent = (await this.redis.xRange(room.log, '-', '+')) ?? [];
    const records = recent.flatMap((e) => {
      const { clientMsgId } = parseMessage(String(e.message.m));
      return clientMsgId === null ? [] : [room.idempotency(clientMsgId)];
    });
    // Every key carries the room's partition tag: one slot, one DEL.
    await this.redis.del([room.seq, room.log, room.rev, room.revs, room.changes, ...records]);
  }

  /** Records a change (see CHANGE); `message` is the state after it, without its new rev. */
  async change(message: Message, expectedRev: number): Promise<ChangeStep> {
    const room = this.layout.room(message.roomId);
    const { rev: _old, ...rest } = message;
    const prefix = JSON.stringify(rest).slice(0, -1);
    const reply = await CHANGE.run(
      this.replicaAcks?.client ?? this.redis,
      [room.rev, room.revs, room.changes, room.partition.queue],
      [message.seq, expectedRev, prefix, message.roomId, this.partitionHighWater],
    );
    const [status, value] = (reply as [number, number]).map(Number) as [number, number];
    if (status === 1 && this.replicaAcks) await this.replicaAcks.confirm(room.rev);
    switch (status) {
      case 1:
        return { rev: value };
      case -1:
        return 'seed';
      case -2:
        throw new AppError('UNAVAILABLE', 'the server is catching up on stored messages; try again shortly');
      default:
        return 'retry';
    }
  }

  /** The message's last rev (0: never changed) and its state while the store does not have it yet. */
  async state(roomId: string, seq: number): Promise<{ rev: number; pending: Message | null }> {
    const room = this.layout.room(roomId);
    const [rev, json] = (await STATE.run(this.redis, [room.revs, room.changes], [seq])) as [string, string];
    return { rev: Number(rev), pending: json ? parseMessage(json) : null };
  }

  /** Every change of the room the store does not have yet (few: the consumer settles them within moments). */
  async pendingChanges(roomId: string): Promise<Map<number, Message>> {
    const all = await this.redis.hGetAll(this.layout.room(roomId).changes);
    const bySeq = new Map<number, Message>();
    for (const json of Object.values(all ?? {})) {
      const m = parseMessage(String(json));
      bySeq.set(m.seq, m);
    }
    return bySeq;
  }

  /** The consumer wrote this change to the store. */
  async settled(message: Message): Promise<void> {
    const room = this.layout.room(message.roomId);
    await SETTLE.run(this.redis, [room.revs, room.changes], [message.seq, message.rev ?? 0]);
  }

  async seedRev(roomId: string, lastRev: number): Promise<void> {
    await SEED_REV.run(this.redis, [this.layout.room(roomId).rev], [lastRev]);
  }

  async currentRev(roomId: string): Promise<number | null> {
    const v = await this.redis.get(this.layout.room(roomId).rev);
    return v === null ? null : Number(v);
  }

  async currentSeq(roomId: string): Promise<number | null> {
    const v = await this.redis.get(this.layout.room(roomId).seq);
    return v === null ? null : Number(v);
  }

  /** From the recent log; null when Redis has no record or the message has left the log (the store has it). */
  async findByClientMsgId(roomId: string, clientMsgId: string): Promise<Message | null> {
    const room = this.layout.room(roomId);
    const record = await this.redis.get(room.idempotency(clientMsgId));
    if (record === null) return null;
    const cut = record.indexOf('\n');
    if (cut < 0) return parseMessage(record);
    const seq = Number(record.slice(cut + 1));
    const entry = (await this.redis.xRange(room.log, `${seq}-0`, `${seq}-0`))?.[0];
    return entry ? parseMessage(String(entry.message.m)) : null;
  }

  /** The part of a history query the recent log can answer. */
  async range(roomId: string, q: HistoryQuery): Promise<HistoryPage> {
    const start = q.after === undefined ? '-' : `${q.after + 1}-0`;
    const end = q.before === undefined ? '+' : q.before <= 1 ? null : `${q.before - 1}-0`;
    if (end === null) return { messages: [], hasMore: false };
    const key = this.layout.room(roomId).log;
    const ascending = q.after !== undefined;
    const entries = ascending
      ? await this.redis.xRange(key, start, end, { COUNT: q.limit + 1 })
      : await this.redis.xRevRange(key, end, start, { COUNT: q.limit + 1 });
    if (!entries) return { messages: [], hasMore: false };
    const messages = entries.slice(0, q.limit).map((e) => parseMessage(String(e.message.m)));
    return { messages: ascending ? messages : messages.reverse(), hasMore: entries.length > q.limit };
  }
}

