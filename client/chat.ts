/**
 * Chat in one room, the way a client should do it over `/chat`:
 * - history is cached in localStorage and the join asks only for what came after (`lastSeq`);
 * - messages are keyed by `seq`, so a replayed or re-fetched message is shown once, and a gap
 *   (a seq we skipped) is filled from `chat:history`;
 * - a message waits in an outbox (sessionStorage) until its ack, and is resent with the same
 *   `clientMsgId` after a reconnect: the server stores it once, whatever happens to the ack;
 * - we ack what we have shown (`chat:ack`), so the server resends what we miss;
 * - an older message that changed (edited, deleted, reacted to) comes whole, with the room's
 *   change counter `rev`: we keep the copy with the higher `rev`, and rejoin with `lastRev` (saved
 *   with the cached history) to get the changes made while we were away (`updates`);
 * - `chat:read` moves our read marker (what the unread counts and the others' receipts show).
 */
import type { Socket } from 'socket.io-client';
import {
  NAMESPACES,
  textProblem,
  type ChatClientToServerEvents,
  type ChatServerToClientEvents,
  type Message,
  type PresenceEvent,
} from 'fault-tolerant-video-chat-server/protocol';
import { readJson, writeJson, type Session } from './session.js';

type ChatSocket = Socket<ChatServerToClientEvents, ChatClientToServerEvents>;

export interface Pending {
  clientMsgId: string;
  text: string;
  replyTo?: number;
}

/** What the page shows; the chat logic never touches the DOM. */
export interface ChatView {
  /** A message to show, new or changed (same seq: replace it). */
  message(message: Message, mine: boolean): void;
  pending(outbox: readonly Pending[]): void;
  people(names: string[]): void;
  typing(names: string[]): void;
  notice(text: string): void;
  changed(): void;
  /** Messages after my read marker, as the server counted them at the join. */
  unread(count: number): void;
  /** Read receipts: who (not me) has read up to which seq. */
  receipts(seqs: ReadonlyMap<string, number>): void;
  /** We lost the room: removed from it (or banned, or it became private), or it was deleted. */
  gone(why: 'removed' | 'closed'): void;
}

/** The server's default MAX_MESSAGE_LENGTH; the server has the last word (VALIDATION_FAILED). */
const MAX_MESSAGE_LENGTH = 4000;
const CACHE_SIZE = 200;
const ACK_TIMEOUT_MS = 8000;
const TYPING_IDLE_MS = 2500;
const TYPING_SHOWN_MS = 5000;
const READ_DEBOUNCE_MS = 500;

export class Chat {
  readonly socket: ChatSocket;
  userId: string;
  /** True once `room:join` (or a recovered session) has put us back in the room. */
  joined = false;
  private readonly messages = new Map<number, Message>();
  /** Every seq from the first one we hold up to this one is here: what we ask the server after. */
  private lastSeq = 0;
  private outbox: Pending[];
  private flushing = false;
  private filling = false;
  private readonly people = new Map<string, string>();
  private readonly typists = new Map<string, ReturnType<typeof setTimeout>>();
  private typingSince = 0;
  private typingIdle: ReturnType<typeof setTimeout> | undefined;
  private ackTimer: ReturnType<typeof setTimeout> | undefined;
  private ackedSeq = 0;
  /** The room's change counter up to which our copies are current: the join's `lastRev`. */
  private lastRev: number;
  private readTimer: ReturnType<typeof setTimeout> | undefined;
  private readSeq = 0;
  private seenSeq = 0;
  private readonly readers = new Map<string, number>();

