import WebSocket from 'ws';

/**
 * A Socket.IO client written by hand over the `ws` package, for sending what no well-behaved
 * client would: malformed and truncated packets, binary placeholders, reserved event names,
 * a stolen recovery session. It completes the Engine.IO open, answers heartbeats, and keeps
 * every text frame the server sends.
 */
export class RawClient {
  /** Text frames from the server after the Engine.IO open, in order. */
  readonly frames: string[] = [];
  closed = false;
  closeCode: number | null = null;
  private readonly waiters = new Set<() => void>();
  private nextAckId = 1;

  private constructor(readonly ws: WebSocket) {
    ws.on('message', (data, isBinary) => {
      if (isBinary) return;
      const text = data.toString();
      if (text === '2') return void this.sendRaw('3'); // Engine.IO ping → pong
      this.frames.push(text);
      this.wake();
    });
    ws.on('close', (code) => {
      this.closed = true;
      this.closeCode = code;
      this.wake();
    });
    ws.on('error', () => undefined); // a refused or reset connection shows up as 'close'
  }

  /** Opens ws://127.0.0.1:PORT/ws/?EIO=4&transport=websocket and waits for the Engine.IO open packet. */
  static async open(port: number, headers: Record<string, string> = {}, timeoutMs = 5000): Promise<RawClient> {
    const ws = new WebSocket(`ws://127.0.0.1:${port}/ws/?EIO=4&transport=websocket`, { headers, perMessageDeflate: false });
    const client = new RawClient(ws);
    await new Promise<void>((resolve, reject) => {
      const timer = setTimeout(() => reject(new Error('no Engine.IO open packet')), timeoutMs);
      ws.once('unexpected-response', (_req, res) => {
        clearTimeout(timer);
        let body = '';
        res.on('data', (chunk: Buffer) => (body += chunk.toString()));
        res.on('error', () => undefined);
        res.on('close', () => reject(Object.assign(new Error(`upgrade refused with HTTP ${res.statusCode}`), { status: res.statusCode, body })));
      });
      ws.once('close', () => (clearTimeout(timer), reject(new Error('closed before the Engine.IO open'))));
      ws.once('message', (data) => {
        clearTimeout(timer);
        const text = data.toString();
        if (text.startsWith('0{')) resolve();
        else reject(new Error(`unexpected first frame ${text.slice(0, 80)}`));
      });
    });
    return client;
  }

  private wake(): void {
    for (const w of [...this.waiters]) w();
  }

  sendRaw(frame: string | Buffer, binary = typeof frame !== 'string'): void {
    if (this.ws.readyState === WebSocket.OPEN) this.ws.send(frame, { binary });
  }

  /** Resolves with the first frame (seen so far or later) matching `match`, or null on close/timeout. */
  async frame(match: (f: string) => boolean, timeoutMs = 3000): Promise<string | null> {
    const deadline = Date.now() + timeoutMs;
    for (;;) {
      const found = this.frames.find(match);
      if (found !== undefined) return found;
      if (this.closed || Date.now() >= deadline) return null;
      await new Promise<void>((resolve) => {
        const done = () => (clearTimeout(timer), this.waiters.delete(done), resolve());
        const timer = setTimeout(done, Math.max(1, deadline - Date.now()));
        this.waiters.add(done);
      });
    }
  }

  /** Sends a namespace CONNECT with `auth`; resolves with the CONNECT (40) or CONNECT_ERROR (44) answer. */
  async connect(nsp: string, auth: unknown): Promise<{ ok: true; sid: string; pid?: string } | { ok: false; message: string; data?: any }> {
    this.sendRaw(`40${nsp},${JSON.stringify(auth)}`);
    const answer = await this.frame((f) => f.startsWith(`40${nsp},`) || f.startsWith(`44${nsp},`));
    if (answer === null) throw new Error(`no answer to CONNECT ${nsp} (closed: ${this.closed})`);
    const body = JSON.parse(answer.slice(`40${nsp},`.length));
    return answer.startsWith('40') ? { ok: true, ...body } : { ok: false, ...body };
  }

  /** Emits `[event, ...args]` with an ack id; resolves with the ack's first argument, or null on close/timeout. */
  async ask(nsp: string, event: string, payload: unknown, timeoutMs = 3000): Promise<any> {
    const id = this.nextAckId++;
    this.sendRaw(`42${nsp},${id}${JSON.stringify([event, payload])}`);
    return this.ackFor(nsp, id, timeoutMs);
  }

  /** A new ack id for a frame built by hand. */
  ackId(): number {
    return this.nextAckId++;
  }

  /** Resolves with the first argument of the ack `id`, or null on close/timeout. */
  async ackFor(nsp: string, id: number, timeoutMs = 3000): Promise<any> {
    const prefix = `43${nsp},${id}[`;
    const frame = await this.frame((f) => f.startsWith(prefix), timeoutMs);
    return frame === null ? null : JSON.parse(frame.slice(prefix.length - 1))[0];
  }

  /** Events received on `nsp` as `[name, ...args]` (the recovery offset, if any, is the last arg). */
  events(nsp: string): unknown[][] {
    return this.frames.filter((f) => f.startsWith(`42${nsp},[`)).map((f) => JSON.parse(f.slice(`42${nsp},`.length)) as unknown[]);
  }

  /** The recovery offset of the newest stored event (volatile events carry none). */
  lastOffset(nsp: string): string | undefined {
    for (const event of this.events(nsp).reverse()) {
      const last = event.at(-1);
      if (event.length > 1 && typeof last === 'string') return last;
    }
    return undefined;
  }

  /** Resolves true once the server closed the connection (false after `timeoutMs`). */
  async waitClosed(timeoutMs = 3000): Promise<boolean> {
    await this.frame(() => false, timeoutMs);
    return this.closed;
  }

  /** Drops the TCP connection without a close handshake (a network failure, recoverable). */
  drop(): void {
    this.ws.terminate();
  }

  close(): void {
    if (!this.closed) this.ws.close();
  }
}
