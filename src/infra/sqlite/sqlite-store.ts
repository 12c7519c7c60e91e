import Database from 'better-sqlite3';
import { mkdirSync } from 'node:fs';
import { join } from 'node:path';
import { AppError, roomNotFound, seqConflict } from '../../domain/app-error.js';
import type { Message, Room } from '../../protocol/models.js';
import type { AppendResult, HistoryPage, HistoryQuery, NewMessage, NewRoom, Store } from '../../ports/store.js';
import { BackgroundCheckpointer } from './checkpointer.js';
import { GroupCommit, type Outcome } from './group-commit.js';
import { migrate } from './sqlite-schema.js';
import { MESSAGE_COLUMNS, toMessage, toRoom, type MessageRow, type RoomRow } from './sqlite-rows.js';

export interface SqliteStoreOptions {
  dataDir: string;
  /** File name inside dataDir; ':memory:' for a private in-memory database. */
  fileName?: string;
  /**
   * How long a write waits for another process's lock. better-sqlite3 waits synchronously,
   * so this is kept short: past it the caller gets UNAVAILABLE and retries.
   */
  busyTimeoutMs?: number;
}

/** The fast append path met a case only the careful path answers exactly. */
class FastPathMiss extends Error {}

/**
 * The embedded store: one SQLite file in WAL mode, safe for several server processes on
 * one host. Appends made in the same event-loop turn commit together (group commit).
 */
export class SqliteStore implements Store {
  readonly kind = 'sqlite' as const;
  private readonly db: Database.Database;
  private readonly appends: GroupCommit<NewMessage, AppendResult>;
  private readonly checkpointer: BackgroundCheckpointer | null;
  private readonly fastAppend: Database.Transaction<(items: NewMessage[]) => Outcome<AppendResult>[]>;
  private readonly stmt;

  constructor(options: SqliteStoreOptions) {
    const file = options.fileName ?? 'chat.db';
    if (file !== ':memory:') mkdirSync(options.dataDir, { recursive: true });
    this.db = new Database(file === ':memory:' ? file : join(options.dataDir, file), {
      timeout: options.busyTimeoutMs ?? 500,
    });
    this.db.pragma('journal_mode = WAL');
    // NORMAL in WAL mode: a commit survives a crash of this process (the OS holds it);
    // only a power loss can take the last commits. FULL would fsync every batch.
    this.db.pragma('synchronous = NORMAL');
    this.db.pragma('foreign_keys = ON');
    // Hot index pages stay in memory (the default cache is 2 MB).
    this.db.pragma('cache_size = -32768');
    migrate(this.db);
    if (file !== ':memory:') {
      // Checkpoints run on a worker thread; this connection checkpoints only as a fallback.
      this.db.pragma('wal_autocheckpoint = 10000');
      this.checkpointer = new BackgroundCheckpointer(join(options.dataDir, file));
    } else {
      this.checkpointer = null;
    }
    const db = this.db;
    this.stmt = {
      insertRoom: db.prepare(
        `INSERT INTO rooms (id, name, is_private, max_participants, created_by, created_at, last_seq)
         VALUES (@id, @name, @isPrivate, @maxParticipants, @createdBy, @createdAt, 0)`,
      ),
      getRoom: db.prepare<[string], RoomRow>('SELECT * FROM rooms WHERE id = ?'),
      bumpSeq: db.prepare<[string], { last_seq: number }>(
        'UPDATE rooms SET last_seq = last_seq + 1 WHERE id = ? RETURNING last_seq',
      ),
      raiseSeq: db.prepare('UPDATE rooms SET last_seq = MAX(last_seq, ?) WHERE id = ?'),
      addMember: db.prepare('INSERT INTO room_members (room_id, user_id, added_at) VALUES (?, ?, ?) ON CONFLICT DO NOTHING'),
      isMember: db.prepare<[string, string], { one: number }>(
        'SELECT 1 AS one FROM room_members WHERE room_id = ? AND user_id = ?',
      ),
      insertMessage: db.prepare(
        `INSERT INTO messages (${MESSAGE_COLUMNS})
         VALUES (@id, @roomId, @seq, @senderId, @senderName, @text, @clientMsgId, @createdAt)`,
      ),
      // The fast append path: positional, and a taken slot is reported (changes 0), not thrown.
      insertNew: db.prepare<[string, string, number, string, string, string, string | null, string]>(
        `INSERT INTO messages (${MESSAGE_COLUMNS}) VALUES (?, ?, ?, ?, ?, ?, ?, ?) ON CONFLICT DO NOTHING`,
      ),
      lastSeq: db.prepare<[string], number>('SELECT last_seq FROM rooms WHERE id = ?').pluck(),
      setSeq: db.prepare<[number, string]>('UPDATE rooms SET last_seq = ? WHERE id = ?'),
      insertAssigned: db.prepare(
        // ON CONFLICT (not OR IGNORE): only "already stored" is skipped; a row that breaks
        // NOT NULL or a type rule still fails, so a bad queue entry cannot vanish silently.
        `INSERT INTO messages (${MESSAGE_COLUMNS})
         VALUES (@id, @roomId, @seq, @senderId, @senderName, @text, @clientMsgId, @createdAt)
         ON CONFLICT DO NOTHING`,
      ),
      existsId: db.prepare<[string], { one: number }>('SELECT 1 AS one FROM messages WHERE id = ?'),
      byClientMsgId: db.prepare<[string, string], MessageRow>(
        `SELECT ${MESSAGE_COLUMNS} FROM messages WHERE room_id = ? AND client_msg_id = ?`,
      ),
      setCursor: db.prepare(
        `INSERT INTO member_cursors (room_id, user_id, seq) VALUES (?, ?, ?)
         ON CONFLICT (room_id, user_id) DO UPDATE SET seq = MAX(seq, excluded.seq)`,
      ),
      getCursor: db.prepare<[string, string], { seq: number }>(
        'SELECT seq FROM member_cursors WHERE room_id = ? AND user_id = ?',
      ),
    };
    this.fastAppend = db.transaction((items: NewMessage[]) => this.fastAppendBatch(items));
    this.appends = new GroupCommit((items) => this.appendBatch(items));
  }

