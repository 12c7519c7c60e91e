import { withChangeFields } from '../../domain/message-change.js';
import type { Message, Room, RoomRole } from '../../protocol/models.js';
import type { Membership } from '../../ports/store.js';

export interface RoomRow {
  id: string;
  name: string;
  is_private: number;
  max_participants: number;
  created_by: string;
  created_at: string;
  last_seq: number;
  last_rev: number;
  locked: number;
  lobby: number;
}

export interface MemberRow {
  user_id: string;
  name: string | null;
  role: RoomRole;
  added_at: string;
  banned: number;
}

export interface MessageRow {
  id: string;
  room_id: string;
  seq: number;
  sender_id: string;
  sender_name: string;
  text: string;
  client_msg_id: string | null;
  created_at: string;
  reply_to: number | null;
  edited_at: string | null;
  deleted_at: string | null;
  /** JSON of the reactions; null when none. */
  reactions: string | null;
  rev: number;
}

export const toRoom = (r: RoomRow): Room => ({
  id: r.id,
  name: r.name,
  isPrivate: r.is_private === 1,
  maxParticipants: r.max_participants,
  createdBy: r.created_by,
  createdAt: r.created_at,
  lastSeq: r.last_seq,
  lastRev: r.last_rev,
  locked: r.locked === 1,
  lobby: r.lobby === 1,
});

export const toMembership = (r: MemberRow): Membership => ({
  userId: r.user_id,
  name: r.name ?? r.user_id,
  role: r.role,
  addedAt: r.added_at,
  banned: r.banned === 1,
});

export const toMessage = (r: MessageRow): Message =>
  withChangeFields(
    {
      id: r.id,
      roomId: r.room_id,
      seq: r.seq,
      senderId: r.sender_id,
      senderName: r.sender_name,
      text: r.text,
      clientMsgId: r.client_msg_id,
      createdAt: r.created_at,
    },
    { replyTo: r.reply_to, editedAt: r.edited_at, deletedAt: r.deleted_at, reactions: r.reactions === null ? null : JSON.parse(r.reactions), rev: r.rev },
  );

/**
 * The key messages file a room under (sqlite-schema.ts v7), from the room's id bound at
 * `param` (`?`, or a name such as `@room`): one primary-key read per statement. No room, no
 * key: nothing matches.
 */
export const roomKeyOf = (param = '?'): string => `(SELECT msg_key FROM rooms WHERE id = ${param})`;

/**
 * What reads of messages select from: each with its room's row, whose id it returns. A read
 * of one room (`rooms.id = ?`) finds the room once and walks its messages in key order.
 */
export const ROOM_MESSAGES = 'rooms JOIN messages ON messages.room_key = rooms.msg_key';
/** What a read of ROOM_MESSAGES selects. */
export const MESSAGE_COLUMNS = [
  'messages.id',
  'rooms.id AS room_id',
  ...['seq', 'sender_id', 'sender_name', 'text', 'client_msg_id', 'created_at', 'reply_to', 'edited_at', 'deleted_at', 'reactions', 'rev'].map((c) => `messages.${c}`),
].join(', ');
/** What an insert of a new message writes (a new message has never changed). */
export const INSERT_COLUMNS = 'id, room_key, seq, sender_id, sender_name, text, client_msg_id, created_at, reply_to';
