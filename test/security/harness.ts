import { randomUUID } from 'node:crypto';
import { expect } from 'chai';
import type { Socket } from 'socket.io-client';
import type { App } from '../../src/app.js';
import { selectStore } from '../../src/infra/select-store.js';
import type { Logger } from '../../src/ports/logger.js';
import type { Store } from '../../src/ports/store.js';
import { ErrorCode } from '../../src/protocol/error-codes.js';
import { createRoom, guest, request, type HttpResult } from '../helpers/http-client.js';
import { ask, connect } from '../helpers/socket-client.js';
import { startServer } from '../helpers/test-server.js';

/** Every code a client may be answered with, INTERNAL aside (an attack must never cause one). */
export const EXPECTED_CODES: ReadonlySet<string> = new Set(Object.values(ErrorCode).filter((c) => c !== 'INTERNAL'));

export const JWT_SECRET = 'security-suite-jwt-secret-0123456789-abcdefghij';

/** JSON of anything a logger may be handed: errors with their stacks, cycles cut. */
function stringify(value: unknown): string {
  const seen = new WeakSet<object>();
  return JSON.stringify(value, (_key, v: unknown) => {
    if (typeof v === 'bigint') return v.toString();
    if (v instanceof Error) return { ...v, name: v.name, message: v.message, stack: v.stack };
    if (typeof v === 'object' && v !== null) {
      if (seen.has(v)) return '[cycle]';
      seen.add(v);
    }
    return v;
  });
}

/** A logger that keeps every line at every level, unredacted, so a test can grep what the app logs. */
export class CapturingLogger implements Logger {
  constructor(
    readonly lines: string[] = [],
    private readonly meta: Record<string, unknown> = {},
  ) {}

  private record(level: string, message: string, meta?: Record<string, unknown>): void {
    this.lines.push(stringify({ level, message, ...this.meta, ...meta }));
  }

  error(message: string, meta?: Record<string, unknown>) {
    this.record('error', message, meta);
  }
  warn(message: string, meta?: Record<string, unknown>) {
    this.record('warn', message, meta);
  }
  info(message: string, meta?: Record<string, unknown>) {
    this.record('info', message, meta);
  }
  http(message: string, meta?: Record<string, unknown>) {
    this.record('http', message, meta);
  }
  debug(message: string, meta?: Record<string, unknown>) {
    this.record('debug', message, meta);
  }
  child(meta: Record<string, unknown>): Logger {
    return new CapturingLogger(this.lines, { ...this.meta, ...meta });
  }
}

/** A store call as the services made it. */
export interface StoreCall {
  method: string;
  args: unknown[];
}

/** Wraps a real store and records every call, to show what reaches the database layer. */
function spyOn(store: Store, calls: StoreCall[]): Store {
  return new Proxy(store, {
    get(target, prop, receiver) {
      const value = Reflect.get(target, prop, receiver) as unknown;
      if (typeof value !== 'function' || typeof prop !== 'string') return value;
      return (...args: unknown[]) => {
        calls.push({ method: prop, args });
        return (value as (...a: unknown[]) => unknown).apply(target, args);
      };
    },
  });
}

export interface SecureServer {
  app: App;
  port: number;
  url: string;
  dataDir: string;
  logs: string[];
  storeCalls: StoreCall[];
  stop(): Promise<void>;
}

/**
 * A real server on a loopback port with a known JWT secret, a logger that captures every
 * line, and a store that records every call. `env` overrides the environment.
 */
export async function startSecure(env: Record<string, string> = {}, options: { dataDir?: string } = {}): Promise<SecureServer> {
  const logger = new CapturingLogger();
  const storeCalls: StoreCall[] = [];
  const server = await startServer(
    { LOG_LEVEL: 'debug', JWT_SECRET, ...env },
    {
      dataDir: options.dataDir,
      tempPrefix: 'vcs-sec-',
      overrides: async (config) => ({ logger, store: spyOn(await selectStore(config, logger), storeCalls) }),
    },
  );
  return { ...server, logs: logger.lines, storeCalls };
}

/**
 * A secure server (started with `env`) and a control pair on it for the enclosing
 * `describe`: both opened before its tests and closed after them. After each test the
 * clients in each of `closeAfterEach` are closed, in order, and the control pair is checked.
 * `server` and `control` are filled in by the `before` hook: use them inside hooks and tests.
 */
export function useSecureServer(
  env: Record<string, string> = {},
  closeAfterEach: Array<Array<{ close(): void }>> = [],
): { server: SecureServer; control: Control } {
  const server = {} as SecureServer;
  const control = new Control();
  before(async () => {
    Object.assign(server, await startSecure(env));
    await control.start(server.url);
  });
  afterEach(async function () {
    for (const clients of closeAfterEach) for (const c of clients.splice(0)) c.close();
    await control.check(this.currentTest?.title ?? '');
  });
  after(async () => {
    control.close();
    await server.stop?.();
  });
  return { server, control };
}

