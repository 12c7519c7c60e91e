import type Database from 'better-sqlite3';
import { AppError, roomNotFound, seqConflict } from '../../domain/app-error.js';
import { changedFields, changedMessage, messageNotFound, type ChangeRequest, type ChangeResult } from '../../domain/message-change.js';
import type { Message } from '../../protocol/models.js';
import type { NewMessage, ReadMarker } from '../../ports/store.js';
import { guardSqlite } from './sqlite-connection.js';
import { INSERT_COLUMNS, MESSAGE_COLUMNS, ROOM_MESSAGES, roomKeyOf, toMessage, type MessageRow } from './sqlite-rows.js';
import { toWire, type AppendOutcome } from './writer-thread-wire.js';

/** The fast append path met a case only the careful path answers exactly. */
class FastPathMiss extends Error {}

/**
 * Every write of messages and cursors, each method one transaction, on one connection
 * (rooms and members: RoomWrites). Runs on
 * the writer thread (writer-thread-main.ts), so that SQLite's page work and WAL writes never
 * hold up the event loop that serves sockets. Append outcomes are plain data, ready to post.
 */
export class WriteTransactions {
  private readonly stmt;
  private readonly fastAppend: Database.Transaction<(items: NewMessage[]) => AppendOutcome[]>;

  constructor(private readonly db: Database.Database) {
    this.stmt = {
      bumpSeq: db.prepare<[string], { last_seq: number }>('UPDATE rooms SET last_seq = last_seq + 1 WHERE id = ? RETURNING last_seq'),
      raiseSeq: db.prepare('UPDATE rooms SET last_seq = MAX(last_seq, ?) WHERE id = ?'),
      // A room's counter and the key its messages are filed under (sqlite-schema.ts v7).
      roomCounter: db.prepare<[string], { last_seq: number; msg_key: number }>('SELECT last_seq, msg_key FROM rooms WHERE id = ?'),
      setSeq: db.prepare<[number, string]>('UPDATE rooms SET last_seq = ? WHERE id = ?'),
      insertMessage: db.prepare(
        `INSERT INTO messages (${INSERT_COLUMNS})
         VALUES (@id, ${roomKeyOf('@roomId')}, @seq, @senderId, @senderName, @text, @clientMsgId, @createdAt, @replyTo)`,
      ),
      // The fast append path and the queue's inserts: positional, and a taken slot is reported
      // (changes 0), not thrown. ON CONFLICT, not OR IGNORE: only "already stored" is skipped;
      // a row that breaks NOT NULL or a type rule still fails, so a bad queue entry cannot
      // vanish silently.
      insertNew: db.prepare<[string, number, number, string, string, string, string | null, string, number | null]>(
        `INSERT INTO messages (${INSERT_COLUMNS}) VALUES (?, ?, ?, ?, ?, ?, ?, ?, ?) ON CONFLICT DO NOTHING`,
      ),
      // A queued message stored below its room's search progress (sqlite-schema.ts v6) is
      // indexed with it; above it, the next search of the room indexes it.
      searchProgress: db.prepare<[string], number>('SELECT seq FROM search_progress WHERE room_id = ?').pluck(),
      indexLate: db.prepare<[number | bigint, string, string]>('INSERT INTO message_search (rowid, room, words) VALUES (?, hex(?), search_words(?))'),
      bySeq: db.prepare<[string, number], MessageRow>(`SELECT ${MESSAGE_COLUMNS} FROM ${ROOM_MESSAGES} WHERE rooms.id = ? AND messages.seq = ?`),
      bumpRev: db.prepare<[string], number>('UPDATE rooms SET last_rev = last_rev + 1 WHERE id = ? RETURNING last_rev').pluck(),
      raiseRev: db.prepare<[number, string]>('UPDATE rooms SET last_rev = MAX(last_rev, ?) WHERE id = ?'),
      writeChange: db.prepare(
        `UPDATE messages SET text = @text, edited_at = @editedAt, deleted_at = @deletedAt, reactions = @reactions, rev = @rev
         WHERE room_key = ${roomKeyOf('@roomId')} AND seq = @seq AND id = @id AND rev < @rev`,
      ),
      idAt: db.prepare<[number, number], string>('SELECT id FROM messages WHERE room_key = ? AND seq = ?').pluck(),
      byClientMsgId: db.prepare<[string, string], MessageRow>(`SELECT ${MESSAGE_COLUMNS} FROM ${ROOM_MESSAGES} WHERE rooms.id = ? AND messages.client_msg_id = ?`),
      setCursor: db.prepare(
        `INSERT INTO member_cursors (room_id, user_id, seq) VALUES (?, ?, ?)
         ON CONFLICT (room_id, user_id) DO UPDATE SET seq = MAX(seq, excluded.seq)`,
      ),
      // Changes a row only when the marker moves forward, so `changes` says whether it moved.
      raiseReadMarker: db.prepare<[string, string, number]>(
        `INSERT INTO read_markers (room_id, user_id, seq) VALUES (?, ?, ?)
         ON CONFLICT (room_id, user_id) DO UPDATE SET seq = excluded.seq WHERE excluded.seq > read_markers.seq`,
      ),
    };
    this.fastAppend = db.transaction((items: NewMessage[]) => this.fastAppendBatch(items));
  }

