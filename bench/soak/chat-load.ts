import type { Socket } from 'socket.io-client';
import { ChatSender } from '../../support/chat-sender.js';
import type { Guest } from '../lib/setup.js';
import { request, soakSocket } from './soak-socket.js';

export interface ChatLoadShape {
  rooms: number;
  /** Members of each room, spread over the nodes; the first `senders` of them send. */
  members: number;
  senders: number;
  /** Pause between one sender's acked message and its next. */
  sendGapMs: number;
}

/** Retries with the same clientMsgId outlast any fault of the schedule (the longest is a node restart). */
const SEND_DEADLINE_MS = 60_000;
const RETRY_CODES = ['UNAVAILABLE', 'RATE_LIMITED', 'NOT_IN_ROOM'];

/** A room member: in its room after every (re)connect, unless it chose to be out for a while. */
class Member {
  readonly socket: Socket;
  /** False between a churn `room:leave` and its rejoin: a reconnect then does not rejoin. */
  wantsRoom = true;
  received = 0;

  constructor(url: string, guest: Guest, readonly roomId: string) {
    this.socket = soakSocket(url, '/chat', guest.token, async (s, recovered) => {
      if (!recovered && this.wantsRoom) await request(s, 'room:join', { roomId });
    });
    this.socket.on('chat:message', () => this.received++);
  }
}

/**
 * Steady chat in every room from real socket.io-client sockets, with churn: a member leaves
 * its room and rejoins, a member disconnects and reconnects, a visitor connects, sends one
 * message and goes. Every send is a ChatSender's (retried with its clientMsgId until acked),
 * visitors' included, so the history check at the end covers all of them.
 */
export class ChatLoad {
  readonly members: Member[] = [];
  /** Per room, every sender that ever sent there. */
  readonly senders = new Map<string, ChatSender[]>();
  readonly churn = { leaves: 0, reconnects: 0, visitors: 0 };
  private readonly running: Promise<void>[] = [];
  private stopping = false;
  private visitorCount = 0;

  constructor(
    private readonly urls: string[],
    private readonly guests: Guest[],
    readonly roomIds: string[],
    private readonly shape: ChatLoadShape,
  ) {
    roomIds.forEach((roomId, r) => {
      this.senders.set(roomId, []);
      for (let m = 0; m < shape.members; m++) {
        const member = new Member(urls[(r + m) % urls.length]!, guests[(r * shape.members + m) % guests.length]!, roomId);
        this.members.push(member);
        if (m < shape.senders) this.addSender(roomId, new ChatSender(member.socket, roomId, `r${r}s${m}`, { ackTimeoutMs: 3000, retryOn: RETRY_CODES }), (s) => s.run(() => this.stopping, shape.sendGapMs, SEND_DEADLINE_MS));
      }
    });
  }

  private addSender(roomId: string, sender: ChatSender, run: (s: ChatSender) => Promise<unknown>): void {
    this.senders.get(roomId)!.push(sender);
    this.running.push(run(sender).then(() => undefined));
  }

  /** One step of churn, taking turns between the three kinds. */
  churnStep(turn: number): void {
    if (this.stopping) return;
    const listeners = this.members.filter((_, i) => i % this.shape.members >= this.shape.senders);
    const pick = <T>(xs: T[]) => xs[Math.floor(Math.random() * xs.length)]!;
    const kind = turn % 3;
    if (kind === 0) {
      const m = pick(listeners.filter((x) => x.wantsRoom && x.socket.connected));
      if (!m) return;
      this.churn.leaves++;
      m.wantsRoom = false;
      void request(m.socket, 'room:leave', { roomId: m.roomId })
        .catch(() => undefined)
        .then(() => new Promise((r) => setTimeout(r, 1000)))
        .then(() => {
          m.wantsRoom = true;
          return m.socket.connected ? request(m.socket, 'room:join', { roomId: m.roomId }) : undefined;
        })
        .catch(() => undefined);
    } else if (kind === 1) {
      // Any member, senders included: a sender's message in flight is retried after the reconnect.
      const m = pick(this.members.filter((x) => x.socket.connected));
      if (!m) return;
      this.churn.reconnects++;
      m.socket.disconnect();
      setTimeout(() => m.socket.connect(), 500);
    } else {
      this.visitor();
    }
  }

  /** A client that comes, joins, sends one message (retried like any) and leaves. */
  private visitor(): void {
    const n = this.visitorCount++;
    const r = n % this.roomIds.length;
    const roomId = this.roomIds[r]!;
    this.churn.visitors++;
    let joined: () => void = () => undefined;
    const ready = new Promise<void>((resolve) => (joined = resolve));
    const socket = soakSocket(this.urls[n % this.urls.length]!, '/chat', this.guests[n % this.guests.length]!.token, async (s) => {
      await request(s, 'room:join', { roomId });
      joined();
    });
    this.addSender(roomId, new ChatSender(socket, roomId, `r${r}v${n}`, { ackTimeoutMs: 3000, retryOn: RETRY_CODES }), async (s) => {
      await Promise.race([ready, new Promise((r) => setTimeout(r, 10_000))]);
      await s.sendOne(SEND_DEADLINE_MS);
      socket.close();
    });
  }

  /** Stops sending (each sender finishes the message in hand, acked or out of time). */
  async stop(): Promise<void> {
    this.stopping = true;
    await Promise.all(this.running);
  }

  close(): void {
    for (const m of this.members) m.socket.close();
  }

  figures() {
    const all = [...this.senders.values()].flat();
    const errors: Record<string, number> = {};
    for (const s of all) for (const [code, n] of s.errors) errors[code] = (errors[code] ?? 0) + n;
    return {
      attempted: all.reduce((n, s) => n + s.attempted.size, 0),
      acked: all.reduce((n, s) => n + s.acked.size, 0),
      deliveries: this.members.reduce((n, m) => n + m.received, 0),
      slowestAckMs: Math.max(0, ...all.map((s) => s.slowestMs)),
      retriedErrors: errors,
      churn: { ...this.churn },
    };
  }
}
