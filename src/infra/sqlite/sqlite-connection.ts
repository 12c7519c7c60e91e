import Database from 'better-sqlite3';
import { unavailable } from '../../domain/app-error.js';

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
  return db;
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
