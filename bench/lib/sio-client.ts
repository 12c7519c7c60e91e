import type { Socket } from 'node:net';
import WebSocket from 'ws';

/**
 * A lightweight Socket.IO receiver on a raw WebSocket, speaking the Engine.IO v4 / Socket.IO
 * v5 text framing by hand: `0` open, `2`→`3` ping/pong, `40/nsp,{auth}` connect,
 * `42/nsp,[event,…]` event, `42/nsp,<id>[…]` event with ack, `43/nsp,<id>[…]` ack,
 * `44/nsp,{…}` connect error. It is about an order of magnitude cheaper per message than
 * socket.io-client, so one generator core can drive a server core. Event frames are handed
 * to `onEvent` as the raw Buffer; nothing is JSON-parsed unless the caller asks.
 */

const OPEN = 0x30; // '0'
const CLOSE = 0x31; // '1'
const PING = 0x32; // '2'
const MESSAGE = 0x34; // '4'
const SIO_CONNECT = 0x30;
const SIO_EVENT = 0x32;
const SIO_ACK = 0x33;
const SIO_CONNECT_ERROR = 0x34;

export interface ConnectOptions {
  /** e.g. 127.0.0.1 */
  host: string;
  port: number;
  path?: string;
  nsp: string;
  auth?: Record<string, unknown>;
  /** Source address on loopback (127.0.0.x) to spread ephemeral ports. */
  localAddress?: string;
  timeoutMs?: number;
  /** Remember the CSR offset carried by each event (needed for session recovery). */
  trackOffset?: boolean;
  /**
   * Event handler from the first frame on: a recovered session's missed packets arrive
   * before the CONNECT answer.
   */
  onEvent?: (frame: Buffer, client: SioClient) => void;
}

export class ConnectError extends Error {}

/**
 * One of 127.0.0.2 … 127.0.0.201, so that repeated runs do not run out of ephemeral ports.
 * Picked at random rather than in turn: as even a spread over thousands of connections, and
 * no counter shared by every rig of the process.
 */
export function randomLocalAddress(): string {
  return `127.0.0.${2 + Math.floor(Math.random() * 200)}`;
}

export class SioClient {
  /** Called with every EVENT frame (the whole Buffer, starting `42/nsp,`). */
  onEvent: ((frame: Buffer, client: SioClient) => void) | null = null;
  /** Called once when the connection closes (any reason). */
  onClose: ((client: SioClient) => void) | null = null;
  sid = '';
  pid: string | null = null;
  lastOffset: string | null = null;
  connected = false;
  closed = false;

  readonly prefixLength: number;
  private readonly eventPrefix: string;
  private nextAckId = 0;
  private readonly acks = new Map<number, (json: string) => void>();

  private constructor(
    readonly ws: WebSocket,
    readonly nsp: string,
    private readonly trackOffset: boolean,
  ) {
    this.eventPrefix = `42${nsp},`;
    this.prefixLength = this.eventPrefix.length;
  }

  /** Opens the WebSocket and connects to the namespace; rejects on a connect error. */
  static connect(options: ConnectOptions): Promise<SioClient> {
    const path = options.path ?? '/ws';
    const ws = new WebSocket(`ws://${options.host}:${options.port}${path}/?EIO=4&transport=websocket`, {
      perMessageDeflate: false,
      skipUTF8Validation: true,
      ...(options.localAddress ? { localAddress: options.localAddress } : {}),
    });
    const client = new SioClient(ws, options.nsp, options.trackOffset ?? false);
    client.onEvent = options.onEvent ?? null;
    return new Promise<SioClient>((resolve, reject) => {
      let settled = false;
      const timer = setTimeout(() => fail(new ConnectError('connect timeout')), options.timeoutMs ?? 10_000);
      const fail = (err: Error) => {
        if (settled) return;
        settled = true;
        clearTimeout(timer);
        ws.terminate();
        reject(err);
      };
      const connectFrame = `40${options.nsp},${JSON.stringify(options.auth ?? {})}`;
      ws.on('error', (err) => fail(err));
      ws.on('close', () => {
        client.connected = false;
        if (!client.closed) {
          client.closed = true;
          for (const cb of client.acks.values()) cb('');
          client.acks.clear();
          client.onClose?.(client);
        }
        fail(new ConnectError('closed during connect'));
      });
      ws.on('message', (data: Buffer) => {
        const c0 = data[0];
        if (c0 === MESSAGE) {
          const c1 = data[1];
          if (c1 === SIO_EVENT) {
            client.onEvent?.(data, client);
            return client.noteOffset(data);
          }
          if (c1 === SIO_ACK) return client.handleAck(data);
          if (c1 === SIO_CONNECT) {
            const body = JSON.parse(data.toString('utf8', data.indexOf(0x2c) + 1)) as { sid: string; pid?: string };
            client.sid = body.sid;
            client.pid = body.pid ?? null;
            client.connected = true;
            if (!settled) {
              settled = true;
              clearTimeout(timer);
              resolve(client);
            }
            return;
          }
          if (c1 === SIO_CONNECT_ERROR) {
            const text = data.toString('utf8', data.indexOf(0x2c) + 1);
            return fail(new ConnectError(`connect_error ${text}`));
          }
          return;
        }
        if (c0 === PING) return ws.send('3');
        if (c0 === OPEN) return ws.send(connectFrame);
        if (c0 === CLOSE) ws.terminate();
      });
    });
  }