  setCursor(roomId: string, userId: string, seq: number): void {
    guardSqlite(() => this.stmt.setCursor.run(roomId, userId, seq));
  }

  /** Moves read markers forward, all in one transaction; for each, whether it moved. */
  raiseReadMarkers(markers: ReadMarker[]): boolean[] {
    const run = this.db.transaction((list: ReadMarker[]) => list.map((m) => m.seq > 0 && this.stmt.raiseReadMarker.run(m.roomId, m.userId, m.seq).changes > 0));
    return guardSqlite(() => run.immediate(markers));
  }

  /**
   * One IMMEDIATE transaction for the whole batch. The fast path reads each room's counter
   * once, inserts every message with one statement and writes each counter back once; a
   * taken clientMsgId shows up as an insert that changed nothing. Anything unexpected (a seq
   * slot already taken, any error but a lock) rolls the fast attempt back and replays the
   * batch on the careful path, one savepoint per item, whose outcomes are the reference.
   */
  appendBatch(items: NewMessage[]): AppendOutcome[] {
    try {
      return this.fastAppend.immediate(items);
    } catch (error) {
      const code = (error as { code?: string }).code;
      // The write lock is held by another process: the careful path would wait for it again.
      if (code === 'SQLITE_BUSY' || code === 'SQLITE_LOCKED') throw new AppError('UNAVAILABLE', 'the message store is busy; try again');
    }
    return this.carefulAppend(items);
  }

  /**
   * Messages whose seq was assigned elsewhere (cluster mode); already stored counts as done.
   * Returns how many were dropped (room deleted). One statement per message: what a room
   * needs (whether it exists, its search progress, its highest seq) is read and written once
   * per room and batch, which nothing else can change while this transaction holds the lock.
   */
  insertAssigned(messages: Message[]): number {
    const run = this.db.transaction((list: Message[]) => {
      let dropped = 0;
      const rooms = new Map<string, { key: number; progress: number | undefined; top: number } | null>();
      for (const m of list) {
        let room = rooms.get(m.roomId);
        if (room === undefined) {
          const counter = this.stmt.roomCounter.get(m.roomId);
          room = counter === undefined ? null : { key: counter.msg_key, progress: this.stmt.searchProgress.get(m.roomId), top: 0 };
          rooms.set(m.roomId, room);
        }
        // The room was deleted while this message waited in the queue: its history is gone.
        if (room === null) {
          dropped++;
          continue;
        }
        // A message's (room, seq) is fixed when its seq is assigned, so "already stored"
        // means this slot holds this id; any other id there means the seq was reused.
        const inserted = this.stmt.insertNew.run(m.id, room.key, m.seq, m.senderId, m.senderName, m.text, m.clientMsgId, m.createdAt, m.replyTo ?? null);
        if (inserted.changes === 0) {
          // The slot is taken by another message: the sequence was reused (Redis lost data).
          if (this.stmt.idAt.get(room.key, m.seq) !== m.id) throw seqConflict(m);
        } else if (room.progress !== undefined && m.seq <= room.progress && m.text !== '') {
          this.stmt.indexLate.run(inserted.lastInsertRowid, m.roomId, m.text);
        }
        if (m.seq > room.top) room.top = m.seq;
      }
      for (const [roomId, room] of rooms) if (room) this.stmt.raiseSeq.run(room.top, roomId);
      return dropped;
    });
    return guardSqlite(() => run.immediate(messages));
  }

