import { AppError } from '../domain/app-error.js';
import { messageNotFound, type ChangeOp } from '../domain/message-change.js';
import { timeOrderedId } from '../domain/time-ordered-id.js';
import type { Message, Room } from '../protocol/models.js';
import { SYSTEM_SENDER } from '../protocol/system-sender.js';
import type { ServerMetrics } from '../ports/metrics.js';
import { noWebhooks, type WebhookPublisher } from '../ports/webhooks.js';
import type { LiveDelivery, RateLimiter } from '../ports/realtime.js';
import type { HistoryPage, MessageStore, NewMessage, SearchPage } from '../ports/store.js';
import { SEARCH_DEFAULT_LIMIT } from '../protocol/query-schemas.js';
import { searchTermsOf } from '../protocol/search-terms.js';
import { unreadCount, type ReadMarkers } from './read-markers.js';
import { isModerator, type RoomService } from './room-service.js';
import type { AuthUser } from './token-service.js';

export interface SendInput {
  roomId: string;
  text: string;
  clientMsgId?: string | undefined;
  replyTo?: number | undefined;
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
  /** Read markers: `chat:read`, and own sends moving the sender's marker. */
  markers: ReadMarkers;
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
    const draft: NewMessage = {
      id: timeOrderedId(),
      roomId: input.roomId,
      senderId: user.id,
      senderName: user.name,
      text: input.text,
      clientMsgId: input.clientMsgId ?? null,
      createdAt: new Date().toISOString(),
    };
    if (input.replyTo !== undefined) {
      // Only replies pay for this read. Seqs are gap-free and never reused, so a seq up to the
      // room's newest is a message of this room (deleted ones keep their seq).
      if (input.replyTo > (await messages.lastSeq(input.roomId))) throw messageNotFound(input.roomId, input.replyTo);
      draft.replyTo = input.replyTo;
    }
    const result = await messages.append(draft);
    if (!result.created && result.message.senderId !== user.id) {
      // Another user's clientMsgId: never hand their message to someone else.
      throw new AppError('CONFLICT', 'clientMsgId is already used by another sender in this room');
    }
    if (result.created) metrics.messageAccepted();
    // A backed-up cluster fan-out holds the ack (see FanOutBacklog): the message is durable
    // already; the sender waits so that its next send does not outrun the broadcast.
    const backedUp = result.created || result.deliverAgain ? live.deliverMessage(result.message, originSocketId) : null;
    if (backedUp) await backedUp;
    // What I sent I have read: held in memory and written in a batch, off the send's path.
    this.deps.markers.sent(input.roomId, user.id, result.message.seq);
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
      id: timeOrderedId(),
      roomId,
      senderId: SYSTEM_SENDER.id,
      senderName: SYSTEM_SENDER.name,
      text,
      clientMsgId: null,
      createdAt: new Date().toISOString(),
    });
    metrics.messageAccepted();
    const backedUp = live.deliverMessage(message);
    if (backedUp) await backedUp;
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
    cursors: { lastSeq?: number | undefined; lastRev?: number | undefined },
    subscribe: () => Promise<void>,
  ): Promise<{ room: Room; messages: Message[]; complete: boolean; updates: Message[]; updatesComplete: boolean; unread?: number }> {
    const { rooms, markers } = this.deps;
    const room = await rooms.withCurrentSeq(await rooms.requireAccess(user, roomId, true));
    await subscribe();
    // A marker that cannot be read (store down) leaves `unread` out rather than failing the join.
    const [{ messages, complete }, marker] = await Promise.all([
      this.catchUp(user, roomId, cursors.lastSeq),
      markers.markerOf(roomId, user.id).catch(() => null),
    ]);
    const lastStored = messages.at(-1)?.seq ?? 0;
    // Changes to what the member had (up to its lastSeq); newer messages come in their
    // current state already. Read after subscribing: a change made meanwhile also arrives live.
    let updates: Message[] = [];
    let updatesComplete = true;
    if (cursors.lastRev !== undefined && cursors.lastSeq !== undefined && cursors.lastSeq > 0) {
      const page = await this.deps.messages.listChangedSince(roomId, cursors.lastRev, cursors.lastSeq, JOIN_PAGE_SIZE);
      updates = page.messages;
      updatesComplete = !page.hasMore;
    }
    const lastRev = Math.max(room.lastRev, ...updates.map((m) => m.rev ?? 0));
    const current = { ...room, lastSeq: Math.max(room.lastSeq, lastStored), lastRev };
    const unread = marker === null ? {} : { unread: unreadCount(current.lastSeq, marker) };
    return { room: current, messages, complete, updates, updatesComplete, ...unread };
  }

  /**
   * A change to an existing message of a room the caller may use (checked by the caller):
   * metered like a send, applied atomically with the room's next rev (durable before it
   * resolves), then fanned out as `chat:message-updated`. A change already made (a retry)
   * changes nothing and is not fanned out again. `role` is the caller's role in the room
   * (only a delete asks for it).
   */
  async change(user: AuthUser, roomId: string, seq: number, op: ChangeOp): Promise<Message> {
    const { messages, live, budget, rooms } = this.deps;
    const decision = await budget.consume(user.id);
    if (!decision.allowed) throw new AppError('RATE_LIMITED', 'too many messages; slow down', undefined, decision.retryAfterMs);
    const moderator = op.kind === 'delete' ? isModerator((await rooms.access(user, roomId)).role) : false;
    const result = await messages.change({ roomId, seq, op, actor: { id: user.id, moderator }, at: new Date().toISOString() });
    if (result.changed) live.deliverUpdate(result.message);
    return result.message;
  }

  /** A message by id, for REST; MESSAGE_NOT_FOUND when unknown. */
  async byId(id: string): Promise<Message> {
    const found = await this.deps.messages.findById(id);
    if (!found) throw new AppError('MESSAGE_NOT_FOUND', `no message ${JSON.stringify(id)}`);
    return found;
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

  /**
   * Moves the user's read marker forward to `seq`, which may not pass the room's current
   * lastSeq (VALIDATION_FAILED). True when it moved, so that the others get a receipt.
   */
  async markRead(user: AuthUser, roomId: string, seq: number): Promise<boolean> {
    return this.deps.markers.read(roomId, user.id, seq, await this.lastSeq(roomId));
  }
}
