import mongoose from 'mongoose';
import { AppError, seqConflict, unavailable } from '../../domain/app-error.js';
import type { Message, Room, RoomRole } from '../../protocol/models.js';
import type { ChangeRequest, ChangeResult } from '../../domain/message-change.js';
import { MongoChanges } from './mongo-changes.js';
import type { AppendResult, HistoryPage, HistoryQuery, IdPage, Membership, NewMessage, NewRoom, ReadMarker, RoomPatch, SearchPage, Store } from '../../ports/store.js';
import { MongoAppender, toDoc, toMessage } from './mongo-append.js';
import { MongoConnection, type MongoConnectionOptions } from './mongo-connection.js';
import { isDuplicateKey, isMongoOutage } from './mongo-errors.js';
import { MongoMemberships, toRoom } from './mongo-memberships.js';
import { MongoReadMarkers } from './mongo-read-markers.js';
import type { MessageDoc, MongoModels, RoomDoc } from './mongo-models.js';
import { MongoSearch } from './mongo-search.js';

export interface MongoStoreOptions extends MongoConnectionOptions {
  /** This node's id, stamped on the messages it sequences (see AppendResult.deliverAgain). */
  nodeId?: string;
}

/** Filters built from request values: an object where a string belongs is compared, never run. */
const SAFE = { sanitizeFilter: true } as const;

/**
 * The MongoDB store through mongoose. It needs no transaction anywhere, so a standalone
 * server (the seed's `mongodb://localhost:27017/chat-app`, and FerretDB, which the tests
 * run) keeps every promise, and a replica set runs the very same code: unique indexes make
 * each seq and each clientMsgId storable once (see MongoAppender), and every multi-document
 * write is ordered so that a retry completes it. It answers UNAVAILABLE until it is
 * connected with its indexes built, and whenever MongoDB cannot be reached.
 */
export class MongoStore implements Store {
  readonly kind = 'mongo' as const;
  private readonly connection: MongoConnection;
  private readonly m: MongoModels;
  private readonly appender: MongoAppender;
  private readonly members: MongoMemberships;
  private readonly markers: MongoReadMarkers;
  private readonly changes: MongoChanges;
  private readonly searches: MongoSearch;

  constructor(options: MongoStoreOptions) {
    this.connection = new MongoConnection(options);
    this.m = this.connection.models;
    this.appender = new MongoAppender(this.m, options.nodeId);
    this.members = new MongoMemberships(this.m);
    this.changes = new MongoChanges(this.m, (fn) => this.guard(fn), (roomId, seq) => this.getMessage(roomId, seq));
    this.markers = new MongoReadMarkers(this.m);
    this.searches = new MongoSearch(this.m);
  }

  /** The mongoose connection (tests read its options). */
  get conn(): mongoose.Connection {
    return this.connection.conn;
  }

  /**
   * Connects and builds the indexes. When MongoDB is unreachable the server still starts
   * (UNAVAILABLE for writes; in cluster mode chat is queued) and the connection keeps
   * trying in the background, so an outage at start-up heals by itself.
   */
  connect(): Promise<void> {
    return this.connection.open();
  }

  async createRoom(room: NewRoom): Promise<Room> {
    const created = { ...room, locked: room.locked ?? false, lobby: room.lobby ?? false };
    await this.guard(() => this.m.Room.create({ _id: room.id, ...created, lastSeq: 0 }));
    return { ...created, lastSeq: 0, lastRev: 0 };
  }

  async getRoom(roomId: string): Promise<Room | null> {
    const doc = await this.guard(() => this.m.Room.findOne({ _id: roomId }, null, SAFE).lean<RoomDoc>());
    return doc ? toRoom(doc) : null;
  }

  updateRoom(roomId: string, patch: RoomPatch): Promise<Room | null> {
    return this.guard(() => this.members.updateRoom(roomId, patch));
  }

  deleteRoom(roomId: string): Promise<boolean> {
    return this.guard(() => this.members.deleteRoom(roomId));
  }

  addMember(roomId: string, userId: string, options: { role?: RoomRole; name?: string } = {}): Promise<void> {
    return this.guard(() => this.members.addMember(roomId, userId, options.role ?? 'member', options.name ?? null));
  }

