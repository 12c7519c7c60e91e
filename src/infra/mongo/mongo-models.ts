import { Schema, type Connection, type Model } from 'mongoose';
import { ROOM_ROLES, type Reaction, type RoomRole } from '../../protocol/models.js';

export interface RoomDoc {
  _id: string;
  name: string;
  isPrivate: boolean;
  maxParticipants: number;
  createdBy: string;
  createdAt: string;
  lastSeq: number;
  /** The room's change counter; absent until its first change. */
  lastRev?: number;
  /** Absent on rooms made before rooms could be locked or have a lobby. */
  locked?: boolean;
  lobby?: boolean;
  /** Members as the first releases kept them; moved to `room_members` on open (see migrateMembers). */
  members?: string[];
}

/** One user's standing in one room: a collection, so a room's membership is not bounded by a document. */
export interface MemberDoc {
  roomId: string;
  userId: string;
  name: string | null;
  role: RoomRole;
  addedAt: string;
  banned: boolean;
}

export interface MessageDoc {
  _id: string;
  roomId: string;
  seq: number;
  senderId: string;
  senderName: string;
  text: string;
  clientMsgId: string | null;
  /**
   * The deduplication key, never null: `c:<clientMsgId>`, or `m:<id>` for a message sent
   * without one. A unique index on a nullable field would need a partial or sparse index,
   * which FerretDB 1.x does not have (FerretDB#2448: partialFilterExpression is refused,
   * `sparse` is accepted and ignored, so two nulls collide); a plain unique index on a key
   * that is never null works on both servers.
   */
  clientKey: string;
  /** The node that stored it (MongoDB assigns seq): a retry elsewhere delivers it again. */
  node?: string;
  createdAt: string;
  replyTo?: number;
  /** Set by changes; absent (or null) on a message never changed that way. */
  editedAt?: string | null;
  deletedAt?: string | null;
  reactions?: Reaction[] | null;
  /** The room's rev at the last change; absent on a message never changed. */
  rev?: number;
  /**
   * The distinct words of `text` (searchTermsOf, protocol/search-terms.ts), what search
   * matches: set with the text on every write of it. Absent only on documents stored before
   * search existed, until the backfill on open (backfillSearchTerms) reaches them.
   */
  terms?: string[];
}

export interface CursorDoc {
  roomId: string;
  userId: string;
  seq: number;
}

/** How far one user has read in one room (apart from the delivery cursor). */
export interface ReadMarkerDoc {
  roomId: string;
  userId: string;
  seq: number;
}

export interface MongoModels {
  Room: Model<RoomDoc>;
  Member: Model<MemberDoc>;
  Message: Model<MessageDoc>;
  Cursor: Model<CursorDoc>;
  ReadMarker: Model<ReadMarkerDoc>;
}

/** The dedup key of a message (see MessageDoc.clientKey). */
export const clientKeyOf = (m: { id: string; clientMsgId: string | null }): string => (m.clientMsgId === null ? `m:${m.id}` : `c:${m.clientMsgId}`);

const strict = { strict: 'throw' as const, strictQuery: 'throw' as const, versionKey: false as const };

/**
 * Models bound to one connection (never to the mongoose default singleton). The schemas
 * declare the indexes; they are built by MongoConnection before the store reports ready
 * (never by mongoose's autoIndex, which runs once at bind time and caches its failure).
 */
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
      lastRev: { type: Number },
      locked: { type: Boolean },
      lobby: { type: Boolean },
      members: { type: [String], default: undefined },
    },
    strict,
  );
  const member = new Schema<MemberDoc>(
    {
      roomId: { type: String, required: true },
      userId: { type: String, required: true },
      name: { type: String, default: null },
      role: { type: String, enum: ROOM_ROLES, required: true },
      addedAt: { type: String, required: true },
      banned: { type: Boolean, required: true, default: false },
    },
    strict,
  );
  member.index({ roomId: 1, userId: 1 }, { unique: true });
  // "My rooms": a user's memberships in room id order.
  member.index({ userId: 1, roomId: 1 });
  const message = new Schema<MessageDoc>(
    {
      _id: String,
      roomId: { type: String, required: true },
      seq: { type: Number, required: true },
      senderId: { type: String, required: true },
      senderName: { type: String, required: true },
      text: { type: String, required: true },
      clientMsgId: { type: String, default: null },
      clientKey: { type: String, required: true },
      node: { type: String },
      createdAt: { type: String, required: true },
      replyTo: { type: Number },
      editedAt: { type: String },
      deletedAt: { type: String },
      reactions: { type: Schema.Types.Mixed },
      rev: { type: Number },
      terms: { type: [String], default: undefined },
    },
    strict,
  );
  // The two unique indexes are what makes a seq and a clientMsgId impossible to store twice,
  // across every node, without a transaction.
  message.index({ roomId: 1, seq: 1 }, { unique: true });
  message.index({ roomId: 1, clientKey: 1 }, { unique: true });
  // "Changed since lastRev" (room:join); messages never changed have no rev.
  message.index({ roomId: 1, rev: 1 });
  // Search: multikey, one entry per distinct word (FerretDB 1.x has no text index).
  message.index({ roomId: 1, terms: 1 });
  const cursor = new Schema<CursorDoc>(
    { roomId: { type: String, required: true }, userId: { type: String, required: true }, seq: { type: Number, required: true } },
    strict,
  );
  cursor.index({ roomId: 1, userId: 1 }, { unique: true });
  const readMarker = new Schema<ReadMarkerDoc>(
    { roomId: { type: String, required: true }, userId: { type: String, required: true }, seq: { type: Number, required: true } },
    strict,
  );
  readMarker.index({ roomId: 1, userId: 1 }, { unique: true });
  return {
    Room: conn.model<RoomDoc>('Room', room, 'rooms'),
    Member: conn.model<MemberDoc>('Member', member, 'room_members'),
    Message: conn.model<MessageDoc>('Message', message, 'messages'),
    Cursor: conn.model<CursorDoc>('Cursor', cursor, 'member_cursors'),
    ReadMarker: conn.model<ReadMarkerDoc>('ReadMarker', readMarker, 'read_markers'),
  };
}
