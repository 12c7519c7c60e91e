import type Database from 'better-sqlite3';
import { guardSqlite } from './sqlite-connection.js';
import { roomKeyOf } from './sqlite-rows.js';

/**
 * Messages indexed per transaction. Appends queued meanwhile wait behind one chunk at most,
 * and so does another process's writer (its busy timeout must outlast a chunk).
 */
export const INDEX_CHUNK = 2000;

/**
 * Brings a room's search index up to date before a search reads it, on the writer
 * connection: the room's messages above its progress (search_progress, sqlite-schema.ts v6),
 * in seq order, one chunk per IMMEDIATE transaction, and the progress moved to the highest
 * seq indexed. Holes in seq (a message not stored yet, or never: dead-lettered) do not hold
 * the progress back: a message that arrives below it later is indexed by its insert
 * (WriteTransactions.insertAssigned), which reads the progress committed by then (the write
 * lock orders both, across processes).
 */
export class SearchIndexWrites {
  private readonly chunk: Database.Transaction<(roomId: string, upTo: number) => boolean>;

  constructor(db: Database.Database) {
    const progress = db.prepare<[string], number>('SELECT seq FROM search_progress WHERE room_id = ?').pluck();
    const next = db.prepare<[string, number, number, number], { n: number; last: number | null }>(
      `SELECT count(*) AS n, max(seq) AS last FROM
         (SELECT seq FROM messages WHERE room_key = ${roomKeyOf()} AND seq > ? AND seq <= ? ORDER BY seq LIMIT ?)`,
    );
    const index = db.prepare<[{ room: string; from: number; to: number }]>(
      `INSERT INTO message_search (rowid, room, words)
       SELECT rowid, hex(@room), search_words(text) FROM messages
       WHERE room_key = ${roomKeyOf('@room')} AND seq > @from AND seq <= @to AND text <> ''`,
    );
    const advance = db.prepare<[string, number]>(
      'INSERT INTO search_progress (room_id, seq) VALUES (?, ?) ON CONFLICT (room_id) DO UPDATE SET seq = excluded.seq',
    );
    this.chunk = db.transaction((roomId: string, upTo: number): boolean => {
      const from = progress.get(roomId) ?? 0;
      const { n, last } = next.get(roomId, from, upTo, INDEX_CHUNK)!;
      if (last === null) return false;
      index.run({ room: roomId, from, to: last });
      advance.run(roomId, last);
      return n === INDEX_CHUNK;
    });
  }

  /**
   * Indexes the next chunk of the room's messages with seq <= `upTo` (a newer message is
   * left to the next search); true when more may wait.
   */
  indexChunk(roomId: string, upTo: number): boolean {
    return guardSqlite(() => this.chunk.immediate(roomId, upTo));
  }
}
