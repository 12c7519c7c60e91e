import type Database from 'better-sqlite3';
import { mkdirSync } from 'node:fs';
import { join } from 'node:path';
import type { Message, Room, RoomRole } from '../../protocol/models.js';
import type { ChangeRequest, ChangeResult } from '../../domain/message-change.js';
import type { AppendResult, HistoryPage, HistoryQuery, IdPage, Membership, NewMessage, NewRoom, ReadMarker, RoomPatch, SearchPage, Store } from '../../ports/store.js';
import { BackgroundCheckpointer } from './checkpointer.js';
import { GroupCommit } from './group-commit.js';
import { guardSqlite, openDatabase } from './sqlite-connection.js';
import { migrate } from './sqlite-schema.js';
import { SqliteRoomReads } from './sqlite-room-reads.js';
import { SqliteSearch } from './sqlite-search.js';
import { MESSAGE_COLUMNS, ROOM_MESSAGES, toMessage, type MessageRow } from './sqlite-rows.js';
import { WriterThreadClient } from './writer-thread-client.js';
import { fromWire } from './writer-thread-wire.js';

export interface SqliteStoreOptions {
  dataDir: string;
  /** File name inside dataDir (default chat.db). */
  fileName?: string;
  /**
   * How long a statement waits for another process's lock. better-sqlite3 waits
   * synchronously, so this is kept short: past it the caller gets UNAVAILABLE and retries.
   */
  busyTimeoutMs?: number;
  /** Told when the writer thread dies unasked; the next write starts a new one. */
  onWriterStopped?: (error: unknown) => void;
}

/**
 * The embedded store: one SQLite file in WAL mode, safe for several server processes on
 * one host. Reads run here, on the request thread (a WAL reader never waits for the
 * writer); every write goes to the writer thread (writer-thread-client.ts), and appends made
 * in the same event-loop turn travel and commit together (group-commit.ts).
 */
export class SqliteStore implements Store {
  readonly kind = 'sqlite' as const;
  private readonly db: Database.Database;
  private readonly writer: WriterThreadClient;
  private readonly appends: GroupCommit<NewMessage, AppendResult>;
  private readonly checkpointer: BackgroundCheckpointer;
  private readonly stmt;
  private readonly historyStatements = new Map<string, Database.Statement<unknown[], MessageRow>>();
  private readonly roomReads: SqliteRoomReads;
  private readonly searches: SqliteSearch;

  constructor(options: SqliteStoreOptions) {
    const file = join(options.dataDir, options.fileName ?? 'chat.db');
    mkdirSync(options.dataDir, { recursive: true });
    const busyTimeoutMs = options.busyTimeoutMs ?? 500;
    this.db = openDatabase(file, busyTimeoutMs);
    migrate(this.db);
    this.checkpointer = new BackgroundCheckpointer(file);
    this.writer = new WriterThreadClient(file, busyTimeoutMs, options.onWriterStopped);
    const db = this.db;
    this.stmt = {
      lastSeq: db.prepare<[string], number>('SELECT last_seq FROM rooms WHERE id = ?').pluck(),
      byClientMsgId: db.prepare<[string, string], MessageRow>(`SELECT ${MESSAGE_COLUMNS} FROM ${ROOM_MESSAGES} WHERE rooms.id = ? AND messages.client_msg_id = ?`),
      bySeq: db.prepare<[string, number], MessageRow>(`SELECT ${MESSAGE_COLUMNS} FROM ${ROOM_MESSAGES} WHERE rooms.id = ? AND messages.seq = ?`),
      byId: db.prepare<[string], MessageRow>(`SELECT ${MESSAGE_COLUMNS} FROM ${ROOM_MESSAGES} WHERE messages.id = ?`),
      lastRev: db.prepare<[string], number>('SELECT last_rev FROM rooms WHERE id = ?').pluck(),
      // `rev > 0` lets SQLite use the partial index of changed messages.
      changedSince: db.prepare<[string, number, number, number], MessageRow>(
        `SELECT ${MESSAGE_COLUMNS} FROM ${ROOM_MESSAGES}
         WHERE rooms.id = ? AND messages.rev > 0 AND messages.rev > ? AND messages.seq <= ? ORDER BY messages.rev LIMIT ?`,
      ),
      getCursor: db.prepare<[string, string], { seq: number }>('SELECT seq FROM member_cursors WHERE room_id = ? AND user_id = ?'),
      getReadMarker: db.prepare<[string, string], number>('SELECT seq FROM read_markers WHERE room_id = ? AND user_id = ?').pluck(),
      // One statement for any number of rooms: their ids travel as one JSON array.
      readMarkers: db.prepare<[string, string], { room_id: string; seq: number }>(
        'SELECT room_id, seq FROM read_markers WHERE user_id = ? AND room_id IN (SELECT value FROM json_each(?))',
      ),
    };
    this.roomReads = new SqliteRoomReads(db);
    this.searches = new SqliteSearch(db);
    this.appends = new GroupCommit((items) => this.appendBatch(items));
  }