/** The REST error envelope with the expected status and code. */
export function expectError(res: HttpResult, status: number, code: string, what = ''): void {
  expect(res.status, `${what} status (body ${JSON.stringify(res.body)?.slice(0, 200)})`).to.equal(status);
  expect(res.body?.error?.code, `${what} code`).to.equal(code);
  expect(res.body.error.message, `${what} message`).to.be.a('string').and.not.equal('');
}

/**
 * A healthy pair of clients in a public room that keep talking while a test attacks the
 * server: A emits `chat:typing` every 200 ms and B records when each arrives. `check()`
 * proves the server and this pair are unaffected: /healthz answers, both sockets are still
 * connected, a chat message from A reaches B, and the heartbeat never stalled.
 */
export class Control {
  readonly beats: number[] = [];
  // Set by start().
  declare readonly url: string;
  declare readonly roomId: string;
  declare readonly a: Socket;
  declare readonly b: Socket;
  declare readonly tokens: { a: string; b: string };
  private messages = true;
  private timer: NodeJS.Timeout | null = null;
  private started = 0;

  static async open(url: string, options: { messages?: boolean; socket?: Record<string, unknown> } = {}): Promise<Control> {
    const control = new Control();
    await control.start(url, options);
    return control;
  }

  /** Opens this pair (made with `new Control()`) on the server at `url`. */
  async start(url: string, options: { messages?: boolean; socket?: Record<string, unknown> } = {}): Promise<void> {
    const a = await guest(url, 'control-a');
    const b = await guest(url, 'control-b');
    const room = await createRoom(url, a.token, { name: 'control room' });
    const sa = await connect(url, '/chat', a.token, options.socket);
    const sb = await connect(url, '/chat', b.token, options.socket);
    for (const s of [sa, sb]) expect((await ask(s, 'room:join', { roomId: room.id })).ok).to.equal(true);
    Object.assign(this, { url, roomId: room.id, a: sa, b: sb, tokens: { a: a.token, b: b.token }, messages: options.messages ?? true });
    sb.on('chat:typing', () => this.beats.push(Date.now()));
    this.started = Date.now();
    let typing = false;
    this.timer = setInterval(() => {
      typing = !typing;
      sa.emit('chat:typing', { roomId: room.id, typing });
    }, 200);
  }

  /** The longest time B went without a heartbeat, up to now. */
  longestSilenceMs(): number {
    const times = [this.started, ...this.beats, Date.now()];
    let longest = 0;
    for (let i = 1; i < times.length; i++) longest = Math.max(longest, times[i]! - times[i - 1]!);
    return longest;
  }

  async check(what = ''): Promise<void> {
    const health = await request(this.url, 'GET', '/healthz');
    expect(health.status, `${what}: /healthz`).to.equal(200);
    expect(this.a.connected && this.b.connected, `${what}: control sockets connected`).to.equal(true);
    if (this.messages) {
      const clientMsgId = randomUUID();
      const arrived = new Promise<void>((resolve, reject) => {
        const timer = setTimeout(() => reject(new Error(`${what}: control message not delivered`)), 5000);
        const onMessage = (m: { clientMsgId: string }) => {
          if (m.clientMsgId !== clientMsgId) return;
          clearTimeout(timer);
          this.b.off('chat:message', onMessage);
          resolve();
        };
        this.b.on('chat:message', onMessage);
      });
      const sent = await ask(this.a, 'chat:send', { roomId: this.roomId, clientMsgId, text: 'control still here' });
      expect(sent.ok, `${what}: control send ${JSON.stringify(sent)}`).to.equal(true);
      await arrived;
    }
    // Generous for a loaded CI machine; a stalled event loop or a broken relay shows up as seconds.
    expect(this.longestSilenceMs(), `${what}: control heartbeat stalled`).to.be.below(2500);
  }

  close(): void {
    if (!this.timer) return; // never started
    clearInterval(this.timer);
    this.a.close();
    this.b.close();
  }
}

/**
 * Records unhandled rejections and uncaught exceptions while the enclosing suite runs, and
 * fails the suite if any occurred: an attack must never reach one.
 */
export function watchProcessFaults(): void {
  const faults: string[] = [];
  const onFault = (err: unknown) => faults.push(err instanceof Error ? (err.stack ?? err.message) : String(err));
  before(() => {
    process.on('unhandledRejection', onFault);
    process.on('uncaughtException', onFault);
  });
  afterEach(() => {
    expect(faults, 'unhandled rejections / uncaught exceptions').to.deep.equal([]);
  });
  after(() => {
    process.off('unhandledRejection', onFault);
    process.off('uncaughtException', onFault);
  });
}

/** Every key of every object nested in `value` (arrays and objects walked, cycles cut). */
export function deepKeys(value: unknown, seen = new WeakSet<object>()): string[] {
  if (typeof value !== 'object' || value === null || seen.has(value)) return [];
  seen.add(value);
  if (Buffer.isBuffer(value)) return [];
  const own = Array.isArray(value) ? [] : Object.keys(value);
  return [...own, ...Object.values(value).flatMap((v) => deepKeys(v, seen))];
}

export const sleep = (ms: number) => new Promise((r) => setTimeout(r, ms));
