import { randomUUID } from 'node:crypto';
import { AppError } from '../domain/app-error.js';
import type { Message } from '../protocol/models.js';
import type { LiveDelivery } from '../ports/realtime.js';
import type { HistoryPage, MessageStore } from '../ports/store.js';
import type { AuthUser } from './token-service.js';

export interface SendInput {
  roomId: string;
  text: string;
  clientMsgId?: string | undefined;
}

/** Page size of `room:join` catch-up and of history without an explicit limit. */
export const JOIN_PAGE_SIZE = 100;
export const DEFAULT_HISTORY_LIMIT = 50;

/**
 * Chat use cases. Access to the room is checked by the caller (once per socket or per
 * request); this service stores, deduplicates and fans out.
 */
export class ChatService {
  constructor(
    private readonly messages: MessageStore,
    private readonly live: LiveDelivery,
    /** Told of every newly stored message (metrics). */
    private readonly onAccepted: () => void = () => {},
  ) {}

  /**
   * Stores the message (durably, with the room's next seq) and then delivers it live.
   * A retried clientMsgId returns the original message and delivers nothing again.
   * `originSocketId`, the sending socket, is left out of the fan-out: it has the ack.
   */
  async send(user: AuthUser, input: SendInput, originSocketId?: string): Promise<{ message: Message; created: boolean }> {
    const result = await this.messages.append({
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
    if (result.created) this.onAccepted();
    if (result.created || result.deliverAgain) this.live.deliverMessage(result.message, originSocketId);
    return result;
  }

  history(roomId: string, q: { after?: number | undefined; before?: number | undefined; limit?: number | undefined }): Promise<HistoryPage> {
    const query: { after?: number; before?: number; limit: number } = { limit: q.limit ?? DEFAULT_HISTORY_LIMIT };
    if (q.after !== undefined) query.after = q.after;
    if (q.before !== undefined) query.before = q.before;
    return this.messages.listMessages(roomId, query);
  }

  /**
   * Messages a (re)joining member missed: after `lastSeq`; without it, after the member's
   * delivery cursor (what it acked last time, on any node); without either, the latest page.
   */
  async catchUp(user: AuthUser, roomId: string, lastSeq: number | undefined): Promise<{ messages: Message[]; complete: boolean }> {
    if (lastSeq === undefined) {
      // A cursor that cannot be read (store down) falls back to the latest page.
      const cursor = await this.messages.getCursor(roomId, user.id).catch(() => 0);
      if (cursor > 0) return this.catchUp(user, roomId, cursor);
      const page = await this.history(roomId, { limit: DEFAULT_HISTORY_LIMIT });
      return { messages: page.messages, complete: true };
    }
    const page = await this.history(roomId, { after: lastSeq, limit: JOIN_PAGE_SIZE });
    return { messages: page.messages, complete: !page.hasMore };
  }

  recordDelivered(user: AuthUser, roomId: string, seq: number): Promise<void> {
    return this.messages.setCursor(roomId, user.id, seq);
  }
}