  async createRoom(room: NewRoom): Promise<Room> {
    const created = { ...room, locked: room.locked ?? false, lobby: room.lobby ?? false };
    await this.writer.roomWrite({ kind: 'createRoom', room: created });
    return { ...created, lastSeq: 0, lastRev: 0 };
  }

  async getRoom(roomId: string): Promise<Room | null> {
    return this.roomReads.getRoom(roomId);
  }

  async updateRoom(roomId: string, patch: RoomPatch): Promise<Room | null> {
    if (!(await this.writer.roomWrite({ kind: 'updateRoom', roomId, patch }))) return null;
    return this.roomReads.getRoom(roomId);
  }

  deleteRoom(roomId: string): Promise<boolean> {
    return this.writer.roomWrite({ kind: 'deleteRoom', roomId });
  }

  async addMember(roomId: string, userId: string, options: { role?: RoomRole; name?: string } = {}): Promise<void> {
    const write = { kind: 'addMember', roomId, userId, role: options.role ?? 'member', name: options.name ?? null, addedAt: new Date().toISOString() } as const;
    await this.writer.roomWrite(write);
  }

  async getMember(roomId: string, userId: string): Promise<Membership | null> {
    return this.roomReads.getMember(roomId, userId);
  }

  async setRole(roomId: string, userId: string, role: RoomRole): Promise<void> {
    await this.writer.roomWrite({ kind: 'setRole', roomId, userId, role, addedAt: new Date().toISOString() });
  }

  removeMember(roomId: string, userId: string, ban: boolean): Promise<boolean> {
    return this.writer.roomWrite({ kind: 'removeMember', roomId, userId, ban, addedAt: new Date().toISOString() });
  }

  async listMembers(roomId: string, page: IdPage): Promise<Membership[]> {
    return this.roomReads.listMembers(roomId, page);
  }

  async listRoomsOf(userId: string, page: IdPage): Promise<Array<Room & { role: RoomRole }>> {
    return this.roomReads.listRoomsOf(userId, page);
  }

  append(message: NewMessage): Promise<AppendResult> {
    return this.appends.submit(message);
  }

  /** A new message comes back as its seq only: the rest is what was sent. */
  private async appendBatch(items: NewMessage[]): Promise<PromiseSettledResult<AppendResult>[]> {
    const outcomes = await this.writer.append(items);
    return outcomes.map((o, i): PromiseSettledResult<AppendResult> => {
      if (!o.ok) return { status: 'rejected', reason: fromWire(o.error) };
      if ('existing' in o) return { status: 'fulfilled', value: { message: o.existing, created: false } };
      const m = items[i]!;
      const message: Message = {
        id: m.id,
        roomId: m.roomId,
        seq: o.seq,
        senderId: m.senderId,
        senderName: m.senderName,
        text: m.text,
        clientMsgId: m.clientMsgId,
        createdAt: m.createdAt,
      };
      if (m.replyTo !== undefined) message.replyTo = m.replyTo;
      return { status: 'fulfilled', value: { message, created: true } };
    });
  }

  async insertAssigned(messages: Message[]): Promise<{ dropped: number }> {
    return { dropped: await this.writer.insertAssigned(messages) };
  }

  async findByClientMsgId(roomId: string, clientMsgId: string): Promise<Message | null> {
    const row = guardSqlite(() => this.stmt.byClientMsgId.get(roomId, clientMsgId));
    return row ? toMessage(row) : null;
  }

  async lastSeq(roomId: string): Promise<number> {
    return guardSqlite(() => this.stmt.lastSeq.get(roomId)) ?? 0;
  }

