import { Schema, type Connection, type Model } from 'mongoose';

export interface RoomDoc {
  _id: string;
  name: string;
  isPrivate: boolean;
  maxParticipants: number;
  createdBy: string;
  createdAt: string;
  lastSeq: number;
  members: string[];
}

export interface MessageDoc {
  _id: string;
  roomId: string;
  seq: number;
  senderId: string;
  senderName: string;
  text: string;
  clientMsgId: string | null;
  createdAt: string;
}

export interface CursorDoc {
  roomId: string;
  userId: string;
  seq: number;
}

export interface MongoModels {
  Room: Model<RoomDoc>;
  Message: Model<MessageDoc>;
  Cursor: Model<CursorDoc>;
}

const strict = { strict: 'throw' as const, strictQuery: 'throw' as const, versionKey: false as const };

/** Models bound to one connection (never to the mongoose default singleton). */
export function bindModels(conn: Connection): MongoModels {
  const room = new Schema<RoomDoc>(
    {
      _id: String,
      name: { type: String, required: true },
      isPrivate: { type: Boolean, required: true },
      maxParticipants: { type: Number, required: true },
      createdBy: { type: String, required: true },
      createdAt: { type: String, required: true },
      lastSeq: { type: Number, required: true, default: 0 },
      members: { type: [String], default: [] },
    },
    strict,
  );
  const message = new Schema<MessageDoc>(
    {
      _id: String,
      roomId: { type: String, required: true },
      seq: { type: Number, required: true },
      senderId: { type: String, required: true },
      senderName: { type: String, required: true },
      text: { type: String, required: true },
      clientMsgId: { type: String, default: null },
      createdAt: { type: String, required: true },
    },
    strict,
  );
  message.index({ roomId: 1, seq: 1 }, { unique: true });
  message.index(
    { roomId: 1, clientMsgId: 1 },
    { unique: true, partialFilterExpression: { clientMsgId: { $type: 'string' } } },
  );
  const cursor = new Schema<CursorDoc>(
    { roomId: { type: String, required: true }, userId: { type: String, required: true }, seq: { type: Number, required: true } },
    strict,
  );
  cursor.index({ roomId: 1, userId: 1 }, { unique: true });
  return {
    Room: conn.model<RoomDoc>('Room', room, 'rooms'),
    Message: conn.model<MessageDoc>('Message', message, 'messages'),
    Cursor: conn.model<CursorDoc>('Cursor', cursor, 'member_cursors'),
  };
}
