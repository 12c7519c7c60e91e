import { z } from 'zod';
import { ErrorCode } from './error-codes.js';
import { WEBHOOK_EVENT_TYPES, WebhookPayloadSchema } from './webhooks.js';
import {
  CallPeerSchema,
  IceServerSchema,
  MediaStateSchema,
  MemberSchema,
  MessageSchema,
  ParticipantSchema,
  RoomRoleSchema,
  RoomSchema,
  UserSchema,
} from './models.js';

/**
 * Schemas of what the server answers and pushes: acks, server → client events and REST
 * bodies. The server never parses these (it builds them); they exist so that the types and
 * the API documents come from one source, and so that tests can hold real answers to them.
 */

export const ErrorBodySchema = z.object({
  code: z.enum(Object.values(ErrorCode) as [ErrorCode, ...ErrorCode[]]),
  message: z.string().describe('for people; clients switch on `code`'),
  details: z.unknown().optional().describe('VALIDATION_FAILED: which fields, and why'),
  retryAfterMs: z.number().int().min(0).optional().describe('RATE_LIMITED: how long to wait before trying again'),
});

/** A failed REST call: `{"error": {code, message, details?}}`. */
export const ErrorResponseSchema = z.object({ error: ErrorBodySchema });
/** A failed ack: `{ok: false, error}`. */
export const AckErrorSchema = z.object({ ok: z.literal(false), error: ErrorBodySchema });

/** The fields of an ack besides `ok: true`; an empty object for events that answer `{ok:true}` only. */
export const NoResultSchema = z.object({});

export const RoomJoinResultSchema = z.object({
  room: RoomSchema,
  participants: z.array(ParticipantSchema),
  messages: z.array(MessageSchema).describe('messages after `lastSeq` (or the latest page), oldest first'),
  complete: z.boolean().describe('false when more messages follow: page on with `chat:history {after}`'),
  unread: z
    .number()
    .int()
    .min(0)
    .optional()
    .describe("messages after my read marker (room.lastSeq minus it); absent when the marker cannot be read (store outage)"),
  updates: z
    .array(MessageSchema)
    .describe('with `lastRev`: the current state of messages up to `lastSeq` changed after `lastRev` (edited, deleted, reacted to), by rev; empty without `lastRev`'),
  updatesComplete: z.boolean().describe('false when more changes follow: join again with `lastRev` = the last update\'s rev'),
});
export const HistoryResultSchema = z.object({
  messages: z.array(MessageSchema).describe('oldest first'),
  hasMore: z.boolean(),
});
export const SearchResultSchema = z.object({
  messages: z.array(MessageSchema).describe('best match first; equally good matches newest first'),
  hasMore: z.boolean().describe('more messages match than `limit`'),
});
export const ChatSendResultSchema = z.object({ message: MessageSchema });
/** The ack of a change (edit, delete, reaction): the message as it is now. */
export const ChatChangeResultSchema = z.object({ message: MessageSchema.describe('the whole message after the change (unchanged when the change was already made)') });
export const MessageUpdatedEventSchema = z
  .object({ message: MessageSchema })
  .describe('an older message changed (edited, deleted, reacted to): the whole message as it is now; keep the one with the higher `rev`');
export const CallJoinResultSchema = z.union([
  z.object({
    peerId: z.string().describe('this socket in the call'),
    peers: z.array(CallPeerSchema).describe('the others in the call'),
    iceServers: z.array(IceServerSchema),
  }),
  z
    .object({ waiting: z.literal(true), requestId: z.string() })
    .describe('a lobby room: wait for `call:admitted` (then `call:join` again) or `call:denied`'),
]);

/** Server → client events. */
export const HelloEventSchema = z
  .object({ userId: z.string(), name: z.string(), nodeId: z.string(), recoveryWindowMs: z.number().int().min(0) })
  .describe('sent right after every connect, so that every client has a recovery offset');
export const PresenceEventSchema = z.union([
  z.object({ roomId: z.string(), participants: z.array(ParticipantSchema) }),
  z.object({ roomId: z.string(), joined: ParticipantSchema }),
  z.object({ roomId: z.string(), left: ParticipantSchema }),
]);
export const TypingEventSchema = z.object({ roomId: z.string(), userId: z.string(), typing: z.boolean() });
export const ReadEventSchema = z
  .object({ roomId: z.string(), userId: z.string(), seq: z.number().int().min(0) })
  .describe("a read receipt: the user's read marker moved to `seq` (also to the user's other sockets)");
export const AuthExpiredEventSchema = z
  .object({ message: z.string() })
  .describe('the token expired; the server closes the socket: reconnect with a fresh token');
export const ResyncEventSchema = z
  .object({ roomId: z.string(), fromSeq: z.number().int().min(0) })
  .describe('redelivery gave up: page `chat:history {after: fromSeq}`');