  constructor(
    session: Session,
    readonly roomId: string,
    private readonly view: ChatView,
  ) {
    this.userId = session.userId;
    this.outbox = readJson<Pending[]>(sessionStorage, this.key('outbox')) ?? [];
    view.pending(this.outbox);
    const cached = readJson<Message[]>(localStorage, this.key('messages')) ?? [];
    for (const m of this.store(cached)) view.message(m, m.senderId === this.userId);
    if (cached.length) this.lastSeq = Math.min(...cached.map((m) => m.seq)) - 1;
    this.advance();
    // Without the history it belongs to, a saved lastRev means nothing.
    this.lastRev = cached.length ? (readJson<number>(localStorage, this.key('lastRev')) ?? 0) : 0;

    this.socket = session.socket(NAMESPACES.chat);
    this.socket.on('hello', (hello) => (this.userId = hello.userId));
    this.socket.on('connect', () => void this.rejoin());
    this.socket.on('disconnect', () => {
      this.joined = false;
      view.changed();
    });
    this.socket.on('chat:message', (m) => this.receive([m]));
    this.socket.on('chat:message-updated', ({ message }) => this.update([message], true));
    this.socket.on('chat:read', (e) => {
      if (e.roomId !== this.roomId || e.userId === this.userId) return;
      if (e.seq <= (this.readers.get(e.userId) ?? 0)) return;
      this.readers.set(e.userId, e.seq);
      view.receipts(this.readers);
    });
    this.socket.on('room:presence', (event) => this.presence(event));
    this.socket.on('chat:typing', (e) => e.roomId === this.roomId && this.showTyping(e.userId, e.typing));
    // The server gave up resending what we did not ack: page the history ourselves.
    this.socket.on('chat:resync', (e) => e.roomId === this.roomId && void this.fillGap());
    this.socket.on('room:removed', (e) => e.roomId === this.roomId && this.lost('removed'));
    this.socket.on('room:closed', (e) => e.roomId === this.roomId && this.lost('closed'));
  }

  /** Queues a message (a reply to `replyTo`) and sends it when we can; false (with a notice) if the text is refused. */
  send(text: string, replyTo?: number): boolean {
    const problem = textProblem(text, MAX_MESSAGE_LENGTH);
    if (problem) {
      this.view.notice(`Message ${problem}.`);
      return false;
    }
    this.outbox.push(replyTo ? { clientMsgId: newId(), text, replyTo } : { clientMsgId: newId(), text });
    this.saveOutbox();
    this.typing(false);
    void this.flush();
    return true;
  }

  /** Call on every keystroke: tells the room we type, and that we stopped after a pause. */
  typing(active = true): void {
    clearTimeout(this.typingIdle);
    if (active) this.typingIdle = setTimeout(() => this.typing(false), TYPING_IDLE_MS);
    if (active && Date.now() - this.typingSince < TYPING_IDLE_MS) return;
    if (!active && this.typingSince === 0) return;
    this.typingSince = active ? Date.now() : 0;
    if (this.joined) this.socket.volatile.emit('chat:typing', { roomId: this.roomId, typing: active });
  }

  /** The message with this seq, if we hold it. */
  get(seq: number): Message | undefined {
    return this.messages.get(seq);
  }

  /**
   * Pages back through the history (`chat:history {before}`) until we hold `seq`, e.g. a search
   * result older than what the page shows. Paging from the oldest message we hold keeps what we
   * hold gap-free; past `maxPages` pages (or offline, or holding nothing to page back from) we
   * give up: false.
   */
  async loadBack(seq: number, maxPages = 10): Promise<boolean> {
    for (let page = 0; !this.messages.has(seq); page++) {
      const first = this.messages.size ? Math.min(...this.messages.keys()) : 0;
      if (!this.joined || page === maxPages || seq >= first) return false;
      const res = await this.socket
        .timeout(ACK_TIMEOUT_MS)
        .emitWithAck('chat:history', { roomId: this.roomId, before: first, limit: 100 })
        .catch(() => null);
      if (!res?.ok || res.messages.length === 0) return false;
      this.receive(res.messages, true);
    }
    return true;
  }

