import type { ChangeRequest, ChangeResult } from '../domain/message-change.js';
import type { Member, Message, Room, RoomRole } from '../protocol/models.js';

export type { ChangeRequest, ChangeResult };

/** A room as created; `lastSeq` and `lastRev` start at 0, `locked` and `lobby` default to false. */
export type NewRoom = Omit<Room, 'lastSeq' | 'lastRev' | 'locked' | 'lobby'> & Partial<Pick<Room, 'locked' | 'lobby'>>;

/** What a room's owner or moderators may change. */
export type RoomPatch = Partial<Pick<Room, 'name' | 'isPrivate' | 'maxParticipants' | 'locked' | 'lobby'>>;

/** A user's standing in a room. A banned user keeps a row (so the ban holds) but is no member. */
export interface Membership extends Member {
  banned: boolean;
}

/** Keyset paging: ids greater than `after`, in id order. */
export interface IdPage {
  limit: number;
  after?: string | undefined;
}

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

/** Search results, best match first. */
export interface SearchPage {
  messages: Message[];
  /** More messages match than the page holds. */
  hasMore: boolean;
}

export interface RoomStore {
  createRoom(room: NewRoom): Promise<Room>;
  getRoom(roomId: string): Promise<Room | null>;
  /** The room after the change; null when it does not exist. */
  updateRoom(roomId: string, patch: RoomPatch): Promise<Room | null>;
  /** Removes the room with its members, messages, cursors and read markers; false when it did not exist. */
  deleteRoom(roomId: string): Promise<boolean>;
  /**
   * Makes the user a member unless they already have a row (a member keeps their role, a
   * banned user stays banned); `name` fills in or refreshes the name shown in member lists.
   */
  addMember(roomId: string, userId: string, options?: { role?: RoomRole; name?: string }): Promise<void>;
  /** The user's row in the room, banned or not; null when they have none. */
  getMember(roomId: string, userId: string): Promise<Membership | null>;
  /** Sets the role, adding the user if needed; lifts a ban. */
  setRole(roomId: string, userId: string, role: RoomRole): Promise<void>;
  /** Ends the membership; with `ban`, keeps a banned row. True when the user was a member. */
  removeMember(roomId: string, userId: string, ban: boolean): Promise<boolean>;
  /** Members (not banned), by user id. */
  listMembers(roomId: string, page: IdPage): Promise<Membership[]>;
  /** Rooms the user is a member of (not banned), by room id, with their role. */
  listRoomsOf(userId: string, page: IdPage): Promise<Array<Room & { role: RoomRole }>>;
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
   * stored (same id, or same room and seq) counts as done, so redelivery is harmless. A
   * message of a room that no longer exists (deleted while it was queued) is dropped, not
   * stored: the answer counts them.
   */
  insertAssigned(messages: Message[]): Promise<{ dropped: number }>;
  findByClientMsgId(roomId: string, clientMsgId: string): Promise<Message | null>;
  /**
   * The room's newest assigned seq (0 for an empty or unknown room): the one source of a
   * room's `lastSeq`. In cluster mode Redis assigns seq, so its counter leads the store.
   */
  lastSeq(roomId: string): Promise<number>;
  listMessages(roomId: string, query: HistoryQuery): Promise<HistoryPage>;
  /** The message at this seq of the room, as it is now; null when there is none. */
  getMessage(roomId: string, seq: number): Promise<Message | null>;
  /** By id, any room (REST addresses messages by id); null when unknown (cluster mode: also while still queued). */
  findById(id: string): Promise<Message | null>;
  /**
   * Applies a change to an existing message atomically with the room's next `rev` (the
   * rules: changedMessage). A change that changes nothing writes nothing and keeps `rev`.
   * MESSAGE_NOT_FOUND when the room has no such seq. Resolves once durable.
   */
  change(request: ChangeRequest): Promise<ChangeResult>;
  /**
   * Cluster mode: stores a message's state whose `rev` was assigned elsewhere, unless the
   * stored one is as new or newer (higher rev wins, so out-of-order delivery is harmless).
   * `missing`: the message is not stored (yet); `dropped`: its room is gone.
   */
  applyAssigned(message: Message): Promise<'applied' | 'stale' | 'missing' | 'dropped'>;
  /** The room's change counter (0 for an unknown room or one never changed). */
  lastRev(roomId: string): Promise<number>;
  /** Messages with seq ≤ `maxSeq` changed after `afterRev`, by rev, oldest change first. */
  listChangedSince(roomId: string, afterRev: number, maxSeq: number, limit: number): Promise<HistoryPage>;
  /**
   * Messages of the room whose current text holds every word of `q` (the rule of
   * protocol/search-terms.ts: whole words, case-insensitive, no stemming), best match first,
   * ties newest first; at most `limit`. A `q` without a word finds nothing.
   */
  searchMessages(roomId: string, q: string, limit: number): Promise<SearchPage>;
  /** Moves the member's delivery cursor forward (never back). */
  setCursor(roomId: string, userId: string, seq: number): Promise<void>;
  getCursor(roomId: string, userId: string): Promise<number>;
}

/** How far one user has read in one room: every message up to `seq` (0: nothing yet). */
export interface ReadMarker {
  roomId: string;
  userId: string;
  seq: number;
}

/**
 * Read markers: what each member has read, apart from the delivery cursor (what reached a
 * device). A marker only moves forward; an unread count is the room's lastSeq minus it.
 */
export interface ReadMarkerStore {
  /** Moves the marker forward (never back); true when it moved. */
  setReadMarker(roomId: string, userId: string, seq: number): Promise<boolean>;
  /** Moves several markers forward in one write (own sends, batched). */
  setReadMarkers(markers: ReadMarker[]): Promise<void>;
  /** 0 when the user has read nothing in the room. */
  getReadMarker(roomId: string, userId: string): Promise<number>;
  /** The user's markers in the given rooms, in one read; rooms without one are left out. */
  readMarkers(userId: string, roomIds: string[]): Promise<Map<string, number>>;
}

/** Everything the server persists: rooms, members, messages, delivery cursors, read markers. */
export interface Store extends RoomStore, MessageStore, ReadMarkerStore {
  readonly kind: 'sqlite' | 'mongo';
  /** Resolves when the store answers; rejects when it cannot serve. */
  ping(): Promise<void>;
  close(): Promise<void>;
}
