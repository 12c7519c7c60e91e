import mongoose, { type Connection } from 'mongoose';
import { AppError, roomNotFound, seqConflict } from '../../domain/app-error.js';
import type { Message, Room } from '../../protocol/models.js';
import type { Logger } from '../../ports/logger.js';
import type { AppendResult, HistoryPage, HistoryQuery, NewMessage, NewRoom, Store } from '../../ports/store.js';
import { bindModels, type MessageDoc, type MongoModels, type RoomDoc } from './mongo-models.js';

export interface MongoStoreOptions {
  uri: string;
  production: boolean;
  logger: Logger;
  serverSelectionTimeoutMs?: number;
}

const SAFE = { sanitizeFilter: true } as const;
const DUPLICATE_KEY = 11000;

const toRoom = (d: RoomDoc): Room => ({
  id: d._id,
  name: d.name,
  isPrivate: d.isPrivate,
  maxParticipants: d.maxParticipants,
  createdBy: d.createdBy,
  createdAt: d.createdAt,
  lastSeq: d.lastSeq,
});

const toMessage = (d: MessageDoc): Message => ({
  id: d._id,
  roomId: d.roomId,
  seq: d.seq,
  senderId: d.senderId,
  senderName: d.senderName,
  text: d.text,
  clientMsgId: d.clientMsgId ?? null,
  createdAt: d.createdAt,
});

/**
 * The MongoDB store through mongoose: its own connection, no command buffering (an outage
 * fails fast instead of hanging), sanitized filters, and a transaction where a write spans
 * documents (the room's seq counter and the message). Transactions need a replica set.
 */
export class MongoStore implements Store {
  readonly kind = 'mongo' as const;
  private readonly conn: Connection;
  private readonly m: MongoModels;

  constructor(private readonly options: MongoStoreOptions) {
    this.conn = mongoose.createConnection(options.uri, {
      bufferCommands: false,
      autoIndex: true,
      serverSelectionTimeoutMS: options.serverSelectionTimeoutMs ?? 3000,
      socketTimeoutMS: 10_000,
      ...(options.production ? { writeConcern: { w: 'majority', j: true, wtimeoutMS: 5000 } } : {}),
    });
    this.conn.on('error', (err: unknown) => options.logger.warn('mongodb connection error', { err }));
    this.conn.on('disconnected', () => options.logger.warn('mongodb disconnected'));
    this.conn.on('reconnected', () => options.logger.info('mongodb reconnected'));
    this.m = bindModels(this.conn);
  }

  /**
   * Connects and builds the indexes. When MongoDB is unreachable the server still starts
   * (chat is queued in cluster mode, readiness says "degraded") and this keeps retrying in
   * the background, so an outage at start-up heals by itself.
   */
  async connect(): Promise<void> {
    try {
      await this.conn.asPromise();
      await this.initIndexes();
    } catch (err) {
      this.options.logger.error(
        `MongoDB refused or unreachable at ${new URL(this.options.uri).host} — is mongod running (as a replica set), and is MONGODB_URI right? Retrying in the background.`,
        { err: (err as Error).message },
      );
      this.scheduleReconnect();
    }
  }

  private reconnectTimer: NodeJS.Timeout | null = null;
  private closed = false;

  private scheduleReconnect(): void {
    if (this.closed || this.reconnectTimer) return;
    this.reconnectTimer = setTimeout(() => {
      this.reconnectTimer = null;
      this.conn
        .openUri(this.options.uri)
        .then(() => this.initIndexes())
        .then(() => this.options.logger.info('mongodb connected'))
        .catch(() => this.scheduleReconnect());
    }, 3000);
    this.reconnectTimer.unref();
  }

  private async initIndexes(): Promise<void> {
    await Promise.all([this.m.Room.init(), this.m.Message.init(), this.m.Cursor.init()]);
  }

  async createRoom(room: NewRoom): Promise<Room> {
    await this.guard(() => this.m.Room.create({ _id: room.id, ...room, lastSeq: 0, members: [] }));
    return { ...room, lastSeq: 0 };
  }

  async getRoom(roomId: string): Promise<Room | null> {
    const doc = await this.guard(() => this.m.Room.findOne({ _id: roomId }, null, SAFE).lean<RoomDoc>());
    return doc ? toRoom(doc) : null;
  }

  async addMember(roomId: string, userId: string): Promise<void> {
    await this.guard(() => this.m.Room.updateOne({ _id: roomId }, { $addToSet: { members: userId } }, SAFE));
  }

  async isMember(roomId: string, userId: string): Promise<boolean> {
    return (await this.guard(() => this.m.Room.exists({ _id: roomId, members: userId }).setOptions(SAFE))) !== null;
  }

