import type { Message, Room } from '../protocol/models.js';

/** A room as created; `lastSeq` starts at 0. */
export type NewRoom = Omit<Room, 'lastSeq'>;

/** A message before the store assigns its per-room `seq`. */
export type NewMessage = Omit<Message, 'seq'>;

export interface AppendResult {
  message: Message;
  /** False when `clientMsgId` was seen before and the original message is returned. */
  created: boolean;
  /**
   * For a known clientMsgId: its first live fan-out may have been lost (the node that
   * stored it is not this one and may have died in between), so deliver it again.
   */
  deliverAgain?: boolean;
}

export interface HistoryQuery {
  /** Only messages with seq > after, oldest first. */
  after?: number;
  /** Only messages with seq < before; without `after`, the newest page below it. */
  before?: number;
  limit: number;
}

export interface HistoryPage {
  messages: Message[];
  /** More messages exist past the page in the direction of travel. */
  hasMore: boolean;
}

export interface RoomStore {
  createRoom(room: NewRoom): Promise<Room>;
  getRoom(roomId: string): Promise<Room | null>;
  addMember(roomId: string, userId: string): Promise<void>;
  isMember(roomId: string, userId: string): Promise<boolean>;
}

export interface MessageStore {
  /**
   * Assigns the room's next `seq` and stores the message in one atomic step. A message whose
   * `(roomId, clientMsgId)` is already stored is not stored again: the original comes back
   * with `created: false`. Resolves only once the write is durable.
   */
  append(message: NewMessage): Promise<AppendResult>;
  /**
   * Stores messages whose `seq` was assigned elsewhere (cluster mode). A message already
   * stored (same id, or same room and seq) counts as done, so redelivery is harmless.
   */
  insertAssigned(messages: Message[]): Promise<void>;
  findByClientMsgId(roomId: string, clientMsgId: string): Promise<Message | null>;
  /**
   * The room's newest assigned seq (0 for an empty or unknown room): the one source of a
   * room's `lastSeq`. In cluster mode Redis assigns seq, so its counter leads the store.
   */
  lastSeq(roomId: string): Promise<number>;
  listMessages(roomId: string, query: HistoryQuery): Promise<HistoryPage>;
  /** Moves the member's delivery cursor forward (never back). */
  setCursor(roomId: string, userId: string, seq: number): Promise<void>;
  getCursor(roomId: string, userId: string): Promise<number>;
}

/** Everything the server persists: rooms, members, messages, delivery cursors. */
export interface Store extends RoomStore, MessageStore {
  readonly kind: 'sqlite' | 'mongo';
  /** Resolves when the store answers; rejects when it cannot serve. */
  ping(): Promise<void>;
  close(): Promise<void>;
}
