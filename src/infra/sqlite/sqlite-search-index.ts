import type Database from 'better-sqlite3';
import { guardSqlite } from './sqlite-connection.js';

/** Queued messages indexed per transaction, so that appends wait behind one batch at most. */
export const INDEX_BATCH = 500;
/** How long the writer thread lets new messages gather before it indexes them. */
export const INDEX_DELAY_MS = 100;

/**
 * Moves messages from the search queue (message_search_pending, filled by a trigger on every
 * insert and text change) into the FTS5 index, on the writer connection: many messages per
 * transaction cost a fraction of one FTS5 segment write per append.
 */
export class SearchIndexWrites {
  private readonly hasQueued;
  private readonly batch;

  constructor(db: Database.Database) {
    this.hasQueued = db.prepare('SELECT 1 FROM message_search_pending LIMIT 1').pluck();
    const take = db.prepare<[number], number>('SELECT message_rowid FROM message_search_pending ORDER BY message_rowid LIMIT ?').pluck();
    const index = db.prepare<[number, number]>(
      `INSERT INTO message_search (rowid, room, words)
       SELECT m.rowid, hex(m.room_id), search_words(m.text) FROM messages m WHERE m.rowid BETWEEN ? AND ? AND m.text <> ''
         AND m.rowid IN (SELECT message_rowid FROM message_search_pending)`,
    );
    const clear = db.prepare<[number, number]>('DELETE FROM message_search_pending WHERE message_rowid BETWEEN ? AND ?');
    this.batch = db.transaction((): number => {
      const rowids = take.all(INDEX_BATCH);
      if (rowids.length === 0) return 0;
      const [first, last] = [rowids[0]!, rowids.at(-1)!];
      index.run(first, last);
      clear.run(first, last);
      return rowids.length;
    });
  }

  /** True when messages wait to be indexed (a read: no lock taken). */
  queued(): boolean {
    return this.hasQueued.get() !== undefined;
  }

  /** Indexes one batch; how many messages it took (0: the queue is empty). */
  indexBatch(): number {
    return guardSqlite(() => this.batch.immediate());
  }

  /** Indexes until the queue is empty. */
  indexAll(): void {
    while (this.indexBatch() === INDEX_BATCH);
  }
}