  getMember(roomId: string, userId: string): Promise<Membership | null> {
    return this.guard(() => this.members.getMember(roomId, userId));
  }

  setRole(roomId: string, userId: string, role: RoomRole): Promise<void> {
    return this.guard(() => this.members.setRole(roomId, userId, role));
  }

  removeMember(roomId: string, userId: string, ban: boolean): Promise<boolean> {
    return this.guard(() => this.members.removeMember(roomId, userId, ban));
  }

  listMembers(roomId: string, page: IdPage): Promise<Membership[]> {
    return this.guard(() => this.members.listMembers(roomId, page));
  }

  listRoomsOf(userId: string, page: IdPage): Promise<Array<Room & { role: RoomRole }>> {
    return this.guard(() => this.members.listRoomsOf(userId, page));
  }

  append(message: NewMessage): Promise<AppendResult> {
    return this.guard(() => this.appender.append(message));
  }

  /**
   * Pre-sequenced messages (cluster mode: Redis assigned seq). Inserted unordered, so one
   * refused message does not hold back the rest; then each room's counter is raised to what
   * is stored, also when part of the batch was refused, so the counter never lags behind
   * stored messages. A refusal that is this very message (a redelivery) counts as done.
   * An outage midway leaves the entries in the queue, whose redelivery finishes the job.
   */
  async insertAssigned(batch: Message[]): Promise<{ dropped: number }> {
    if (batch.length === 0) return { dropped: 0 };
    // Messages of a room deleted while they were queued are dropped: its history is gone.
    const roomIds = mongoose.trusted({ $in: [...new Set(batch.map((m) => m.roomId))] });
    const live = new Set((await this.guard(() => this.m.Room.find({ _id: roomIds }, { _id: 1 }, SAFE).lean<{ _id: string }[]>())).map((r) => r._id));
    const messages = batch.filter((m) => live.has(m.roomId));
    const dropped = batch.length - messages.length;
    if (messages.length === 0) return { dropped };
    let failure: unknown = null;
    try {
      await this.guard(() => this.m.Message.insertMany(messages.map((m) => toDoc(m)), { ordered: false, throwOnValidationError: true }));
    } catch (err) {
      if (err instanceof AppError) throw err;
      failure = err;
    }
    let stored = messages;
    if (failure) {
      // Our own ids (not request values): trusted, so sanitizeFilter leaves the $in alone.
      const ids = mongoose.trusted({ $in: messages.map((m) => m.id) });
      const present = await this.guard(() => this.m.Message.find({ _id: ids }, { _id: 1, roomId: 1, seq: 1 }, SAFE).lean<Pick<MessageDoc, '_id' | 'roomId' | 'seq'>[]>());
      const same = new Set(present.map((d) => `${d._id}\n${d.roomId}\n${d.seq}`));
      stored = messages.filter((m) => same.has(`${m.id}\n${m.roomId}\n${m.seq}`));
    }
    const top = new Map<string, number>();
    for (const m of stored) top.set(m.roomId, Math.max(top.get(m.roomId) ?? 0, m.seq));
    if (top.size > 0) {
      const raise = [...top].map(([roomId, seq]) => ({ updateOne: { filter: { _id: roomId }, update: { $max: { lastSeq: seq } } } }));
      await this.guard(() => this.m.Room.bulkWrite(raise));
    }
    const missing = messages.find((m) => !stored.includes(m));
    // Its (room, seq) or (room, clientMsgId) is held by another message: the seq was reused.
    if (missing) throw isDuplicateKey(failure) ? seqConflict(missing) : failure;
    return { dropped };
  }

  async findByClientMsgId(roomId: string, clientMsgId: string): Promise<Message | null> {
    const doc = await this.guard(() => this.appender.byClientKey(roomId, `c:${clientMsgId}`));
    return doc ? toMessage(doc) : null;
  }

  /**
   * The newest seq stored in the room: the room's counter, or the newest message if that is
   * higher (the counter step of an append whose node died right after the insert runs only
   * at the room's next append).
   */
  async lastSeq(roomId: string): Promise<number> {
    const [room, newest] = await this.guard(() =>
      Promise.all([this.m.Room.findOne({ _id: roomId }, { lastSeq: 1 }, SAFE).lean<{ lastSeq: number }>(), this.appender.newestSeq(roomId)]),
    );
    return Math.max(room?.lastSeq ?? 0, newest);
  }

