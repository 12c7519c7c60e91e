import mongoose, { type ConnectOptions, type Connection } from 'mongoose';
import { unavailable } from '../../domain/app-error.js';
import type { Logger } from '../../ports/logger.js';
import { migrateMembers } from './mongo-memberships.js';
import { bindModels, type MongoModels } from './mongo-models.js';
import { backfillSearchTerms } from './mongo-search.js';

export interface MongoConnectionOptions {
  uri: string;
  /** Production writes wait for a majority of the replica set and its journal. */
  production: boolean;
  logger: Logger;
  serverSelectionTimeoutMs?: number;
  /** Pause between attempts while MongoDB cannot be reached at start (default 2 s). */
  reconnectDelayMs?: number;
}

/** How long close() waits for the driver (see close). */
const CLOSE_DEADLINE_MS = 2000;

/** The URI as it may be logged: the password, if any, masked. */
export const maskUri = (uri: string): string => uri.replace(/^(mongodb(?:\+srv)?:\/\/[^:@/]*):[^@/]*@/, '$1:****@');

/** True when the URI's query sets `option` (MongoDB URI options are case-insensitive). */
const uriHas = (uri: string, option: string): boolean =>
  [...new URLSearchParams(uri.split('?')[1] ?? '').keys()].some((k) => k.toLowerCase() === option.toLowerCase());

/** Our defaults, less those the operator set in the URI (theirs win). */
const defaultsNotIn = (uri: string, defaults: Record<string, number>) => Object.fromEntries(Object.entries(defaults).filter(([k]) => !uriHas(uri, k)));

/**
 * One mongoose connection of our own, and the rule of when it may serve: only once it is
 * open AND its indexes are built. The unique indexes are what keep a seq or a clientMsgId
 * from being stored twice, so a store without them must not take writes.
 *
 * The options are built once and passed to every open: a reconnect after a failed start
 * gets the same timeouts and write concern as the first attempt. Timeouts and the write
 * concern set in the URI win over these defaults. Once open, the driver
 * reconnects by itself after an outage; only a failed first open is retried here, in the
 * background, so a server whose MongoDB comes up later heals without a restart.
 */
export class MongoConnection {
  readonly conn: Connection;
  readonly models: MongoModels;
  private readonly connectOptions: ConnectOptions;
  private indexed = false;
  private closed = false;
  private retryTimer: NodeJS.Timeout | null = null;
  private lastProblem = '';

  constructor(private readonly options: MongoConnectionOptions) {
    this.connectOptions = {
      // An outage fails a call at once (UNAVAILABLE) instead of queueing it in memory.
      bufferCommands: false,
      // Indexes are built below, when the connection is open (autoIndex at bind time fails
      // on a connection still opening, and mongoose caches that failure).
      autoIndex: false,
      autoCreate: false,
      ...defaultsNotIn(options.uri, {
        serverSelectionTimeoutMS: options.serverSelectionTimeoutMs ?? 3000,
        connectTimeoutMS: Math.max(options.serverSelectionTimeoutMs ?? 3000, 2000),
        socketTimeoutMS: 10_000,
        heartbeatFrequencyMS: 2000,
      }),
      ...(options.production && !uriHas(options.uri, 'w') ? { writeConcern: { w: 'majority', journal: true, wtimeoutMS: 5000 } } : {}),
    };
    this.conn = mongoose.createConnection();
    this.conn.on('error', () => undefined); // reported where each call fails, and by open()
    this.conn.on('disconnected', () => this.indexed && !this.closed && options.logger.warn('mongodb disconnected', { uri: maskUri(options.uri) }));
    this.conn.on('reconnected', () => {
      options.logger.info('mongodb reconnected');
      // The server may have come back empty (a new volume): make sure the indexes are there.
      void this.buildIndexes().catch((err: unknown) => this.report(err));
    });
    this.models = bindModels(this.conn);
  }

  /** One attempt to open and index; on failure logs why and keeps trying in the background. */
  async open(): Promise<void> {
    if (this.closed) return;
    try {
      await this.conn.openUri(this.options.uri, this.connectOptions);
      await this.buildIndexes();
      this.indexed = true;
      this.lastProblem = '';
      this.options.logger.info('mongodb connected; indexes in place', { uri: maskUri(this.options.uri) });
    } catch (err) {
      this.report(err);
      if (!this.closed && !this.retryTimer) {
        this.retryTimer = setTimeout(() => {
          this.retryTimer = null;
          void this.open();
        }, this.options.reconnectDelayMs ?? 2000);
        this.retryTimer.unref();
      }
    }
  }

  /** Throws UNAVAILABLE unless the connection is open and indexed. */
  assertServing(): void {
    if (!this.indexed) throw unavailable('the message store is not connected yet; try again');
    if (this.conn.readyState !== mongoose.ConnectionStates.connected) throw unavailable('the message store is unreachable; try again');
  }

  async ping(): Promise<void> {
    this.assertServing();
    await this.conn.db!.admin().ping();
  }

  async close(): Promise<void> {
    if (this.closed) return;
    this.closed = true;
    if (this.retryTimer) clearTimeout(this.retryTimer);
    // A server that died a moment ago can still look alive to the driver, whose close then
    // sends it endSessions and waits on the dead socket: the close gets a deadline.
    let timer: NodeJS.Timeout | undefined;
    const late = new Promise<'late'>((resolve) => (timer = setTimeout(() => resolve('late'), CLOSE_DEADLINE_MS)));
    const outcome = await Promise.race([this.conn.close().catch(() => undefined), late]);
    clearTimeout(timer);
    if (outcome === 'late') this.options.logger.warn('mongodb: close did not finish in time; leaving the connection to the process exit', { uri: maskUri(this.options.uri) });
  }

  private async buildIndexes(): Promise<void> {
    const { Message, Cursor, Member, ReadMarker } = this.models;
    // createIndexes (not init(), whose first result mongoose caches): idempotent, run on every open.
    await Promise.all([Message.createIndexes(), Cursor.createIndexes(), Member.createIndexes(), ReadMarker.createIndexes()]);
    await migrateMembers(this.models);
    await backfillSearchTerms(this.models);
  }

  /** Logs a failed open once per distinct reason, naming the variable to fix. */
  private report(err: unknown): void {
    const e = err as { name?: string; message?: string; code?: number };
    const where = maskUri(this.options.uri);
    const cause = `${e.name ?? 'Error'}: ${e.message ?? String(err)}`;
    const retry = `Retrying every ${Math.round((this.options.reconnectDelayMs ?? 2000) / 100) / 10} s in the background.`;
    let problem: string;
    if (e.code === 18 || /Authentication failed/i.test(e.message ?? '')) {
      problem = `MONGODB_URI: MongoDB refused the credentials of ${where} (${cause}) — check the user name, password and authSource in MONGODB_URI. ${retry}`;
    } else if (/ServerSelection|MongoNetwork|ECONNREFUSED|ENOTFOUND|timed out/i.test(cause)) {
      problem = `MONGODB_URI: MongoDB unreachable at ${where} (${cause}) — is mongod running, and is MONGODB_URI right? ${retry} Unset MONGODB_URI to use the embedded SQLite store.`;
    } else {
      problem = `MONGODB_URI: cannot use MongoDB at ${where} (${cause}). ${retry}`;
    }
    if (problem === this.lastProblem) return;
    this.lastProblem = problem;
    this.options.logger.error(problem);
  }
}