  async createRoom(room: NewRoom): Promise<Room> {
    this.guard(() => this.stmt.insertRoom.run({ ...room, isPrivate: room.isPrivate ? 1 : 0 }));
    return { ...room, lastSeq: 0 };
  }

  async getRoom(roomId: string): Promise<Room | null> {
    const row = this.guard(() => this.stmt.getRoom.get(roomId));
    return row ? toRoom(row) : null;
  }

  async addMember(roomId: string, userId: string): Promise<void> {
    this.guard(() => this.stmt.addMember.run(roomId, userId, new Date().toISOString()));
  }

  async isMember(roomId: string, userId: string): Promise<boolean> {
    return this.guard(() => this.stmt.isMember.get(roomId, userId)) !== undefined;
  }

  append(message: NewMessage): Promise<AppendResult> {
    return this.appends.submit(message);
  }

  /**
   * One IMMEDIATE transaction for the whole batch. The fast path reads each room's counter
   * once, inserts every message with one statement and writes each counter back once; a
   * taken clientMsgId shows up as an insert that changed nothing. Anything unexpected (a seq
   * slot already taken, any error but a lock) rolls the fast attempt back and replays the
   * batch on the careful path, one savepoint per item, whose outcomes are the reference.
   */
  private appendBatch(items: NewMessage[]): Outcome<AppendResult>[] {
    try {
      return this.fastAppend.immediate(items);
    } catch (error) {
      const code = (error as { code?: string }).code;
      // The write lock is held by another process: the careful path would wait for it again.
      if (code === 'SQLITE_BUSY' || code === 'SQLITE_LOCKED') throw new AppError('UNAVAILABLE', 'the message store is busy; try again');
    }
    return this.carefulAppend(items);
  }

  private fastAppendBatch(items: NewMessage[]): Outcome<AppendResult>[] {
    const counters = new Map<string, { seq: number; start: number } | null>();
    const outcomes = items.map((m): Outcome<AppendResult> => {
      let counter = counters.get(m.roomId);
      if (counter === undefined) {
        const seq = this.stmt.lastSeq.get(m.roomId);
        counter = seq === undefined ? null : { seq, start: seq };
        counters.set(m.roomId, counter);
      }
      if (counter === null) {
        // As on the careful path, a known clientMsgId answers before the room check.
        const existing = m.clientMsgId === null ? undefined : this.stmt.byClientMsgId.get(m.roomId, m.clientMsgId);
        return existing ? { ok: true, value: { message: toMessage(existing), created: false } } : { ok: false, error: roomNotFound(m.roomId) };
      }
      const seq = counter.seq + 1;
      const changed = this.stmt.insertNew.run(m.id, m.roomId, seq, m.senderId, m.senderName, m.text, m.clientMsgId, m.createdAt).changes;
      if (changed === 0) {
        const existing = m.clientMsgId === null ? undefined : this.stmt.byClientMsgId.get(m.roomId, m.clientMsgId);
        if (!existing) throw new FastPathMiss();
        return { ok: true, value: { message: toMessage(existing), created: false } };
      }
      counter.seq = seq;
      const message: Message = {
        id: m.id,
        roomId: m.roomId,
        seq,
        senderId: m.senderId,
        senderName: m.senderName,
        text: m.text,
        clientMsgId: m.clientMsgId,
        createdAt: m.createdAt,
      };
      return { ok: true, value: { message, created: true } };
    });
    for (const [roomId, counter] of counters) if (counter && counter.seq !== counter.start) this.stmt.setSeq.run(counter.seq, roomId);
    return outcomes;
  }

