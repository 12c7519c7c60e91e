import type { Message, Room } from '../../protocol/models.js';

export interface RoomRow {
  id: string;
  name: string;
  is_private: number;
  max_participants: number;
  created_by: string;
  created_at: string;
  last_seq: number;
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
}

export const toRoom = (r: RoomRow): Room => ({
  id: r.id,
  name: r.name,
  isPrivate: r.is_private === 1,
  maxParticipants: r.max_participants,
  createdBy: r.created_by,
  createdAt: r.created_at,
  lastSeq: r.last_seq,
});

export const toMessage = (r: MessageRow): Message => ({
  id: r.id,
  roomId: r.room_id,
  seq: r.seq,
  senderId: r.sender_id,
  senderName: r.sender_name,
  text: r.text,
  clientMsgId: r.client_msg_id,
  createdAt: r.created_at,
});

export const MESSAGE_COLUMNS = 'id, room_id, seq, sender_id, sender_name, text, client_msg_id, created_at';
