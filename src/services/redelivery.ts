import type { Logger } from '../ports/logger.js';
import type { Message } from '../protocol/models.js';

export interface RedeliveryOptions {
  /** A member that has not acked a newer message for this long gets it again. */
  ackTimeoutMs: number;
  /** Resends per gap before the member is told to resync from history instead. */
  maxAttempts: number;
  /** The room's newest seq. */
  currentSeq: (roomId: string) => Promise<number>;
  /** Messages after `afterSeq`, oldest first (a bounded page). */
  messagesAfter: (roomId: string, afterSeq: number) => Promise<Message[]>;
  logger: Logger;
}

/** What the tracker needs from a socket: its id and two ways to reach it. */
export interface RedeliveryTarget {
  id: string;
  resend(message: Message): void;
  resync(roomId: string, fromSeq: number): void;
}

interface Watch {
  target: RedeliveryTarget;
  roomId: string;
  acked: number;
  /** The acked value at the last check: no progress since then means a stale member. */
  seenAtCheck: number;
  attempts: number;
}

/**
 * At-least-once delivery for members that acknowledge (`chat:ack`). A socket opts in with
 * its first ack in a room; from then on, when the room has messages past its ack and the ack
 * has not moved for `ackTimeoutMs`, those messages are sent again, up to `maxAttempts` times,
 * after which the socket is told to resync from history. Sockets that never ack are left to
 * Socket.IO delivery plus `lastSeq` catch-up, as before.
 */
export class Redelivery {
  private readonly watches = new Map<string, Watch>();
  private timer: NodeJS.Timeout | null = null;

  constructor(private readonly options: RedeliveryOptions) {}

  start(): void {
    this.timer = setInterval(() => void this.check(), this.options.ackTimeoutMs);
    this.timer.unref();
  }

  stop(): void {
    if (this.timer) clearInterval(this.timer);
    this.timer = null;
  }

  acked(target: RedeliveryTarget, roomId: string, seq: number): void {
    const key = `${target.id}|${roomId}`;
    const watch = this.watches.get(key);
    if (!watch) {
      this.watches.set(key, { target, roomId, acked: seq, seenAtCheck: seq, attempts: 0 });
    } else if (seq > watch.acked) {
      watch.acked = seq;
      watch.attempts = 0;
    }
  }

  forget(socketId: string, roomId?: string): void {
    if (roomId !== undefined) this.watches.delete(`${socketId}|${roomId}`);
    else for (const key of this.watches.keys()) if (key.startsWith(`${socketId}|`)) this.watches.delete(key);
  }

  /** One pass over the watched members (exposed for tests). */
  async check(): Promise<void> {
    for (const [key, watch] of this.watches) {
      const stale = watch.acked === watch.seenAtCheck;
      watch.seenAtCheck = watch.acked;
      if (!stale) continue;
      try {
        if ((await this.options.currentSeq(watch.roomId)) <= watch.acked) continue;
        if (watch.attempts >= this.options.maxAttempts) {
          watch.target.resync(watch.roomId, watch.acked);
          this.watches.delete(key);
          continue;
        }
        watch.attempts++;
        for (const m of await this.options.messagesAfter(watch.roomId, watch.acked)) watch.target.resend(m);
      } catch (err) {
        this.options.logger.debug('redelivery check failed', { roomId: watch.roomId, err: (err as Error).message });
      }
    }
  }
}
