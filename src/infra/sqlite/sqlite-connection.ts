import Database from 'better-sqlite3';
import { unavailable } from '../../domain/app-error.js';
import { searchWordsOf } from '../../protocol/search-terms.js';

/**
 * Opens one connection to the chat database with the settings every connection to it
 * shares (the request thread's reader, the writer thread, the checkpointer).
 */
export function openDatabase(path: string, busyTimeoutMs: number): Database.Database {
  const db = new Database(path, { timeout: busyTimeoutMs });
  db.pragma('journal_mode = WAL');
  // NORMAL in WAL mode: a commit survives a crash of this process (the OS holds it);
  // only a power loss can take the last commits. FULL would fsync every batch.
  db.pragma('synchronous = NORMAL');
  db.pragma('foreign_keys = ON');
  // Hot index pages stay in memory (the default cache is 2 MB).
  db.pragma('cache_size = -32768');
  registerSearchFunction(db);
  return db;
}

/**
 * The SQL function the search triggers call (sqlite-schema.ts, v6): a text's words by the
 * shared rule of protocol/search-terms.ts, space-separated. FTS5's tokenizer then only
 * splits on the spaces, so SQLite and MongoDB agree on what a word is (NFKC and case
 * included). A connection that writes messages without it fails ("no such function"):
 * every connection opened here has it; a tool's own connection must register it too.
 */
export function registerSearchFunction(db: Database.Database): void {
  db.function('search_words', { deterministic: true }, (text: unknown) => (typeof text === 'string' ? searchWordsOf(text).join(' ') : ''));
}

const OUTAGE_CODES = new Set(['SQLITE_BUSY', 'SQLITE_LOCKED', 'SQLITE_IOERR', 'SQLITE_FULL']);

/** True for a lock held by another process or a full/failing disk: a passing outage. */
export const isSqliteOutage = (error: unknown): boolean => OUTAGE_CODES.has((error as { code?: string }).code ?? '');

/** Runs `fn`; an outage becomes UNAVAILABLE (the caller retries), anything else passes. */
export function guardSqlite<R>(fn: () => R): R {
  try {
    return fn();
  } catch (error) {
    if (isSqliteOutage(error)) throw unavailable('the message store is busy; try again', error);
    throw error;
  }
}
