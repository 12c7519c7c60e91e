import { randomUUID } from 'node:crypto';
import { AppError } from '../domain/app-error.js';
import type { Message, Room } from '../protocol/models.js';
import { SYSTEM_SENDER } from '../protocol/system-sender.js';
import type { ServerMetrics } from '../ports/metrics.js';
import { noWebhooks, type WebhookPublisher } from '../ports/webhooks.js';
import type { LiveDelivery, RateLimiter } from '../ports/realtime.js';
import type { HistoryPage, MessageStore, SearchPage } from '../ports/store.js';
import { SEARCH_DEFAULT_LIMIT } from '../protocol/query-schemas.js';
import { searchTermsOf } from '../protocol/search-terms.js';
import type { RoomService } from './room-service.js';
import type { AuthUser } from './token-service.js';

export interface SendInput {
  roomId: string;
  text: string;
  clientMsgId?: string | undefined;
}

export interface HistoryInput {
  after?: number | undefined;
  before?: number | undefined;
  limit?: number | undefined;
}

/** Page size of `room:join` catch-up and of history without an explicit limit. */
export const JOIN_PAGE_SIZE = 100;
export const DEFAULT_HISTORY_LIMIT = 50;

export interface ChatServiceDeps {
  messages: MessageStore;
  rooms: RoomService;
  live: LiveDelivery;
  /** The per-user chat budget (RATE_LIMIT_MESSAGES per 10 s), shared by every way of sending. */
  budget: RateLimiter;
  metrics: ServerMetrics;
  /** Hears of each new message (`message.created`); none by default. */
  webhooks?: WebhookPublisher;
}

/**
 * Chat use cases, whichever transport asks (a socket or REST). Access to the room is
 * checked by the caller (once per socket or per request); this service meters, stores,
 * deduplicates and fans out.
 */
export class ChatService {
  constructor(private readonly deps: ChatServiceDeps) {}

  /**
   * Stores the message (durably, with the room's next seq) and then delivers it live.
   * Every send counts against the sender's budget, a retried clientMsgId too: a retry costs
   * the server a round trip like any send. A retried clientMsgId returns the original
   * message and delivers nothing again. `originSocketId`, the sending socket, is left out of
   * the fan-out: it has the ack.
   */
  async send(user: AuthUser, input: SendInput, originSocketId?: string): Promise<{ message: Message; created: boolean }> {
    const { messages, live, budget, metrics } = this.deps;
    const decision = await budget.consume(user.id);
    if (!decision.allowed) throw new AppError('RATE_LIMITED', 'too many messages; slow down', undefined, decision.retryAfterMs);
    const started = performance.now();
    const result = await messages.append({
      id: randomUUID(),
      roomId: input.roomId,
      senderId: user.id,
      senderName: user.name,
      text: input.text,
      clientMsgId: input.clientMsgId ?? null,
      createdAt: new Date().toISOString(),
    });
    if (!result.created && result.message.senderId !== user.id) {
      // Another user's clientMsgId: never hand their message to someone else.
      throw new AppError('CONFLICT', 'clientMsgId is already used by another sender in this room');
    }
    if (result.created) metrics.messageAccepted();
    if (result.created || result.deliverAgain) live.deliverMessage(result.message, originSocketId);
    // Queued before the ack, and for a retried clientMsgId too (its first try may have failed
    // right here, after the message was stored and delivered): the message id as occurrence
    // id makes a second publish a no-op.
    const webhooks = this.deps.webhooks ?? noWebhooks;
    if (webhooks.wants('message.created')) await webhooks.publish('message.created', { ...result.message }, result.message.id);
    metrics.sendAcked((performance.now() - started) / 1000);
    return result;
  }

  /**
   * An operator's message to a room, sent as SYSTEM_SENDER: the room's next seq, durable
   * before it resolves, then delivered live like any message. No budget: the operator API has
   * its own gate (ADMIN_TOKEN) and the HTTP rate limit. The caller checks the room exists.
   */
  async sendSystem(roomId: string, text: string): Promise<Message> {
    const { messages, live, metrics } = this.deps;
    const { message } = await messages.append({
      id: randomUUID(),
      roomId,
      senderId: SYSTEM_SENDER.id,
      senderName: SYSTEM_SENDER.name,
      text,
      clientMsgId: null,
      createdAt: new Date().toISOString(),
    });
    metrics.messageAccepted();
    live.deliverMessage(message);
    return message;
  }

  /**
   * A member (re)joins a room: access, the room with its current `lastSeq`, and what the
   * member missed. `subscribe` (the transport joining its broadcast room) runs between the
   * two reads, so a message stored meanwhile arrives live (maybe also in the page; clients
   * dedupe by seq) and never falls in between.
   */
  async join(
    user: AuthUser,
    roomId: string,
    lastSeq: number | undefined,
    subscribe: () => Promise<void>,
  ): Promise<{ room: Room; messages: Message[]; complete: boolean }> {
    const { rooms } = this.deps;
    const room = await rooms.withCurrentSeq(await rooms.requireAccess(user, roomId, true));
    await subscribe();
    const { messages, complete } = await this.catchUp(user, roomId, lastSeq);
    const lastStored = messages.at(-1)?.seq ?? 0;
    return { room: { ...room, lastSeq: Math.max(room.lastSeq, lastStored) }, messages, complete };
  }

  history(roomId: string, q: HistoryInput): Promise<HistoryPage> {
    const query: { after?: number; before?: number; limit: number } = { limit: q.limit ?? DEFAULT_HISTORY_LIMIT };
    if (q.after !== undefined) query.after = q.after;
    if (q.before !== undefined) query.before = q.before;
    return this.deps.messages.listMessages(roomId, query);
  }

  /**
   * The room's messages ranked by how well their current text matches `q` (every word of it
   * must be there). Reads the store: in cluster mode a message is found once the
   * persistence queue has stored it.
   */
  search(roomId: string, q: string, limit: number = SEARCH_DEFAULT_LIMIT): Promise<SearchPage> {
    // The schemas refuse such a query already; a caller that skipped them gets the same answer.
    if (searchTermsOf(q).length === 0) throw new AppError('VALIDATION_FAILED', 'the search query must contain a word (letters or digits)');
    return this.deps.messages.searchMessages(roomId, q, limit);
  }

  /** The room's newest seq, from the owner of its sequence. */
  lastSeq(roomId: string): Promise<number> {
    return this.deps.messages.lastSeq(roomId);
  }

  /**
   * Messages a (re)joining member missed: after `lastSeq`; without it, after the member's
   * delivery cursor (what it acked last time, on any node); without either, the latest page.
   */
  async catchUp(user: AuthUser, roomId: string, lastSeq: number | undefined): Promise<{ messages: Message[]; complete: boolean }> {
    if (lastSeq === undefined) {
      // A cursor that cannot be read (store down) falls back to the latest page.
      const cursor = await this.deps.messages.getCursor(roomId, user.id).catch(() => 0);
      if (cursor > 0) return this.catchUp(user, roomId, cursor);
      const page = await this.history(roomId, { limit: DEFAULT_HISTORY_LIMIT });
      return { messages: page.messages, complete: true };
    }
    const page = await this.history(roomId, { after: lastSeq, limit: JOIN_PAGE_SIZE });
    return { messages: page.messages, complete: !page.hasMore };
  }

  recordDelivered(user: AuthUser, roomId: string, seq: number): Promise<void> {
    return this.deps.messages.setCursor(roomId, user.id, seq);
  }
}
