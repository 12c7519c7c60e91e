import { roomNotFound, unavailable } from '../../domain/app-error.js';
import { changedMessage, messageNotFound, type ChangeRequest, type ChangeResult } from '../../domain/message-change.js';
import type { Message } from '../../protocol/models.js';
import type { Logger } from '../../ports/logger.js';
import type { AppendResult, HistoryPage, HistoryQuery, MessageStore, NewMessage, RoomStore, SearchPage } from '../../ports/store.js';
import type { RedisMessageLog } from './redis-message-log.js';

/**
 * Messages in cluster mode, and the owner of each room's sequence. Redis assigns `seq`,
 * remembers clientMsgIds and queues the message for the store in one atomic step (the ack
 * point); the store catches up through the persistence queue. Reads merge the store with
 * Redis's recent log, so a message that is acked but not yet stored is never missing from
 * history. The counter is started when a room is created, seeded from the store when it is
 * missing, and raised when the store shows it went back: all here, nowhere else.
 *
 * `log` is guarded (a Redis failure reaches this class as UNAVAILABLE, its cause logged by
 * the breaker), so nothing is acked that Redis did not take.
 */
export class ClusterMessageStore implements MessageStore {
  constructor(
    private readonly log: RedisMessageLog,
    private readonly store: MessageStore & RoomStore,
    private readonly logger: Logger,
  ) {}

  async append(message: NewMessage): Promise<AppendResult> {
    let result = await this.log.append(message);
    if (!result) {
      // The room's counter is not in Redis yet: seed it from the store (the source of truth
      // for everything persisted), then try once more.
      const room = await this.store.getRoom(message.roomId);
      if (!room) throw roomNotFound(message.roomId);
      await this.log.seed(message.roomId, room.lastSeq);
      result = await this.log.append(message);
      if (!result) throw unavailable('could not initialise the room sequence; try again');
    }
    // A retry of a message changed since: the retry gets it as it is now (deleted, edited).
    if (!('evicted' in result)) return result.created ? result : { ...result, message: (await this.getMessage(message.roomId, result.message.seq)) ?? result.message };
    // A retry of a message older than the recent log: the store has it, unless the queue has
    // not reached the store yet (then the sender retries; the record keeps it a duplicate).
    const found = await this.store.findByClientMsgId(message.roomId, message.clientMsgId!);
    if (!found) throw unavailable('the original of this message is still being stored; try again shortly');
    return this.log.original((await this.getMessage(found.roomId, found.seq)) ?? found, result);
  }

  insertAssigned(messages: Message[]): Promise<{ dropped: number }> {
    return this.store.insertAssigned(messages);
  }

  async findByClientMsgId(roomId: string, clientMsgId: string): Promise<Message | null> {
    return (await this.log.findByClientMsgId(roomId, clientMsgId).catch(() => null)) ?? this.store.findByClientMsgId(roomId, clientMsgId);
  }

  /** Redis's counter, which leads the store; the store's figure while Redis has none or is down. */
  async lastSeq(roomId: string): Promise<number> {
    const live = await this.log.currentSeq(roomId).catch(() => null);
    return live ?? this.store.lastSeq(roomId);
  }

  /** Starts a new room's counter, so its first message never needs the store to seed it. */
  async startSequence(roomId: string): Promise<void> {
    await this.log.seed(roomId, 0).catch(() => undefined);
    await this.log.seedRev(roomId, 0).catch(() => undefined);
  }

  /** The consumer stored this change: Redis may forget its state. */
  settled(message: Message): Promise<void> {
    return this.log.settled(message);
  }

  /** Ends a deleted room's sequence and recent log in Redis. */
  endSequence(roomId: string): Promise<void> {
    return this.log.forget(roomId);
  }

  /**
   * The store holds a seq the counter was about to give out again (Redis restarted without
   * its latest writes): raise the counter past everything stored, so no seq is reused.
   */
  async repairSequence(roomId: string): Promise<void> {
    await this.log.raiseTo(roomId, await this.store.lastSeq(roomId));
  }

  async listMessages(roomId: string, q: HistoryQuery): Promise<HistoryPage> {
    // Changes not in the store yet, read before the store (see getMessage); the recent log
    // holds messages as they were sent, so each one read is replaced by its current state.
    const pending = await this.log.pendingChanges(roomId).catch((err: unknown) => this.unreadable('redis', err) ?? new Map<number, Message>());
    const [stored, recent] = await Promise.all([
      this.store.listMessages(roomId, q).catch((err: unknown) => this.unreadable('store', err)),
      this.log.range(roomId, q).catch((err: unknown) => this.unreadable('redis', err)),
    ]);
    if (!stored && !recent) throw unavailable('history is unavailable right now; try again');
    // Where both hold a seq the store wins: it is the record. They differ only when the store
    // refused a log entry because its seq was taken (Redis went back in time).
    const bySeq = new Map<number, Message>();
    for (const m of [...(recent?.messages ?? []), ...(stored?.messages ?? [])]) bySeq.set(m.seq, m);
    for (const m of pending.values()) if (bySeq.has(m.seq) && (m.rev ?? 0) > (bySeq.get(m.seq)!.rev ?? 0)) bySeq.set(m.seq, m);
    const all = [...bySeq.values()].sort((a, b) => a.seq - b.seq);
    const ascending = q.after !== undefined;
    const messages = ascending ? all.slice(0, q.limit) : all.slice(-q.limit);
    return { messages, hasMore: all.length > q.limit || Boolean(stored?.hasMore) || Boolean(recent?.hasMore) };
  }

