import type Database from 'better-sqlite3';
import type { SearchPage } from '../../ports/store.js';
import { searchTermsOf } from '../../protocol/search-terms.js';
import { guardSqlite } from './sqlite-connection.js';
import { MESSAGE_COLUMNS, toMessage, type MessageRow } from './sqlite-rows.js';

/** The terms as FTS5 strings, all required: user text never reaches FTS5 query syntax. */
export const matchExpression = (terms: string[]): string => terms.map((t) => `"${t.replaceAll('"', '""')}"`).join(' ');

const COLUMNS = MESSAGE_COLUMNS.split(', ')
  .map((c) => `m.${c}`)
  .join(', ');

/** Ranked search over the `message_search` FTS5 index, on the request thread. */
export class SqliteSearch {
  private readonly stmt;
  private readonly hasQueued;

  constructor(db: Database.Database) {
    this.hasQueued = db.prepare('SELECT 1 FROM message_search_pending LIMIT 1').pluck();
    // bm25() is lower for better matches. The index spans every room; the room filter is on
    // the joined row, so a word common across rooms costs its matches in all of them.
    this.stmt = db.prepare<[string, string, number], MessageRow>(
      `SELECT ${COLUMNS} FROM message_search s JOIN messages m ON m.rowid = s.rowid
       WHERE message_search MATCH ? AND m.room_id = ?
       ORDER BY bm25(message_search), m.seq DESC LIMIT ?`,
    );
  }

  /** True when messages wait to be indexed (the writer thread indexes them in batches). */
  queued(): boolean {
    return guardSqlite(() => this.hasQueued.get()) !== undefined;
  }

  search(roomId: string, q: string, limit: number): SearchPage {
    const terms = searchTermsOf(q);
    if (terms.length === 0) return { messages: [], hasMore: false };
    const rows = guardSqlite(() => this.stmt.all(matchExpression(terms), roomId, limit + 1));
    return { messages: rows.slice(0, limit).map(toMessage), hasMore: rows.length > limit };
  }
}
