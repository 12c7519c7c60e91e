import type { Socket } from 'socket.io-client';
import type { Message } from '../../src/protocol/models.js';
import type { SendRecord } from './history-checker.js';
import { eventually } from './socket-client.js';

export interface ChatSenderOptions {
  /** How long one attempt waits for its ack before it counts as TIMEOUT and is retried. */
  ackTimeoutMs?: number;
  /**
   * Error codes worth a retry; by default UNAVAILABLE and RATE_LIMITED. A client that
   * reconnects without recovery also retries NOT_IN_ROOM while it rejoins.
   */
  retryOn?: readonly string[];
  /** Each acked message, as a client puts its own message into its view. */
  onAcked?: (message: Message) => void;
}

/**
 * A sender as a well-behaved client is written: every message has a clientMsgId, and a
 * send that fails (UNAVAILABLE, no ack in time) is retried with the same id until acked or
 * the deadline passes. Records what was attempted and what was acked, for the checker.
 */
export class ChatSender implements SendRecord {
  readonly attempted = new Set<string>();
  readonly acked = new Map<string, number>();
  readonly ackedBeforeAttempt = new Map<string, number>();
  readonly attempts = new Map<string, number>();
  readonly errors = new Map<string, number>();
  /** The longest any one send waited for its answer (ok or not), in ms. */
  slowestMs = 0;
  private counter = 0;

  constructor(
    private readonly socket: Socket,
    private readonly roomId: string,
    private readonly prefix: string,
    private readonly options: ChatSenderOptions = {},
  ) {}

  /** Sends one new message, retrying until acked or `deadlineMs` from now. */
  async sendOne(deadlineMs = 15_000): Promise<boolean> {
    const clientMsgId = `${this.prefix}-${++this.counter}`;
    this.attempted.add(clientMsgId);
    this.ackedBeforeAttempt.set(clientMsgId, this.acked.size);
    const retryOn = this.options.retryOn ?? ['UNAVAILABLE', 'RATE_LIMITED'];
    const deadline = Date.now() + deadlineMs;
    while (Date.now() < deadline) {
      const started = Date.now();
      this.attempts.set(clientMsgId, (this.attempts.get(clientMsgId) ?? 0) + 1);
      try {
        const res = await this.socket.timeout(this.options.ackTimeoutMs ?? 3000).emitWithAck('chat:send', { roomId: this.roomId, clientMsgId, text: `msg ${clientMsgId}` });
        this.slowestMs = Math.max(this.slowestMs, Date.now() - started);
        if (res.ok) {
          this.acked.set(clientMsgId, res.message.seq);
          this.options.onAcked?.(res.message);
          return true;
        }
        this.errors.set(res.error.code, (this.errors.get(res.error.code) ?? 0) + 1);
        if (!retryOn.includes(res.error.code)) return false;
      } catch (err) {
        this.slowestMs = Math.max(this.slowestMs, Date.now() - started);
        // socket.io-client fails the acks in flight at once when the connection drops: that
        // send got no answer because the client saw its connection go, not because it hung.
        const code = /disconnected/.test((err as Error).message) ? 'DISCONNECTED' : 'TIMEOUT';
        this.errors.set(code, (this.errors.get(code) ?? 0) + 1);
      }
      await new Promise((r) => setTimeout(r, 100));
    }
    return false;
  }

  /** Sends messages one after another until `stop()` returns true. */
  async run(stop: () => boolean, gapMs = 20): Promise<void> {
    while (!stop()) {
      await this.sendOne();
      await new Promise((r) => setTimeout(r, gapMs));
    }
  }
}

/**
 * One ChatSender per socket, sending all along: until TRAFFIC_BEFORE messages are acked, then
 * while `fault` runs, then until TRAFFIC_AFTER more are acked; returns the senders for the checker.
 */
export async function underTraffic(sockets: Socket[], roomId: string, fault: () => Promise<void>, ackTimeoutMs?: number): Promise<ChatSender[]> {
  let stopping = false;
  const senders = sockets.map((s, i) => new ChatSender(s, roomId, `c${i}`, { ackTimeoutMs }));
  const running = senders.map((s) => s.run(() => stopping));
  const acked = () => senders.reduce((n, s) => n + s.acked.size, 0);
  try {
    // Evidence, not fixed windows: traffic is flowing before the fault, and acks resume after
    // it (a slow machine gets more time instead of a test with too few messages to mean anything).
    await eventually(() => acked() >= TRAFFIC_BEFORE, 15_000, `${TRAFFIC_BEFORE} acks before the fault`);
    await fault();
    const atHeal = acked();
    await eventually(() => acked() >= atHeal + TRAFFIC_AFTER, 20_000, `${TRAFFIC_AFTER} more acks after the fault`);
  } finally {
    stopping = true;
    await Promise.all(running);
  }
  return senders;
}

/** Acks to see before a fault and after it: together more than any suite's "acked > 20". */
const TRAFFIC_BEFORE = 10;
const TRAFFIC_AFTER = 15;
