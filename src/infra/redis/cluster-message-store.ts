import { AppError, roomNotFound } from '../../domain/app-error.js';
import type { Message } from '../../protocol/models.js';
import type { Logger } from '../../ports/logger.js';
import type { AppendResult, HistoryPage, HistoryQuery, MessageStore, NewMessage, RoomStore } from '../../ports/store.js';
import type { RedisMessageLog } from './redis-message-log.js';

/**
 * Messages in cluster mode. Redis assigns `seq`, remembers clientMsgIds and queues the
 * message for the store in one atomic step (the ack point); the store catches up through
 * the persistence queue. Reads merge the store with Redis's recent log, so a message that
 * is acked but not yet stored is never missing from history.
 */
export class ClusterMessageStore implements MessageStore {
  constructor(
    private readonly log: RedisMessageLog,
    private readonly store: MessageStore & RoomStore,
    private readonly logger: Logger,
  ) {}

  async append(message: NewMessage): Promise<AppendResult> {
    const first = await this.durably(() => this.log.append(message));
    if (first) return first;
    // The room's counter is not in Redis yet: seed it from the store (the source of truth
    // for everything persisted), then try once more.
    const room = await this.store.getRoom(message.roomId);
    if (!room) throw roomNotFound(message.roomId);
    await this.durably(() => this.log.seed(message.roomId, room.lastSeq));
    const second = await this.durably(() => this.log.append(message));
    if (!second) throw new AppError('UNAVAILABLE', 'could not initialise the room sequence; try again');
    return second;
  }

  insertAssigned(messages: Message[]): Promise<void> {
    return this.store.insertAssigned(messages);
  }

  async findByClientMsgId(roomId: string, clientMsgId: string): Promise<Message | null> {
    return (await this.log.findByClientMsgId(roomId, clientMsgId).catch(() => null)) ?? this.store.findByClientMsgId(roomId, clientMsgId);
  }

  async listMessages(roomId: string, q: HistoryQuery): Promise<HistoryPage> {
    const [stored, recent] = await Promise.all([
      this.store.listMessages(roomId, q).catch((err: unknown) => this.unreadable('store', err)),
      this.log.range(roomId, q).catch((err: unknown) => this.unreadable('redis', err)),
    ]);
    if (!stored && !recent) throw new AppError('UNAVAILABLE', 'history is unavailable right now; try again');
    const bySeq = new Map<number, Message>();
    for (const m of [...(stored?.messages ?? []), ...(recent?.messages ?? [])]) bySeq.set(m.seq, m);
    const all = [...bySeq.values()].sort((a, b) => a.seq - b.seq);
    const ascending = q.after !== undefined;
    const messages = ascending ? all.slice(0, q.limit) : all.slice(-q.limit);
    return { messages, hasMore: all.length > q.limit || Boolean(stored?.hasMore) || Boolean(recent?.hasMore) };
  }

  setCursor(roomId: string, userId: string, seq: number): Promise<void> {
    return this.store.setCursor(roomId, userId, seq);
  }

  getCursor(roomId: string, userId: string): Promise<number> {
    return this.store.getCursor(roomId, userId);
  }

  /** The newest seq of the room: Redis's counter, which leads the store. */
  async currentSeq(roomId: string): Promise<number | null> {
    return this.log.currentSeq(roomId).catch(() => null);
  }

  private unreadable(source: string, err: unknown): null {
    this.logger.warn('history source unavailable', { source, err: (err as Error).message });
    return null;
  }

  /** A Redis failure on the write path is UNAVAILABLE: nothing is acked that Redis did not take. */
  private async durably<R>(fn: () => Promise<R>): Promise<R> {
    try {
      return await fn();
    } catch (err) {
      if (err instanceof AppError) throw err;
      this.logger.warn('redis write failed', { err: (err as Error).message });
      throw new AppError('UNAVAILABLE', 'cannot make the message durable right now; try again');
    }
  }
}