export const PeerJoinedEventSchema = CallPeerSchema.extend({ roomId: z.string() });
export const PeerLeftEventSchema = z.object({
  roomId: z.string(),
  peerId: z.string(),
  reason: z.enum(['left', 'kicked', 'removed']).optional().describe('absent: left or disconnected'),
});
export const RoomClosedEventSchema = z.object({ roomId: z.string() }).describe('the room was deleted');
export const RoomRemovedEventSchema = z.object({ roomId: z.string() }).describe('you are no longer a member of this room (removed, banned, or it became private)');
export const KickedEventSchema = z.object({ roomId: z.string(), by: z.string().describe('user id of the moderator') });
export const MuteRequestEventSchema = z
  .object({ roomId: z.string(), kind: z.enum(['audio', 'video']), by: z.string() })
  .describe('a moderator asks you to turn this off (advisory: the server cannot switch your media)');
export const CallEndedEventSchema = z.object({
  roomId: z.string(),
  reason: z.enum(['ended', 'room-deleted', 'removed']),
  by: z.string().optional(),
});
export const KnockEventSchema = z
  .object({ roomId: z.string(), requestId: z.string(), userId: z.string(), name: z.string() })
  .describe('to moderators in the call: a user waits in the lobby; answer with `call:admit`');
export const AdmittedEventSchema = z.object({ roomId: z.string() }).describe('you may `call:join` now');
export const DeniedEventSchema = z.object({ roomId: z.string(), reason: z.enum(['denied', 'timeout']).optional() });
export const SignalEventSchema = z.object({
  from: z.string().describe('the sender peer id, stamped by the server'),
  kind: z.enum(['offer', 'answer', 'ice-candidate', 'ice-restart']),
  data: z.unknown().describe('as the sender gave it: `{type, sdp}`, an RTCIceCandidateInit or null'),
});
export const MediaEventSchema = MediaStateSchema.extend({ peerId: z.string() });

/** REST answers. */
export const GuestAuthAnswerSchema = z.object({ token: z.string().describe('a JWT with `exp`'), user: UserSchema });
export const RoomDetailsSchema = RoomSchema.extend({
  role: RoomRoleSchema.nullable().describe('your role; null for a visitor of a public room'),
  participants: z.array(ParticipantSchema).describe('online now'),
});
const nextCursor = z.string().nullable().describe('pass as `cursor` for the next page; null on the last page');
export const RoomListSchema = z.object({
  rooms: z.array(RoomSchema.extend({ role: RoomRoleSchema, unread: z.number().int().min(0).describe('messages after my read marker') })),
  nextCursor,
});
export const MemberListSchema = z.object({ members: z.array(MemberSchema), nextCursor });
export const IceServersAnswerSchema = z.object({
  iceServers: z.array(IceServerSchema),
  expiresAt: z.iso.datetime({ offset: true }).describe('when the TURN credentials expire'),
});
export const HealthSchema = z.object({ status: z.literal('ok'), nodeId: z.string() });
export const ReadinessSchema = z.object({
  status: z.enum(['ok', 'degraded', 'unavailable']),
  dependencies: z.record(z.string(), z.enum(['up', 'down'])),
  nodeId: z.string(),
});
export const DeadLetterSchema = z.object({
  id: z.string(),
  reason: z.string(),
  attempts: z.number().int(),
  firstSeenAt: z.string(),
  entry: z.unknown().describe('the queue entry as it was'),
});
export const DeadLetterListSchema = z.object({ deadLetters: z.array(DeadLetterSchema) });
export const RequeuedSchema = z.object({ status: z.literal('requeued'), id: z.string() });
export const WebhookDeadLetterSchema = z.object({
  id: z.string(),
  eventId: z.string().describe('the webhook-id the receiver saw'),
  url: z.string(),
  type: z.enum(WEBHOOK_EVENT_TYPES),
  attempts: z.number().int(),
  lastError: z.string().nullable().describe('what the last attempt got: HTTP <status>, a timeout or a network error'),
  firstSeenAt: z.string(),
  event: WebhookPayloadSchema.extend({ id: z.string() }),
});
export const WebhookDeadLetterListSchema = z.object({ deadLetters: z.array(WebhookDeadLetterSchema) });
/** A user online in a room as the operator API lists it: on /chat, or in the call (`peerId`). */
export const OnlineParticipantSchema = z.object({ userId: z.string(), name: z.string(), nodeId: z.string(), peerId: z.string().optional() });
export const OnlineParticipantListSchema = z.object({ participants: z.array(OnlineParticipantSchema) });
export const DisconnectedSchema = z.object({ disconnected: z.number().int().min(0).describe('sockets closed, both namespaces, every node') });
