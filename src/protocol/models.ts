import { z } from 'zod';

/**
 * Wire shapes of the things the server hands to clients, as zod schemas: the TypeScript
 * types derive from them, and so do the OpenAPI and AsyncAPI documents, so a field that
 * changes here changes everywhere at once. Output objects are not strict: clients must
 * ignore fields they do not know (the contract may grow).
 */

const isoTime = z.iso.datetime({ offset: true }).describe('ISO-8601 time');
const seq = z.number().int().min(0);

export const RoomSchema = z
  .object({
    id: z.string(),
    name: z.string(),
    isPrivate: z.boolean(),
    maxParticipants: z.number().int(),
    createdBy: z.string().describe('user id of the creator'),
    createdAt: isoTime,
    lastSeq: seq.describe('sequence number of the newest message in the room (0 when empty)'),
    lastRev: seq.describe('change counter of the room: the `rev` of the latest edit, delete or reaction (0 when none); new messages do not move it'),
    locked: z.boolean().describe('new call joins are refused with ROOM_LOCKED'),
    lobby: z.boolean().describe('call joins by non-moderators wait in the lobby until a moderator admits them'),
  })
  .meta({ id: 'Room' });
export type Room = z.infer<typeof RoomSchema>;

export const ROOM_ROLES = ['owner', 'moderator', 'member'] as const;
export const RoomRoleSchema = z.enum(ROOM_ROLES).describe('owner: the creator; moderator: runs the room and its calls; member: takes part');
export type RoomRole = z.infer<typeof RoomRoleSchema>;

export const MemberSchema = z
  .object({
    userId: z.string(),
    name: z.string().describe('the name the user last joined with (the user id until they join)'),
    role: RoomRoleSchema,
    addedAt: isoTime,
  })
  .meta({ id: 'Member' });
export type Member = z.infer<typeof MemberSchema>;

export const ReactionSchema = z
  .object({
    emoji: z.string().describe('one emoji (one grapheme, at most 32 bytes of UTF-8)'),
    count: z.number().int().min(1),
    userIds: z.array(z.string()).describe('who reacted, in the order they did'),
  })
  .meta({ id: 'Reaction' });
export type Reaction = z.infer<typeof ReactionSchema>;

export const MessageSchema = z
  .object({
    id: z.string(),
    roomId: z.string(),
    seq: z.number().int().min(1).describe('per-room sequence: 1, 2, 3 … without gaps'),
    senderId: z.string(),
    senderName: z.string(),
    text: z.string(),
    clientMsgId: z.string().nullable().describe('the id the sender chose; a retry with it returns this message'),
    createdAt: isoTime,
    replyTo: z.number().int().min(1).optional().describe('the seq of the message (same room) this one answers; absent when it is no reply'),
    editedAt: isoTime.optional().describe('when the author last edited the text; absent when never edited'),
    deletedAt: isoTime.optional().describe('when it was deleted; its text is then "" and it has no reactions; absent when not deleted'),
    reactions: z.array(ReactionSchema).optional().describe('at most 20 distinct emoji, in the order they were first added; absent when none'),
    rev: z
      .number()
      .int()
      .min(0)
      .optional()
      .describe("the room's change counter at this message's last change (edit, delete, reaction); absent (0) when never changed"),
  })
  .meta({ id: 'Message' });
export type Message = z.infer<typeof MessageSchema>;

export const ParticipantSchema = z.object({ userId: z.string(), name: z.string() }).meta({ id: 'Participant' });
export type Participant = z.infer<typeof ParticipantSchema>;

export const MediaStateSchema = z
  .object({ audio: z.boolean(), video: z.boolean(), screen: z.boolean() })
  .meta({ id: 'MediaState' });
export type MediaState = z.infer<typeof MediaStateSchema>;

export const CallPeerSchema = z
  .object({ peerId: z.string(), userId: z.string(), name: z.string(), media: MediaStateSchema })
  .meta({ id: 'CallPeer' });
export type CallPeer = z.infer<typeof CallPeerSchema>;

export const IceServerSchema = z
  .object({
    urls: z.union([z.string(), z.array(z.string())]),
    username: z.string().optional().describe('TURN only: "<expiry Unix seconds>:<userId>" (coturn REST API)'),
    credential: z.string().optional().describe('TURN only: base64(HMAC-SHA1(TURN_SECRET, username))'),
  })
  .meta({ id: 'IceServer' });
export type IceServer = z.infer<typeof IceServerSchema>;

export const UserSchema = z.object({ id: z.string(), name: z.string() }).meta({ id: 'User' });
export type User = z.infer<typeof UserSchema>;
