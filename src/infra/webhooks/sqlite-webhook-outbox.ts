import Database from 'better-sqlite3';
import { randomUUID } from 'node:crypto';
import { mkdirSync } from 'node:fs';
import { join } from 'node:path';
import type { ClaimedDelivery, WebhookDeadLetter, WebhookDeadLetters, WebhookEvent, WebhookOutbox } from '../../ports/webhook-outbox.js';
import { GroupCommit } from '../sqlite/group-commit.js';
import { guardSqlite } from '../sqlite/sqlite-connection.js';
import { deliveryIdOf } from './delivery-id.js';

export interface SqliteWebhookOutboxOptions {
  dataDir: string;
  /** Default webhooks.db. */
  fileName?: string;
  /** How long a repeated occurrence is recognised (default 24 h). */
  dedupWindowMs?: number;
  /** How long a statement waits for another process's lock; it waits synchronously, so briefly. */
  busyTimeoutMs?: number;
}

const SCHEMA = `
  CREATE TABLE IF NOT EXISTS webhook_deliveries (
    id TEXT PRIMARY KEY,
    event TEXT NOT NULL,
    url TEXT NOT NULL,
    first_seen_at TEXT NOT NULL,
    attempts INTEGER NOT NULL DEFAULT 0,
    last_error TEXT,
    due_at INTEGER NOT NULL,
    lease TEXT,
    dead_at INTEGER
  );
  CREATE INDEX IF NOT EXISTS webhook_deliveries_due ON webhook_deliveries (due_at) WHERE dead_at IS NULL;
  CREATE INDEX IF NOT EXISTS webhook_deliveries_dead ON webhook_deliveries (dead_at, id) WHERE dead_at IS NOT NULL;
  CREATE TABLE IF NOT EXISTS webhook_occurrences (key TEXT PRIMARY KEY, expires_at INTEGER NOT NULL) WITHOUT ROWID;
  CREATE INDEX IF NOT EXISTS webhook_occurrences_expiry ON webhook_occurrences (expires_at);`;

interface Row {
  id: string;
  event: string;
  url: string;
  first_seen_at: string;
  attempts: number;
  last_error: string | null;
}

interface Enqueue {
  event: WebhookEvent;
  urls: readonly string[];
  dedupKey: string | null;
}

/** Expired occurrence keys are removed this often, a bounded number at a time. */
const PURGE_INTERVAL_MS = 60_000;

/**
 * The embedded outbox: a SQLite file of its own in DATA_DIR (WAL), so webhooks never touch
 * the chat database's writer. Several server processes on one host may share it: a claim
 * takes the write lock (BEGIN IMMEDIATE) and leases the rows it takes, and every finishing
 * step checks the lease. Enqueues of one event-loop turn commit in one transaction.
 */
export class SqliteWebhookOutbox implements WebhookOutbox {
  private readonly db: Database.Database;
  private readonly dedupWindowMs: number;
  private readonly enqueues: GroupCommit<Enqueue, boolean>;
  private lastPurge = 0;
  private readonly stmt;
  readonly deadLetters: WebhookDeadLetters;

  constructor(options: SqliteWebhookOutboxOptions) {
    mkdirSync(options.dataDir, { recursive: true });
    this.db = new Database(join(options.dataDir, options.fileName ?? 'webhooks.db'), { timeout: options.busyTimeoutMs ?? 250 });
    this.db.pragma('journal_mode = WAL');
    // NORMAL in WAL mode: a commit survives this process dying (the publish promise), as in chat.db.
    this.db.pragma('synchronous = NORMAL');
    this.db.exec(SCHEMA);
    this.dedupWindowMs = options.dedupWindowMs ?? 24 * 3600 * 1000;
    const db = this.db;
    this.stmt = {
      // A key whose window has passed is taken again, as a new occurrence.
      occurrence: db.prepare<[string, number, number]>(
        `INSERT INTO webhook_occurrences (key, expires_at) VALUES (?, ?)
         ON CONFLICT (key) DO UPDATE SET expires_at = excluded.expires_at WHERE webhook_occurrences.expires_at <= ?`,
      ),
      insert: db.prepare<[string, string, string, string, number]>(
        'INSERT OR IGNORE INTO webhook_deliveries (id, event, url, first_seen_at, due_at) VALUES (?, ?, ?, ?, ?)',
      ),
      anyDue: db.prepare<[number], number>('SELECT 1 FROM webhook_deliveries WHERE dead_at IS NULL AND due_at <= ? LIMIT 1').pluck(),
      due: db.prepare<[number, number], Row>(
        'SELECT id, event, url, first_seen_at, attempts, last_error FROM webhook_deliveries WHERE dead_at IS NULL AND due_at <= ? ORDER BY due_at LIMIT ?',
      ),
      lease: db.prepare<[number, string, string]>('UPDATE webhook_deliveries SET due_at = ?, lease = ? WHERE id = ?'),
      complete: db.prepare<[string, string]>('DELETE FROM webhook_deliveries WHERE id = ? AND lease = ? AND dead_at IS NULL'),
      retryLater: db.prepare<[string, number, string, string]>(
        'UPDATE webhook_deliveries SET attempts = attempts + 1, last_error = ?, due_at = ?, lease = NULL WHERE id = ? AND lease = ? AND dead_at IS NULL',
      ),
      deadLetter: db.prepare<[string, number, string, string]>(
        'UPDATE webhook_deliveries SET attempts = attempts + 1, last_error = ?, dead_at = ?, lease = NULL WHERE id = ? AND lease = ? AND dead_at IS NULL',
      ),
      release: db.prepare<[number, string, string]>('UPDATE webhook_deliveries SET due_at = ?, lease = NULL WHERE id = ? AND lease = ? AND dead_at IS NULL'),
      pending: db.prepare<[], number>('SELECT COUNT(*) FROM webhook_deliveries WHERE dead_at IS NULL').pluck(),
      dead: db.prepare<[], number>('SELECT COUNT(*) FROM webhook_deliveries WHERE dead_at IS NOT NULL').pluck(),
      listDead: db.prepare<[number], Row>(
        'SELECT id, event, url, first_seen_at, attempts, last_error FROM webhook_deliveries WHERE dead_at IS NOT NULL ORDER BY dead_at, id LIMIT ?',
      ),
      retryDead: db.prepare<[number, string]>(
        'UPDATE webhook_deliveries SET dead_at = NULL, attempts = 0, last_error = NULL, lease = NULL, due_at = ? WHERE id = ? AND dead_at IS NOT NULL',
      ),
      dropDead: db.prepare<[string]>('DELETE FROM webhook_deliveries WHERE id = ? AND dead_at IS NOT NULL'),
      purge: db.prepare<[number]>('DELETE FROM webhook_occurrences WHERE key IN (SELECT key FROM webhook_occurrences WHERE expires_at <= ? LIMIT 10000)'),
    };
    this.enqueues = new GroupCommit(async (items) => guardSqlite(() => this.db.transaction(() => items.map((item) => ({ status: 'fulfilled' as const, value: this.store(item) })))()));
    this.deadLetters = {
      list: async (limit) => guardSqlite(() => this.stmt.listDead.all(limit)).map(toDeadLetter),
      retry: async (id) => guardSqlite(() => this.stmt.retryDead.run(Date.now(), id)).changes > 0,
      drop: async (id) => guardSqlite(() => this.stmt.dropDead.run(id)).changes > 0,
    };
  }