  /** My newest message, if we hold one (where "Seen by" goes). */
  myLatest(): Message | undefined {
    let latest: Message | undefined;
    for (const m of this.messages.values()) if (m.senderId === this.userId && !m.deletedAt && (!latest || m.seq > latest.seq)) latest = m;
    return latest;
  }

  /** Edits my message; false (with a notice) when refused. */
  async edit(seq: number, text: string): Promise<boolean> {
    const problem = textProblem(text, MAX_MESSAGE_LENGTH);
    if (problem) {
      this.view.notice(`Message ${problem}.`);
      return false;
    }
    return this.change('Not edited', (s) => s.emitWithAck('chat:edit', { roomId: this.roomId, seq, text }));
  }

  /** Deletes a message (mine, or anyone's for a moderator); false (with a notice) when refused. */
  remove(seq: number): Promise<boolean> {
    return this.change('Not deleted', (s) => s.emitWithAck('chat:delete', { roomId: this.roomId, seq }));
  }

  /** Adds (`on`) or takes back my reaction. */
  react(seq: number, emoji: string, on: boolean): Promise<boolean> {
    return this.change('No reaction', (s) => s.emitWithAck('chat:react', { roomId: this.roomId, seq, emoji, on }));
  }

  /**
   * The user sees the chat: move our read marker to the newest message we hold (debounced,
   * forward only). The server counts our own sends as read already.
   */
  markRead(): void {
    // What is shown now, not what may have come by the time the timer fires (perhaps unseen).
    this.seenSeq = Math.max(this.seenSeq, ...this.messages.keys());
    this.readTimer ??= setTimeout(() => {
      this.readTimer = undefined;
      if (!this.joined || this.seenSeq <= this.readSeq) return;
      this.readSeq = this.seenSeq;
      this.socket.emit('chat:read', { roomId: this.roomId, seq: this.readSeq });
    }, READ_DEBOUNCE_MS);
  }

  /** The name of someone who is (or was) here, if we know it. */
  nameOf(userId: string): string | undefined {
    return this.people.get(userId);
  }

  leave(): void {
    if (this.joined) this.socket.emit('room:leave', { roomId: this.roomId });
    this.joined = false;
    this.socket.close();
  }

  /** The server took the room from us: nothing to rejoin. */
  private lost(why: 'removed' | 'closed'): void {
    this.joined = false;
    this.socket.close();
    this.view.gone(why);
  }

  /** An edit, delete or reaction: the ack carries the message as it is now. */
  private async change(
    failed: string,
    emit: (socket: ReturnType<ChatSocket['timeout']>) => Promise<{ ok: true; message: Message } | { ok: false; error: { message: string } }>,
  ): Promise<boolean> {
    if (!this.joined) {
      this.view.notice(`${failed}: not connected.`);
      return false;
    }
    const res = await emit(this.socket.timeout(ACK_TIMEOUT_MS)).catch(() => null);
    if (!res?.ok) {
      this.view.notice(`${failed}: ${res ? res.error.message : 'no answer from the server.'}`);
      return false;
    }
    this.update([res.message], true);
    return true;
  }

  /** After every connect: a recovered session is still in the room; otherwise join with lastSeq (and lastRev). */
  private async rejoin(): Promise<void> {
    if (!this.socket.recovered) {
      const withRev = this.lastSeq > 0; // lastRev 0 too: every change made so far
      for (let lastRev = this.lastRev; ; ) {
        const res = await this.socket
          .timeout(ACK_TIMEOUT_MS)
          .emitWithAck(
            'room:join',
            this.lastSeq > 0 ? { roomId: this.roomId, lastSeq: this.lastSeq, ...(withRev ? { lastRev } : {}) } : { roomId: this.roomId },
          )
          .catch(() => null);
        if (!res) return void setTimeout(() => this.socket.connected && void this.rejoin(), 2000);
        if (!res.ok) return this.view.notice(`Could not join the chat: ${res.error.message}`);
        this.people.clear();
        for (const p of res.participants) this.people.set(p.userId, p.name);
        this.showPeople();
        this.receive(res.messages, true);
        this.update(res.updates, false);
        if (res.unread !== undefined) this.view.unread(res.unread);
        if (!res.complete) await this.fillGap();
        // More changes than one answer holds: join again after the last one we got.
        if (withRev && !res.updatesComplete && res.updates.length) {
          lastRev = res.updates.at(-1)!.rev ?? lastRev;
          continue;
        }
        this.setLastRev(res.room.lastRev);
        break;
      }
    }
    this.joined = true;
    this.view.changed();
    void this.flush();
  }