  /** The reference path: each item in its own savepoint, so one failure spares the rest. */
  private carefulAppend(items: NewMessage[]): Outcome<AppendResult>[] {
    const appendOne = this.db.transaction((m: NewMessage): AppendResult => {
      if (m.clientMsgId !== null) {
        const existing = this.stmt.byClientMsgId.get(m.roomId, m.clientMsgId);
        if (existing) return { message: toMessage(existing), created: false };
      }
      const bumped = this.stmt.bumpSeq.get(m.roomId);
      if (!bumped) throw roomNotFound(m.roomId);
      const message: Message = {
        id: m.id,
        roomId: m.roomId,
        seq: bumped.last_seq,
        senderId: m.senderId,
        senderName: m.senderName,
        text: m.text,
        clientMsgId: m.clientMsgId,
        createdAt: m.createdAt,
      };
      this.stmt.insertMessage.run(message);
      return { message, created: true };
    });
    const all = this.db.transaction(() =>
      items.map((m): Outcome<AppendResult> => {
        try {
          return { ok: true, value: appendOne(m) };
        } catch (error) {
          return { ok: false, error };
        }
      }),
    );
    return this.guard(() => all.immediate());
  }

  async insertAssigned(messages: Message[]): Promise<void> {
    const run = this.db.transaction((list: Message[]) => {
      for (const m of list) {
        if (this.stmt.insertAssigned.run(m).changes === 0 && !this.stmt.existsId.get(m.id)) {
          // The slot is taken by another message: the sequence was reused (Redis lost data).
          throw seqConflict(m);
        }
        this.stmt.raiseSeq.run(m.seq, m.roomId);
      }
    });
    this.guard(() => run.immediate(messages));
  }

  async findByClientMsgId(roomId: string, clientMsgId: string): Promise<Message | null> {
    const row = this.guard(() => this.stmt.byClientMsgId.get(roomId, clientMsgId));
    return row ? toMessage(row) : null;
  }

  async listMessages(roomId: string, q: HistoryQuery): Promise<HistoryPage> {
    const ascending = q.after !== undefined;
    const where = ['room_id = ?'];
    const params: (string | number)[] = [roomId];
    if (q.after !== undefined) {
      where.push('seq > ?');
      params.push(q.after);
    }
    if (q.before !== undefined) {
      where.push('seq < ?');
      params.push(q.before);
    }
    const sql = `SELECT ${MESSAGE_COLUMNS} FROM messages WHERE ${where.join(' AND ')}
                 ORDER BY seq ${ascending ? 'ASC' : 'DESC'} LIMIT ?`;
    const rows = this.guard(() => this.db.prepare<unknown[], MessageRow>(sql).all(...params, q.limit + 1));
    const hasMore = rows.length > q.limit;
    const page = rows.slice(0, q.limit).map(toMessage);
    return { messages: ascending ? page : page.reverse(), hasMore };
  }

  async setCursor(roomId: string, userId: string, seq: number): Promise<void> {
    this.guard(() => this.stmt.setCursor.run(roomId, userId, seq));
  }

  async getCursor(roomId: string, userId: string): Promise<number> {
    return this.guard(() => this.stmt.getCursor.get(roomId, userId))?.seq ?? 0;
  }

  async ping(): Promise<void> {
    this.guard(() => this.db.prepare('SELECT 1').get());
  }

  async close(): Promise<void> {
    await this.checkpointer?.close();
    if (this.db.open) this.db.close();
  }

  /** A lock held by another process is a passing outage (UNAVAILABLE), not a bug. */
  private guard<R>(fn: () => R): R {
    try {
      return fn();
    } catch (error) {
      const code = (error as { code?: string }).code;
      if (code === 'SQLITE_BUSY' || code === 'SQLITE_LOCKED' || code === 'SQLITE_IOERR' || code === 'SQLITE_FULL') {
        throw new AppError('UNAVAILABLE', 'the message store is busy; try again');
      }
      throw error;
    }
  }
}