  enqueue(event: WebhookEvent, urls: readonly string[], dedupKey: string | null): Promise<boolean> {
    return this.enqueues.submit({ event, urls, dedupKey });
  }

  async claim(limit: number, leaseMs: number): Promise<ClaimedDelivery[]> {
    const now = Date.now();
    if (now - this.lastPurge > PURGE_INTERVAL_MS) {
      this.lastPurge = now;
      guardSqlite(() => this.stmt.purge.run(now));
    }
    // A read first: an idle outbox is polled without taking the write lock.
    if (!guardSqlite(() => this.stmt.anyDue.get(now))) return [];
    const lease = randomUUID();
    const rows = guardSqlite(() =>
      this.db
        .transaction(() => {
          const due = this.stmt.due.all(Date.now(), limit);
          for (const row of due) this.stmt.lease.run(Date.now() + leaseMs, lease, row.id);
          return due;
        })
        .immediate(),
    );
    return rows.map((row) => ({ ...toDelivery(row), lease }));
  }

  async complete(d: ClaimedDelivery): Promise<boolean> {
    return guardSqlite(() => this.stmt.complete.run(d.id, d.lease)).changes > 0;
  }

  async retryLater(d: ClaimedDelivery, error: string, delayMs: number): Promise<boolean> {
    return guardSqlite(() => this.stmt.retryLater.run(error, Date.now() + delayMs, d.id, d.lease)).changes > 0;
  }

  async deadLetter(d: ClaimedDelivery, error: string): Promise<boolean> {
    return guardSqlite(() => this.stmt.deadLetter.run(error, Date.now(), d.id, d.lease)).changes > 0;
  }

  async release(d: ClaimedDelivery): Promise<boolean> {
    return guardSqlite(() => this.stmt.release.run(Date.now(), d.id, d.lease)).changes > 0;
  }

  async depth(): Promise<{ pending: number; deadLetters: number }> {
    return guardSqlite(() => ({ pending: this.stmt.pending.get()!, deadLetters: this.stmt.dead.get()! }));
  }

  async close(): Promise<void> {
    await this.enqueues.drain();
    if (this.db.open) this.db.close();
  }

  /** One enqueue inside the batch's transaction: false when the occurrence was seen. */
  private store({ event, urls, dedupKey }: Enqueue): boolean {
    const now = Date.now();
    if (dedupKey !== null && this.stmt.occurrence.run(dedupKey, now + this.dedupWindowMs, now).changes === 0) return false;
    const json = JSON.stringify(event);
    for (const url of urls) this.stmt.insert.run(deliveryIdOf(event.id, url), json, url, new Date(now).toISOString(), now);
    return true;
  }
}

function toDelivery(row: Row): Omit<ClaimedDelivery, 'lease'> {
  return { id: row.id, url: row.url, event: JSON.parse(row.event) as WebhookEvent, attempts: row.attempts, lastError: row.last_error, firstSeenAt: row.first_seen_at };
}

function toDeadLetter(row: Row): WebhookDeadLetter {
  const d = toDelivery(row);
  return { id: d.id, eventId: d.event.id, url: d.url, type: d.event.type, attempts: d.attempts, lastError: d.lastError, firstSeenAt: d.firstSeenAt, event: d.event };
}