  /** One change in one IMMEDIATE transaction: read the message, apply the rules, take the room's next rev, write. */
  change(req: ChangeRequest): ChangeResult {
    const run = this.db.transaction((): ChangeResult => {
      const row = this.stmt.bySeq.get(req.roomId, req.seq);
      if (!row) throw messageNotFound(req.roomId, req.seq);
      const current = toMessage(row);
      const next = changedMessage(current, req);
      if (!next) return { message: current, changed: false };
      const rev = this.stmt.bumpRev.get(req.roomId)!;
      const message = { ...next, rev };
      this.writeFields(message);
      return { message, changed: true };
    });
    return guardSqlite(() => run.immediate());
  }

  /** A change whose rev was assigned elsewhere (cluster mode): higher rev wins. */
  applyAssigned(m: Message): 'applied' | 'stale' | 'missing' | 'dropped' {
    const run = this.db.transaction(() => {
      if (this.stmt.roomCounter.get(m.roomId) === undefined) return 'dropped' as const;
      if (this.writeFields(m)) {
        this.stmt.raiseRev.run(m.rev ?? 0, m.roomId);
        return 'applied' as const;
      }
      return this.stmt.bySeq.get(m.roomId, m.seq) ? ('stale' as const) : ('missing' as const);
    });
    return guardSqlite(() => run.immediate());
  }

  private writeFields(m: Message): boolean {
    const f = changedFields(m);
    const params = { ...f, reactions: f.reactions === null ? null : JSON.stringify(f.reactions), roomId: m.roomId, seq: m.seq, id: m.id };
    return this.stmt.writeChange.run(params).changes > 0;
  }

  private fastAppendBatch(items: NewMessage[]): AppendOutcome[] {
    const counters = new Map<string, { key: number; seq: number; start: number } | null>();
    const outcomes = items.map((m): AppendOutcome => {
      let counter = counters.get(m.roomId);
      if (counter === undefined) {
        const room = this.stmt.roomCounter.get(m.roomId);
        counter = room === undefined ? null : { key: room.msg_key, seq: room.last_seq, start: room.last_seq };
        counters.set(m.roomId, counter);
      }
      if (counter === null) {
        // As on the careful path, a known clientMsgId answers before the room check.
        const existing = this.existing(m);
        return existing ? { ok: true, existing } : { ok: false, error: toWire(roomNotFound(m.roomId)) };
      }
      const seq = counter.seq + 1;
      const changed = this.stmt.insertNew.run(m.id, counter.key, seq, m.senderId, m.senderName, m.text, m.clientMsgId, m.createdAt, m.replyTo ?? null).changes;
      if (changed === 0) {
        const existing = this.existing(m);
        if (!existing) throw new FastPathMiss();
        return { ok: true, existing };
      }
      counter.seq = seq;
      return { ok: true, seq };
    });
    for (const [roomId, counter] of counters) if (counter && counter.seq !== counter.start) this.stmt.setSeq.run(counter.seq, roomId);
    return outcomes;
  }

  /** The reference path: each item in its own savepoint, so one failure spares the rest. */
  private carefulAppend(items: NewMessage[]): AppendOutcome[] {
    const appendOne = this.db.transaction((m: NewMessage): AppendOutcome => {
      const existing = this.existing(m);
      if (existing) return { ok: true, existing };
      const bumped = this.stmt.bumpSeq.get(m.roomId);
      if (!bumped) throw roomNotFound(m.roomId);
      this.stmt.insertMessage.run({ ...m, seq: bumped.last_seq, replyTo: m.replyTo ?? null });
      return { ok: true, seq: bumped.last_seq };
    });
    const all = this.db.transaction(() =>
      items.map((m): AppendOutcome => {
        try {
          return appendOne(m);
        } catch (error) {
          return { ok: false, error: toWire(error) };
        }
      }),
    );
    return guardSqlite(() => all.immediate());
  }

  private existing(m: NewMessage): Message | undefined {
    if (m.clientMsgId === null) return undefined;
    const row = this.stmt.byClientMsgId.get(m.roomId, m.clientMsgId);
    return row ? toMessage(row) : undefined;
  }
}