  /** Takes messages from any source; `contiguous` batches (join, history) are gap-free. */
  private receive(batch: Message[], contiguous = false): void {
    const fresh = this.store(batch);
    if (contiguous && batch.length) this.lastSeq = Math.max(this.lastSeq, batch.at(-1)!.seq);
    this.advance();
    if (fresh.length) {
      for (const m of fresh) this.view.message(m, m.senderId === this.userId);
      this.saveMessages();
      this.scheduleAck();
    }
    // A live message beyond lastSeq + 1 means we missed some: fetch them.
    if (this.joined && Math.max(0, ...this.messages.keys()) > this.lastSeq) void this.fillGap();
  }

  /**
   * Changed messages (edited, deleted, reacted to): each replaces our copy when its `rev` is
   * higher. `live` ones (events, acks) also move our lastRev; a join's `updates` move it once
   * they are all in (`room.lastRev`).
   */
  private update(batch: Message[], live: boolean): void {
    let changed = false;
    for (const m of batch) {
      if (m.roomId !== this.roomId) continue;
      const ours = this.messages.get(m.seq);
      // Live changes arrive in order once we are in the room; during a join the join decides.
      if (live && m.rev && this.joined) this.setLastRev(m.rev, false);
      if (!ours) {
        // Not ours yet: a message we never had (beyond the cache) is fetched whole later.
        if (m.seq <= this.lastSeq) continue;
        this.receive([m]);
        continue;
      }
      if ((m.rev ?? 0) <= (ours.rev ?? 0)) continue;
      this.messages.set(m.seq, m);
      this.view.message(m, m.senderId === this.userId);
      changed = true;
    }
    if (changed) this.saveMessages();
  }

  private setLastRev(rev: number, save = true): void {
    if (rev <= this.lastRev) return;
    this.lastRev = rev;
    if (save) writeJson(localStorage, this.key('lastRev'), rev);
  }

  /** Adds new messages (by seq) and settles their outbox entries; returns the new ones. */
  private store(batch: Message[]): Message[] {
    const fresh: Message[] = [];
    for (const m of batch) {
      if (m.roomId !== this.roomId || this.messages.has(m.seq)) continue;
      this.messages.set(m.seq, m);
      fresh.push(m);
      if (this.outbox.some((p) => p.clientMsgId === m.clientMsgId) && m.senderId === this.userId) {
        this.outbox = this.outbox.filter((p) => p.clientMsgId !== m.clientMsgId);
        this.saveOutbox();
      }
    }
    return fresh.sort((a, b) => a.seq - b.seq);
  }

  private advance(): void {
    while (this.messages.has(this.lastSeq + 1)) this.lastSeq++;
  }

  private async fillGap(): Promise<void> {
    if (this.filling) return;
    this.filling = true;
    try {
      for (;;) {
        const res = await this.socket
          .timeout(ACK_TIMEOUT_MS)
          .emitWithAck('chat:history', { roomId: this.roomId, after: this.lastSeq, limit: 100 })
          .catch(() => null);
        if (!res?.ok) return;
        this.receive(res.messages, true);
        if (!res.hasMore || res.messages.length === 0) return;
      }
    } finally {
      this.filling = false;
    }
  }

