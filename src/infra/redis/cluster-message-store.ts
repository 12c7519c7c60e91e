import { roomNotFound, unavailable } from '../../domain/app-error.js';
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
    if (!('evicted' in result)) return result;
    // A retry of a message older than the recent log: the store has it, unless the queue has
    // not reached the store yet (then the sender retries; the record keeps it a duplicate).
    const found = await this.store.findByClientMsgId(message.roomId, message.clientMsgId!);
    if (!found) throw unavailable('the original of this message is still being stored; try again shortly');
    return this.log.original(found, result);
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
    const [stored, recent] = await Promise.all([
      this.store.listMessages(roomId, q).catch((err: unknown) => this.unreadable('store', err)),
      this.log.range(roomId, q).catch((err: unknown) => this.unreadable('redis', err)),
    ]);
    if (!stored && !recent) throw unavailable('history is unavailable right now; try again');
    // Where both hold a seq the store wins: it is the record. They differ only when the store
    // refused a log entry because its seq was taken (Redis went back in time).
    const bySeq = new Map<number, Message>();
    for (const m of [...(recent?.messages ?? []), ...(stored?.messages ?? [])]) bySeq.set(m.seq, m);
    const all = [...bySeq.values()].sort((a, b) => a.seq - b.seq);
    const ascending = q.after !== undefined;
    const messages = ascending ? all.slice(0, q.limit) : all.slice(-q.limit);
    return { messages, hasMore: all.length > q.limit || Boolean(stored?.hasMore) || Boolean(recent?.hasMore) };
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