  /** Fire-and-forget event; `json` is the already-serialised payload. */
  emitRaw(event: string, json: string): void {
    this.ws.send(`${this.eventPrefix}["${event}",${json}]`);
  }

  /** Event with an ack; `cb` gets the ack's raw JSON array text (`[{…}]`), or '' if the socket closed. */
  emitAck(event: string, json: string, cb: (ackJson: string) => void): void {
    const id = this.nextAckId++;
    this.acks.set(id, cb);
    this.ws.send(`${this.eventPrefix}${id}["${event}",${json}]`);
  }

  /** Event with an ack, parsed: resolves with the first ack argument. */
  request<T = any>(event: string, payload: unknown, timeoutMs = 10_000): Promise<T> {
    return new Promise<T>((resolve, reject) => {
      const timer = setTimeout(() => reject(new Error(`${event}: no ack within ${timeoutMs} ms`)), timeoutMs);
      this.emitAck(event, JSON.stringify(payload), (json) => {
        clearTimeout(timer);
        if (json === '') return reject(new Error(`${event}: socket closed`));
        resolve((JSON.parse(json) as T[])[0]!);
      });
    });
  }

  /**
   * Abrupt close (no Engine.IO close packet), like a dropped network: the server sees a
   * transport error. With a TCP reset, so that no TIME_WAIT is left behind: thousands of
   * them slow every later connect of the run (measured: connect rates halved).
   */
  terminate(): void {
    const socket = (this.ws as unknown as { _socket?: Socket })._socket;
    if (socket && !socket.destroyed && socket.readyState === 'open') socket.resetAndDestroy();
    this.ws.terminate();
  }

  get pendingAcks(): number {
    return this.acks.size;
  }

  private handleAck(data: Buffer): void {
    // 43/nsp,<id>[...]
    let i = this.prefixLength;
    let id = 0;
    for (; i < data.length; i++) {
      const c = data[i]!;
      if (c < 0x30 || c > 0x39) break;
      id = id * 10 + (c - 0x30);
    }
    const cb = this.acks.get(id);
    if (!cb) return;
    this.acks.delete(id);
    cb(data.toString('utf8', i));
  }

  /** With CSR, each broadcast ends with its offset: `…,"<offset>"]`. */
  private noteOffset(data: Buffer): void {
    if (!this.trackOffset || this.pid === null) return;
    const end = data.length - 2; // closing quote
    if (data[end] !== 0x22) return;
    const start = data.lastIndexOf(0x22, end - 1);
    if (start > 0) this.lastOffset = data.toString('latin1', start + 1, end);
  }
}

/** Connects `count` clients with at most `concurrency` handshakes in flight. */
export async function connectMany<T>(count: number, concurrency: number, connectOne: (i: number) => Promise<T>): Promise<{ ok: T[]; errors: string[] }> {
  const ok: T[] = [];
  const errors: string[] = [];
  let next = 0;
  const worker = async () => {
    while (next < count) {
      const i = next++;
      try {
        ok.push(await connectOne(i));
      } catch (err) {
        errors.push((err as Error).message);
      }
    }
  };
  await Promise.all(Array.from({ length: Math.min(concurrency, count) }, worker));
  return { ok, errors };
}

/** Reads a `TS!<µs>!` stamp from a frame; -1 when absent. */
export const STAMP = Buffer.from('TS!');
export function readStamp(frame: Buffer, from = 0): number {
  const at = frame.indexOf(STAMP, from);
  if (at < 0) return -1;
  let v = 0;
  for (let i = at + 3; i < frame.length; i++) {
    const c = frame[i]!;
    if (c < 0x30 || c > 0x39) break;
    v = v * 10 + (c - 0x30);
  }
  return v;
}

/** Microseconds on this process's monotonic clock (send and receive are stamped here). */
export const nowUs = () => Math.round(performance.now() * 1000);
