import type Database from 'better-sqlite3';
import type { SearchPage } from '../../ports/store.js';
import { searchTermsOf } from '../../protocol/search-terms.js';
import { guardSqlite } from './sqlite-connection.js';
import { MESSAGE_COLUMNS, roomKeyOf, toMessage, type MessageRow } from './sqlite-rows.js';

/**
 * The room's entries (its id in hex, as the index keeps it) holding every term, each term an
 * FTS5 string: user text never reaches FTS5 query syntax.
 */
export const matchExpression = (roomId: string, terms: string[]): string =>
  `room : "${Buffer.from(roomId, 'utf8').toString('hex')}" AND words : (${terms.map((t) => `"${t.replaceAll('"', '""')}"`).join(' ')})`;

/** Ranked search over the `message_search` FTS5 index, on the request thread. */
export class SqliteSearch {
  private readonly stmt;
  private readonly newestUnindexed;

  constructor(db: Database.Database) {
    this.newestUnindexed = db
      .prepare<[{ room: string }], number>(
        `SELECT seq FROM messages WHERE room_key = ${roomKeyOf('@room')}
           AND seq > coalesce((SELECT seq FROM search_progress WHERE room_id = @room), 0)
         ORDER BY seq DESC LIMIT 1`,
      )
      .pluck();
    // bm25() is lower for better matches; the room column weighs nothing. FTS5 narrows to the
    // room; the room test on the row is the guard should the index ever be stale.
    this.stmt = db.prepare<[string, string, number], MessageRow>(
      `SELECT ${MESSAGE_COLUMNS}
       FROM message_search s JOIN messages ON messages.rowid = s.rowid JOIN rooms ON rooms.msg_key = messages.room_key
       WHERE message_search MATCH ? AND rooms.id = ?
       ORDER BY bm25(message_search, 0.0, 1.0), messages.seq DESC LIMIT ?`,
    );
  }

  /**
   * The newest seq of the room's messages above its search progress (null: the index holds
   * every stored message of the room). Two lookups on primary keys; no lock taken.
   */
  unindexedUpTo(roomId: string): number | null {
    return guardSqlite(() => this.newestUnindexed.get({ room: roomId })) ?? null;
  }

  search(roomId: string, q: string, limit: number): SearchPage {
    const terms = searchTermsOf(q);
    if (terms.length === 0) return { messages: [], hasMore: false };
    const rows = guardSqlite(() => this.stmt.all(matchExpression(roomId, terms), roomId, limit + 1));
    return { messages: rows.slice(0, limit).map(toMessage), hasMore: rows.length > limit };
  }
}
