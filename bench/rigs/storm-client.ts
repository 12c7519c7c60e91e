import { connect, type Guest } from '../lib/setup.js';
import type { SioClient } from '../lib/sio-client.js';

const MSG_ID = Buffer.from('"clientMsgId":"');
const SEQ = Buffer.from('"seq":');

function readField(frame: Buffer, key: Buffer, quoted: boolean): string | null {
  const at = frame.indexOf(key);
  if (at < 0) return null;
  const start = at + key.length;
  const end = quoted ? frame.indexOf(0x22, start) : frame.indexOf(0x2c, start);
  return frame.toString('latin1', start, end);
}

/**
 * One client of the reconnect storm, behaving as the client guide says: after a lost
 * connection it tries session recovery first, else rejoins its room (ours: with `lastSeq`,
 * paging history until complete). It counts every message it receives by clientMsgId, so
 * that the storm can tell the lost from the doubled.
 */
export class StormClient {
  sock: SioClient | null = null;
  /** When it was last back in its room; null while it is out. */
  rejoinedAt: number | null = null;
  /** clientMsgId → times received (receivers). */
  readonly got = new Map<string, number>();
  private pid: string | null = null;
  private offset: string | null = null;
  /** Seqs held (ours) and the highest seq below which none is missing: the rejoin cursor. */
  private readonly seqs = new Set<number>();
  private contiguous = 0;
  private attempts = 0;

  constructor(
    readonly user: Guest,
    readonly roomId: string,
    readonly room: number,
    readonly sender: boolean,
    /** Ours: messages carry a seq that survives a restart; bare's restart from 1. */
    private readonly durable: boolean,
  ) {}

  /** Connects, recovering the session when it can; resolves once back in the room. */
  async open(port: number, onClose: () => void): Promise<void> {
    const auth = this.pid && this.offset ? { pid: this.pid, offset: this.offset } : {};
    const previousSid = this.sock?.sid;
    const sock = await connect({ port }, '/chat', this.user.token, { auth, onEvent: this.onEvent, trackOffset: true });
    this.sock = sock;
    this.pid = sock.pid;
    sock.onClose = () => {
      this.rejoinedAt = null;
      onClose();
    };
    const recovered = previousSid !== undefined && sock.sid === previousSid;
    if (!recovered) await this.rejoin(sock);
    this.rejoinedAt = performance.now();
    this.attempts = 0;
  }

  /** The wait before the next attempt: socket.io-client's default, 1 s doubling to 5 s, ±50 % jitter. */
  nextBackoffMs(): number {
    const base = Math.min(1000 * 2 ** this.attempts, 5000);
    this.attempts++;
    return base + (Math.random() * 2 - 1) * 0.5 * base;
  }

  private readonly onEvent = (frame: Buffer, sock: SioClient): void => {
    const p = sock.prefixLength + 2;
    if (frame[p] !== 0x63 || frame[p + 5] !== 0x6d) return; // chat:message
    this.take(readField(frame, MSG_ID, true), Number(readField(frame, SEQ, false)));
    const end = frame.length - 2;
    if (frame[end] === 0x22) this.offset = frame.toString('latin1', frame.lastIndexOf(0x22, end - 1) + 1, end);
  };

  /**
   * A message reaches the app. Ours: deduplicated by seq (a set, not a high-water mark: a
   * live message can overtake the history page of a rejoin). Bare has no usable seq (it
   * restarts from 1 with the server), so every reception counts.
   */
  private take(id: string | null, seq: number): void {
    if (this.durable && Number.isFinite(seq)) {
      if (this.seqs.has(seq)) return;
      this.seqs.add(seq);
      while (this.seqs.has(this.contiguous + 1)) this.contiguous++;
    }
    if (id) this.got.set(id, (this.got.get(id) ?? 0) + 1);
  }

  /** Ours: rejoin with the cursor and page until complete (README, "Reconnecting"). */
  private async rejoin(sock: SioClient): Promise<void> {
    let page = await sock.request('room:join', this.durable ? { roomId: this.roomId, lastSeq: this.contiguous } : { roomId: this.roomId });
    if (!page.ok) throw new Error(`room:join refused: ${JSON.stringify(page).slice(0, 200)}`);
    if (!this.durable) return;
    let messages = page.messages as { seq: number; clientMsgId: string | null }[];
    let more = page.complete === false;
    for (;;) {
      for (const m of messages) this.take(m.clientMsgId, m.seq);
      if (!more) break;
      page = await sock.request('chat:history', { roomId: this.roomId, after: messages.at(-1)?.seq ?? this.contiguous, limit: 100 });
      messages = page.messages;
      more = page.hasMore === true && messages.length > 0;
    }
  }
}