  async append(message: NewMessage): Promise<AppendResult> {
    if (message.clientMsgId !== null) {
      const existing = await this.findByClientMsgId(message.roomId, message.clientMsgId);
      if (existing) return { message: existing, created: false };
    }
    try {
      return await this.guard(() =>
        this.conn.transaction(async (session) => {
          const room = await this.m.Room.findOneAndUpdate({ _id: message.roomId }, { $inc: { lastSeq: 1 } }, { ...SAFE, session, new: true }).lean<RoomDoc>();
          if (!room) throw roomNotFound(message.roomId);
          const stored: Message = { id: message.id, roomId: message.roomId, seq: room.lastSeq, senderId: message.senderId, senderName: message.senderName, text: message.text, clientMsgId: message.clientMsgId, createdAt: message.createdAt };
          await this.m.Message.create([{ _id: stored.id, ...stored }], { session });
          return { message: stored, created: true };
        }),
      );
    } catch (err) {
      // A concurrent retry with the same clientMsgId won the race: return its message.
      if ((err as { code?: number }).code === DUPLICATE_KEY && message.clientMsgId !== null) {
        const existing = await this.findByClientMsgId(message.roomId, message.clientMsgId);
        if (existing) return { message: existing, created: false };
      }
      throw err;
    }
  }

  async insertAssigned(messages: Message[]): Promise<void> {
    if (messages.length === 0) return;
    try {
      await this.guard(() => this.m.Message.insertMany(messages.map((m) => ({ _id: m.id, ...m })), { ordered: false }));
    } catch (err) {
      const writeErrors = (err as { writeErrors?: { code?: number; err?: { code?: number } }[] }).writeErrors;
      const onlyDuplicates = writeErrors?.every((e) => (e.code ?? e.err?.code) === DUPLICATE_KEY) ?? (err as { code?: number }).code === DUPLICATE_KEY;
      if (!onlyDuplicates) throw err;
      // A duplicate is fine when it is this very message (redelivery); another message in
      // its slot means the sequence was reused.
      const ids = messages.map((m) => m.id);
      const present = new Set((await this.m.Message.find({ _id: { $in: ids } }, { _id: 1 }).setOptions(SAFE).lean<{ _id: string }[]>()).map((d) => d._id));
      const missing = messages.find((m) => !present.has(m.id));
      if (missing) throw seqConflict(missing);
    }
    const top = new Map<string, number>();
    for (const m of messages) top.set(m.roomId, Math.max(top.get(m.roomId) ?? 0, m.seq));
    await this.guard(() =>
      this.m.Room.bulkWrite([...top].map(([roomId, seq]) => ({ updateOne: { filter: { _id: roomId }, update: { $max: { lastSeq: seq } } } }))),
    );
  }

  async findByClientMsgId(roomId: string, clientMsgId: string): Promise<Message | null> {
    const doc = await this.guard(() => this.m.Message.findOne({ roomId, clientMsgId }, null, SAFE).lean<MessageDoc>());
    return doc ? toMessage(doc) : null;
  }

  async listMessages(roomId: string, q: HistoryQuery): Promise<HistoryPage> {
    const ascending = q.after !== undefined;
    const seq: Record<string, number> = {};
    if (q.after !== undefined) seq.$gt = q.after;
    if (q.before !== undefined) seq.$lt = q.before;
    const filter = Object.keys(seq).length ? { roomId, seq } : { roomId };
    const docs = await this.guard(() =>
      this.m.Message.find(filter)
        .sort({ seq: ascending ? 1 : -1 })
        .limit(q.limit + 1)
        .lean<MessageDoc[]>(),
    );
    const page = docs.slice(0, q.limit).map(toMessage);
    return { messages: ascending ? page : page.reverse(), hasMore: docs.length > q.limit };
  }

  async setCursor(roomId: string, userId: string, seq: number): Promise<void> {
    await this.guard(() => this.m.Cursor.updateOne({ roomId, userId }, { $max: { seq } }, { ...SAFE, upsert: true }));
  }

  async lastSeq(roomId: string): Promise<number> {
    return (await this.getRoom(roomId))?.lastSeq ?? 0;
  }

  async getCursor(roomId: string, userId: string): Promise<number> {
    const doc = await this.guard(() => this.m.Cursor.findOne({ roomId, userId }, null, SAFE).lean<{ seq: number }>());
    return doc?.seq ?? 0;
  }

  async ping(): Promise<void> {
    const db = this.conn.db;
    if (!db) throw new AppError('UNAVAILABLE', 'mongodb is not connected');
    await db.admin().ping();
  }

  async close(): Promise<void> {
    this.closed = true;
    if (this.reconnectTimer) clearTimeout(this.reconnectTimer);
    await this.conn.close();
  }

  /** Connection-level failures become UNAVAILABLE (retryable); logic errors pass through. */
  private async guard<R>(fn: () => Promise<R>): Promise<R> {
    try {
      return await fn();
    } catch (err) {
      if (err instanceof AppError) throw err;
      const name = (err as Error).name ?? '';
      // Not connected (yet), or the connection failed mid-call: an outage, not a bug.
      if (this.conn.readyState !== 1 || /MongoNetwork|MongoServerSelection|MongoNotConnected|MongoTimeout|PoolCleared/.test(name)) {
        throw new AppError('UNAVAILABLE', 'the message store is unreachable; try again');
      }
      throw err;
    }
  }
}
