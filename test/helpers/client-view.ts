import type { Socket } from 'socket.io-client';
import type { Message } from '../../src/protocol/models.js';
import type { ClientRecord, Delivery } from '../../support/history-checker.js';
import { ask } from './socket-client.js';

/** How long a hole in seq may stay before it is filled from history: live order across nodes is not seq order. */
const GAP_WAIT_MS = 300;
/** Bound on history pages per walk: far more than any suite stores. */
const MAX_PAGES = 1000;
const ACK_TIMEOUT_MS = 5000;
const JOIN_RETRY_MS = 1000;

/**
 * One client's view of one room, kept as the demo client (client/chat.ts) keeps it: every
 * `chat:message`, its own acked messages, a `room:join {lastSeq}` catch-up after each
 * connect that did not recover the session, a `chat:history` backfill when a hole in seq
 * stays, and a walk of the whole history at the end. Everything received is recorded with
 * how it came, so the checker sees duplicates that a view keyed by seq would hide.
 * It never sends `chat:ack`: with acks the server redelivers on purpose (src/services/redelivery.ts).
 */
export class ClientView implements ClientRecord {
  readonly received: { message: Message; via: Delivery }[] = [];
  /** True while the socket is in the room (joined, or recovered into it). */
  joined = false;
  joins = 0;
  recoveries = 0;
  disconnects = 0;
  /** Joins and backfills that failed (a connection that dropped again meanwhile): for diagnostics. */
  readonly errors: string[] = [];
  private readonly bySeq = new Map<number, Message>();
  /** The highest seq held, and the highest below which none is missing (kept as messages come). */
  private highest = 0;
  private lowestMissing = 1;
  private gapTimer: NodeJS.Timeout | null = null;
  private retryTimer: NodeJS.Timeout | null = null;
  private filling = false;
  private closed = false;

  constructor(
    readonly name: string,
    readonly socket: Socket,
    private readonly roomId: string,
  ) {
    socket.on('chat:message', (m: Message) => {
      if (m.roomId !== roomId) return;
      this.see([m], 'live');
      this.watchForGap();
    });
    socket.on('chat:resync', (e: { roomId: string }) => e.roomId === roomId && void this.fillGap());
    socket.on('disconnect', () => {
      this.joined = false;
      this.disconnects++;
    });
    socket.on('connect', () => {
      if (socket.recovered && this.joins > 0) {
        this.recoveries++;
        this.joined = true;
      } else void this.join();
    });
    if (socket.connected) void this.join();
  }

  /** Every seq from 1 up to this one is held: what a catch-up asks after. */
  get contiguous(): number {
    return this.lowestMissing - 1;
  }

  /** The seqs held, for polling "has every message arrived". */
  has(seq: number): boolean {
    return this.bySeq.has(seq);
  }

  /** The client's own message, from the ack of its send. */
  acked(message: Message): void {
    if (message.roomId === this.roomId) this.see([message], 'ack');
  }

  /** Reads the whole history page by page (the end of a run: nothing may be missing after it). */
  async finalWalk(): Promise<void> {
    await this.page(0, 'final-walk');
  }

  /** Stops the timers (the socket is the caller's to close). */
  close(): void {
    this.closed = true;
    if (this.gapTimer) clearTimeout(this.gapTimer);
    if (this.retryTimer) clearTimeout(this.retryTimer);
  }

  private see(messages: Message[], via: Delivery): void {
    for (const message of messages) {
      this.received.push({ message, via });
      if (!this.bySeq.has(message.seq)) this.bySeq.set(message.seq, message);
      this.highest = Math.max(this.highest, message.seq);
    }
    while (this.bySeq.has(this.lowestMissing)) this.lowestMissing++;
  }

  private async join(): Promise<void> {
    try {
      const res = await ask(this.socket, 'room:join', { roomId: this.roomId, lastSeq: this.contiguous }, ACK_TIMEOUT_MS);
      if (!res.ok) throw new Error(res.error.code);
      this.see(res.messages, 'join');
      if (!res.complete) await this.page(this.contiguous, 'join');
      this.joins++;
      this.joined = this.socket.connected;
    } catch (err) {
      this.errors.push(`join: ${(err as Error).message}`);
      // Dropped again meanwhile: the next 'connect' joins again. Still connected (the join
      // met an outage): try again shortly, as the demo client does.
      if (this.socket.connected && !this.closed) this.retryTimer = setTimeout(() => void this.join(), JOIN_RETRY_MS);
    }
  }

  private watchForGap(): void {
    if (this.closed || this.gapTimer || !this.hasGap()) return;
    this.gapTimer = setTimeout(() => {
      this.gapTimer = null;
      if (this.joined && this.hasGap()) void this.fillGap().finally(() => this.watchForGap());
    }, GAP_WAIT_MS);
  }

  private hasGap(): boolean {
    return this.contiguous < this.highest;
  }

  private async fillGap(): Promise<void> {
    if (this.filling || this.closed) return;
    this.filling = true;
    try {
      await this.page(this.contiguous, 'gap-fill');
    } catch (err) {
      this.errors.push(`gap-fill: ${(err as Error).message}`);
    } finally {
      this.filling = false;
    }
  }

  /** Pages `chat:history` from `after` to the end. */
  private async page(after: number, via: Delivery): Promise<void> {
    for (let i = 0; i < MAX_PAGES; i++) {
      const page = await ask(this.socket, 'chat:history', { roomId: this.roomId, after, limit: 100 }, ACK_TIMEOUT_MS);
      if (!page.ok) throw new Error(page.error.code);
      this.see(page.messages, via);
      if (!page.hasMore || page.messages.length === 0) return;
      after = page.messages.at(-1).seq;
    }
    throw new Error(`history of ${this.roomId} longer than ${MAX_PAGES} pages`);
  }
}