  /**
   * The message as it is now: a change not yet in the store first (read before the store: a
   * change settled in between is then in the store), then the store, then the recent log (acked,
   * not yet stored).
   */
  async getMessage(roomId: string, seq: number): Promise<Message | null> {
    const { pending } = await this.log.state(roomId, seq);
    if (pending) return pending;
    return (await this.store.getMessage(roomId, seq)) ?? (await this.log.range(roomId, { after: seq - 1, limit: 1 })).messages.find((m) => m.seq === seq) ?? null;
  }

  async findById(id: string): Promise<Message | null> {
    const found = await this.store.findById(id);
    return found && ((await this.getMessage(found.roomId, found.seq)) ?? found);
  }

  /**
   * Computes the change from the message's current state and records it in Redis with a
   * compare-and-set on the message's last rev (a concurrent change of the same message makes
   * it read again and recompute). The ack point is the Redis step, as for a send; the
   * consumer writes it to the store, where the higher rev wins.
   */
  async change(req: ChangeRequest): Promise<ChangeResult> {
    for (let attempt = 0; attempt < 20; attempt++) {
      const { rev, pending } = await this.log.state(req.roomId, req.seq);
      const current = pending ?? (await this.messageBehindLog(req.roomId, req.seq));
      const next = changedMessage(current, req);
      if (!next) return { message: current, changed: false };
      const step = await this.log.change(next, rev);
      if (step === 'seed') {
        await this.log.seedRev(req.roomId, await this.store.lastRev(req.roomId));
        continue;
      }
      if (step === 'retry') continue;
      return { message: { ...next, rev: step.rev }, changed: true };
    }
    throw unavailable('the message is busy; try again');
  }

  private async messageBehindLog(roomId: string, seq: number): Promise<Message> {
    const stored = await this.store.getMessage(roomId, seq);
    if (stored) return stored;
    const recent = (await this.log.range(roomId, { after: seq - 1, limit: 1 })).messages.find((m) => m.seq === seq);
    if (recent) return recent;
    // Acked, but neither in the recent log nor stored yet (a long queue): not lost, just not here.
    if (seq <= ((await this.log.currentSeq(roomId)) ?? 0)) throw unavailable('the message is still being stored; try again shortly');
    throw messageNotFound(roomId, seq);
  }

  applyAssigned(message: Message): Promise<'applied' | 'stale' | 'missing' | 'dropped'> {
    return this.store.applyAssigned(message);
  }

  /** Redis's counter, which leads the store (as lastSeq). */
  async lastRev(roomId: string): Promise<number> {
    const live = await this.log.currentRev(roomId).catch(() => null);
    return live ?? this.store.lastRev(roomId);
  }

  /** The store's changed messages, with the changes it does not have yet (read first) on top. */
  async listChangedSince(roomId: string, afterRev: number, maxSeq: number, limit: number): Promise<HistoryPage> {
    const pending = await this.log.pendingChanges(roomId);
    const stored = await this.store.listChangedSince(roomId, afterRev, maxSeq, limit);
    const bySeq = new Map(stored.messages.map((m) => [m.seq, m]));
    for (const m of pending.values()) if (m.seq <= maxSeq && (m.rev ?? 0) > afterRev && (m.rev ?? 0) > (bySeq.get(m.seq)?.rev ?? 0)) bySeq.set(m.seq, m);
    // A full page of the store ends where the store's page ends: later revs come with the next page.
    const cap = stored.hasMore ? (stored.messages.at(-1)?.rev ?? 0) : Infinity;
    const all = [...bySeq.values()].filter((m) => (m.rev ?? 0) <= cap).sort((a, b) => (a.rev ?? 0) - (b.rev ?? 0));
    return { messages: all.slice(0, limit), hasMore: stored.hasMore || all.length > limit };
  }

  /**
   * The store alone: a message is found once the persistence queue has stored it (the
   * recent log in Redis is not searched), usually well under a second after its ack.
   */
  searchMessages(roomId: string, q: string, limit: number): Promise<SearchPage> {
    return this.store.searchMessages(roomId, q, limit);
  }

  setCursor(roomId: string, userId: string, seq: number): Promise<void> {
    return this.store.setCursor(roomId, userId, seq);
  }

  getCursor(roomId: string, userId: string): Promise<number> {
    return this.store.getCursor(roomId, userId);
  }

  private unreadable(source: string, err: unknown): null {
    this.logger.debug('history source unavailable; serving the other', { source, err: (err as Error).message });
    return null;
  }
}
