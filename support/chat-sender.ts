/**
 * A chat client's sending discipline, shared by the fault suites (test/helpers/traffic.ts)
 * and the soak (bench/soak): bench must not import test/.
 */
import type { Socket } from 'socket.io-client';
import type { Message } from '../src/protocol/models.js';

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
export class ChatSender {
  readonly attempted = new Set<string>();
  readonly acked = new Map<string, number>();
  readonly ackedBeforeAttempt = new Map<string, number>();
  readonly attempts = new Map<string, number>();
  readonly errors = new Map<string, number>();
  /** Each distinct error answer (`CODE: message`), counted: what a slow or failed run was told. */
  readonly errorMessages = new Map<string, number>();
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
        const said = `${res.error.code}: ${res.error.message}`;
        this.errorMessages.set(said, (this.errorMessages.get(said) ?? 0) + 1);
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

  /** Sends messages one after another until `stop()` returns true; each send gives up after `deadlineMs`. */
  async run(stop: () => boolean, gapMs = 20, deadlineMs?: number): Promise<void> {
    while (!stop()) {
      await this.sendOne(deadlineMs);
      await new Promise((r) => setTimeout(r, gapMs));
    }
  }
}