  async listMessages(roomId: string, q: HistoryQuery): Promise<HistoryPage> {
    const ascending = q.after !== undefined;
    const where = ['rooms.id = ?'];
    const params: (string | number)[] = [roomId];
    if (q.after !== undefined) {
      where.push('messages.seq > ?');
      params.push(q.after);
    }
    if (q.before !== undefined) {
      where.push('messages.seq < ?');
      params.push(q.before);
    }
    const sql = `SELECT ${MESSAGE_COLUMNS} FROM ${ROOM_MESSAGES} WHERE ${where.join(' AND ')}
                 ORDER BY messages.seq ${ascending ? 'ASC' : 'DESC'} LIMIT ?`;
    const rows = guardSqlite(() => this.historyStatement(sql).all(...params, q.limit + 1));
    const hasMore = rows.length > q.limit;
    const page = rows.slice(0, q.limit).map(toMessage);
    return { messages: ascending ? page : page.reverse(), hasMore };
  }

  /**
   * A history query's statement, prepared once per shape (after and/or before; four at most):
   * every rejoin with lastSeq reads a page, and preparing it each time was a visible part of
   * a reconnect storm's CPU (bench --only storm --profile).
   */
  private historyStatement(sql: string): Database.Statement<unknown[], MessageRow> {
    let statement = this.historyStatements.get(sql);
    if (!statement) {
      statement = this.db.prepare<unknown[], MessageRow>(sql);
      this.historyStatements.set(sql, statement);
    }
    return statement;
  }

  async getMessage(roomId: string, seq: number): Promise<Message | null> {
    const row = guardSqlite(() => this.stmt.bySeq.get(roomId, seq));
    return row ? toMessage(row) : null;
  }

  async findById(id: string): Promise<Message | null> {
    const row = guardSqlite(() => this.stmt.byId.get(id));
    return row ? toMessage(row) : null;
  }

  change(request: ChangeRequest): Promise<ChangeResult> {
    return this.writer.change(request);
  }

  applyAssigned(message: Message): Promise<'applied' | 'stale' | 'missing' | 'dropped'> {
    return this.writer.applyAssigned(message);
  }

  async lastRev(roomId: string): Promise<number> {
    return guardSqlite(() => this.stmt.lastRev.get(roomId)) ?? 0;
  }

  async listChangedSince(roomId: string, afterRev: number, maxSeq: number, limit: number): Promise<HistoryPage> {
    const rows = guardSqlite(() => this.stmt.changedSince.all(roomId, afterRev, maxSeq, limit + 1));
    return { messages: rows.slice(0, limit).map(toMessage), hasMore: rows.length > limit };
  }

  /**
   * What was stored before the call is found: the room's messages not yet in the index (all
   * of them at its first search) are indexed first, on the writer thread.
   */
  async searchMessages(roomId: string, q: string, limit: number): Promise<SearchPage> {
    const upTo = this.searches.unindexedUpTo(roomId);
    if (upTo !== null) await this.writer.indexForSearch(roomId, upTo);
    return this.searches.search(roomId, q, limit);
  }

  async setCursor(roomId: string, userId: string, seq: number): Promise<void> {
    await this.writer.setCursor(roomId, userId, seq);
  }

  async getCursor(roomId: string, userId: string): Promise<number> {
    return guardSqlite(() => this.stmt.getCursor.get(roomId, userId))?.seq ?? 0;
  }

  async setReadMarker(roomId: string, userId: string, seq: number): Promise<boolean> {
    const [moved] = await this.writer.raiseReadMarkers([{ roomId, userId, seq }]);
    return moved === true;
  }

  async setReadMarkers(markers: ReadMarker[]): Promise<void> {
    if (markers.length > 0) await this.writer.raiseReadMarkers(markers);
  }

  async getReadMarker(roomId: string, userId: string): Promise<number> {
    return guardSqlite(() => this.stmt.getReadMarker.get(roomId, userId)) ?? 0;
  }

  async readMarkers(userId: string, roomIds: string[]): Promise<Map<string, number>> {
    if (roomIds.length === 0) return new Map();
    const rows = guardSqlite(() => this.stmt.readMarkers.all(userId, JSON.stringify(roomIds)));
    return new Map(rows.map((r) => [r.room_id, r.seq]));
  }

  async ping(): Promise<void> {
    guardSqlite(() => this.db.prepare('SELECT 1').get());
  }

  /** Writes already made are committed first. */
  async close(): Promise<void> {
    await this.appends.drain();
    await this.writer.close();
    await this.checkpointer.close();
    if (this.db.open) this.db.close();
  }
}