  async listMessages(roomId: string, q: HistoryQuery): Promise<HistoryPage> {
    const ascending = q.after !== undefined;
    const range: Record<string, number> = {};
    if (q.after !== undefined) range.$gt = q.after;
    if (q.before !== undefined) range.$lt = q.before;
    // The bounds are numbers the protocol schema validated; the range operators are ours.
    const filter = Object.keys(range).length ? { roomId, seq: mongoose.trusted(range) } : { roomId };
    const docs = await this.guard(() =>
      this.m.Message.find(filter, { terms: 0 }, SAFE)
        .sort({ seq: ascending ? 1 : -1 })
        .limit(q.limit + 1)
        .lean<MessageDoc[]>(),
    );
    const page = docs.slice(0, q.limit).map(toMessage);
    return { messages: ascending ? page : page.reverse(), hasMore: docs.length > q.limit };
  }

  async getMessage(roomId: string, seq: number): Promise<Message | null> {
    const doc = await this.guard(() => this.m.Message.findOne({ roomId, seq }, null, SAFE).lean<MessageDoc>());
    return doc ? toMessage(doc) : null;
  }

  async findById(id: string): Promise<Message | null> {
    const doc = await this.guard(() => this.m.Message.findOne({ _id: id }, null, SAFE).lean<MessageDoc>());
    return doc ? toMessage(doc) : null;
  }

  change(req: ChangeRequest): Promise<ChangeResult> {
    return this.changes.change(req);
  }

  applyAssigned(m: Message): Promise<'applied' | 'stale' | 'missing' | 'dropped'> {
    return this.changes.applyAssigned(m);
  }

  lastRev(roomId: string): Promise<number> {
    return this.changes.lastRev(roomId);
  }

  listChangedSince(roomId: string, afterRev: number, maxSeq: number, limit: number): Promise<HistoryPage> {
    return this.changes.listChangedSince(roomId, afterRev, maxSeq, limit);
  }

  searchMessages(roomId: string, q: string, limit: number): Promise<SearchPage> {
    return this.guard(() => this.searches.search(roomId, q, limit));
  }

  async setCursor(roomId: string, userId: string, seq: number): Promise<void> {
    await this.guard(() => this.m.Cursor.updateOne({ roomId, userId }, { $max: { seq } }, { ...SAFE, upsert: true }));
  }

  async getCursor(roomId: string, userId: string): Promise<number> {
    const doc = await this.guard(() => this.m.Cursor.findOne({ roomId, userId }, null, SAFE).lean<{ seq: number }>());
    return doc?.seq ?? 0;
  }

  setReadMarker(roomId: string, userId: string, seq: number): Promise<boolean> {
    return this.guard(() => this.markers.raise(roomId, userId, seq));
  }

  setReadMarkers(markers: ReadMarker[]): Promise<void> {
    return this.guard(() => this.markers.raiseAll(markers));
  }

  getReadMarker(roomId: string, userId: string): Promise<number> {
    return this.guard(() => this.markers.get(roomId, userId));
  }

  readMarkers(userId: string, roomIds: string[]): Promise<Map<string, number>> {
    return this.guard(() => this.markers.of(userId, roomIds));
  }

  async ping(): Promise<void> {
    await this.guard(() => this.connection.ping());
  }

  close(): Promise<void> {
    return this.connection.close();
  }

  /**
   * The one place a driver error is judged: an outage (or a store not yet connected and
   * indexed) becomes UNAVAILABLE with the driver's error as its cause; logic errors pass.
   */
  private async guard<R>(fn: () => Promise<R>): Promise<R> {
    this.connection.assertServing();
    try {
      return await fn();
    } catch (err) {
      if (err instanceof AppError) throw err;
      if (isMongoOutage(err) || this.conn.readyState !== mongoose.ConnectionStates.connected) {
        throw unavailable('the message store is unreachable; try again', err);
      }
      throw err;
    }
  }
}