  /** Sends the outbox in order, one ack at a time; keeps what could not be sent for later. */
  private async flush(): Promise<void> {
    if (this.flushing) return;
    this.flushing = true;
    let retryInMs = 0;
    try {
      while (this.outbox.length > 0 && this.joined && this.socket.connected) {
        const next = this.outbox[0]!;
        const res = await this.socket
          .timeout(ACK_TIMEOUT_MS)
          .emitWithAck('chat:send', { roomId: this.roomId, clientMsgId: next.clientMsgId, text: next.text, ...(next.replyTo ? { replyTo: next.replyTo } : {}) })
          .catch(() => null);
        if (res?.ok) {
          this.receive([res.message]);
        } else if (!res || ['UNAVAILABLE', 'RATE_LIMITED', 'NOT_IN_ROOM', 'INTERNAL'].includes(res.error.code)) {
          retryInMs = res?.ok === false ? (res.error.retryAfterMs ?? 2000) : 2000;
          break; // a timeout or a passing problem: same clientMsgId again later
        } else {
          this.view.notice(`Not sent: ${res.error.message}`); // refused for good
        }
        this.outbox = this.outbox.filter((p) => p !== next);
        this.saveOutbox();
      }
    } finally {
      this.flushing = false;
    }
    if (retryInMs) setTimeout(() => void this.flush(), retryInMs);
  }

  private presence(event: PresenceEvent): void {
    if (event.roomId !== this.roomId) return;
    if ('participants' in event) {
      this.people.clear();
      for (const p of event.participants) this.people.set(p.userId, p.name);
    } else if ('joined' in event) this.people.set(event.joined.userId, event.joined.name);
    else {
      this.people.delete(event.left.userId);
      this.showTyping(event.left.userId, false);
    }
    this.showPeople();
  }

  private showPeople(): void {
    this.view.people([...this.people].map(([id, name]) => (id === this.userId ? `${name} (you)` : name)));
  }

  private showTyping(userId: string, typing: boolean): void {
    clearTimeout(this.typists.get(userId));
    this.typists.delete(userId);
    // The stop may be lost (typing is volatile): forget a typist after a while anyway.
    if (typing) this.typists.set(userId, setTimeout(() => this.showTyping(userId, false), TYPING_SHOWN_MS));
    this.view.typing([...this.typists.keys()].map((id) => this.people.get(id) ?? 'Someone'));
  }

  /** Records our delivery cursor on the server, at most once a second. */
  private scheduleAck(): void {
    this.ackTimer ??= setTimeout(() => {
      this.ackTimer = undefined;
      if (!this.joined || this.lastSeq <= this.ackedSeq) return;
      this.ackedSeq = this.lastSeq;
      this.socket.emit('chat:ack', { roomId: this.roomId, seq: this.lastSeq });
    }, 1000);
  }

  /** Keeps the newest messages, merged with what other tabs of this browser saved (the higher rev wins), and our lastRev. */
  private saveMessages(): void {
    const all = new Map(this.messages);
    for (const m of readJson<Message[]>(localStorage, this.key('messages')) ?? []) {
      if ((m.rev ?? 0) > (all.get(m.seq)?.rev ?? -1)) all.set(m.seq, m);
    }
    const newest = [...all.values()].sort((a, b) => a.seq - b.seq).slice(-CACHE_SIZE);
    writeJson(localStorage, this.key('messages'), newest);
    writeJson(localStorage, this.key('lastRev'), this.lastRev);
  }

  private saveOutbox(): void {
    writeJson(sessionStorage, this.key('outbox'), this.outbox);
    this.view.pending(this.outbox);
  }

  private key(what: string): string {
    return `vc:room:${this.roomId}:${what}`;
  }
}

/** A unique clientMsgId; crypto.randomUUID needs a secure context, getRandomValues does not. */
function newId(): string {
  const bytes = crypto.getRandomValues(new Uint8Array(12));
  return Date.now().toString(36) + '-' + Array.from(bytes, (b) => b.toString(16).padStart(2, '0')).join('');
}
