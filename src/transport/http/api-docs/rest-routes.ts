import type { z } from 'zod';
import {
  DeadLetterListSchema,
  DisconnectedSchema,
  GuestAuthAnswerSchema,
  HealthSchema,
  HistoryResultSchema,
  IceServersAnswerSchema,
  MemberListSchema,
  OnlineParticipantListSchema,
  ReadinessSchema,
  RoomListSchema,
  RequeuedSchema,
  RoomDetailsSchema,
  SearchResultSchema,
  WebhookDeadLetterListSchema,
} from '../../../protocol/answers.js';
import type { ErrorCode } from '../../../protocol/error-codes.js';
import { MemberSchema, MessageSchema, RoomSchema } from '../../../protocol/models.js';
import { DeadLetterListQuerySchema, HistoryQuerySchema, PageQuerySchema, RemoveMemberQuerySchema, SearchQuerySchema } from '../../../protocol/query-schemas.js';
import { EmojiSchema, IdSchema, type Schemas } from '../../../protocol/schemas.js';

/** One REST route as the OpenAPI document describes it. */
export interface RestRoute {
  method: 'get' | 'post' | 'put' | 'patch' | 'delete';
  /** OpenAPI path template: `{id}` for `:id`. */
  path: string;
  summary: string;
  /** Who may call it: anyone, a user's JWT, or the ADMIN_TOKEN. */
  auth: 'none' | 'user' | 'admin';
  pathParams?: Record<string, z.ZodType>;
  query?: z.ZodObject;
  body?: { schema: z.ZodType; example: unknown };
  /** Success statuses: the body's schema, or null for an empty body (204) or non-JSON. */
  responses: Record<number, { description: string; schema: z.ZodType | null; contentType?: string }>;
  /** Error codes this route itself may answer (auth, validation and rate limits are added from `auth` and the inputs). */
  errors: ErrorCode[];
  /** Health endpoints are outside /api: no rate limit, no JSON body parsing. */
  rateLimited?: boolean;
}

const id = { id: IdSchema };
const member = { id: IdSchema, userId: IdSchema };
const reaction = { id: IdSchema, emoji: EmojiSchema };

/**
 * The REST contract (DESIGN §4) as data: the routers under routes/ implement it, and
 * a test calls every route of this table on a real server and holds the answers to it.
 */
export function restRoutes(schemas: Schemas): RestRoute[] {
  return [
    {
      method: 'post', path: '/api/auth/guest', auth: 'none', summary: 'a guest token (when ALLOW_GUESTS)',
      body: { schema: schemas.guestAuth, example: { name: 'ann' } },
      responses: { 201: { description: 'a token and its user', schema: GuestAuthAnswerSchema } },
      errors: ['FORBIDDEN'],
    },
    {
      method: 'post', path: '/api/rooms', auth: 'user', summary: 'create a room',
      body: { schema: schemas.createRoom, example: { name: 'lobby', isPrivate: false, maxParticipants: 4 } },
      responses: { 201: { description: 'the room', schema: RoomSchema } },
      errors: ['UNAVAILABLE'],
    },
    {
      method: 'get', path: '/api/rooms', auth: 'user', summary: 'rooms I created, was added to or joined, with my role and my unread count',
      query: PageQuerySchema,
      responses: { 200: { description: 'a page of rooms, by room id', schema: RoomListSchema } },
      errors: ['UNAVAILABLE'],
    },
    {
      method: 'get', path: '/api/rooms/{id}', auth: 'user', summary: 'a room plus my role and the participants online now',
      pathParams: id,
      responses: { 200: { description: 'the room', schema: RoomDetailsSchema } },
      errors: ['FORBIDDEN', 'ROOM_NOT_FOUND'],
    },
    {
      method: 'patch', path: '/api/rooms/{id}', auth: 'user', summary: 'owner, moderators: change settings (made private: non-members online are removed)',
      pathParams: id,
      body: { schema: schemas.updateRoom, example: { name: 'standup', locked: true, lobby: false } },
      responses: { 200: { description: 'the room', schema: RoomSchema } },
      errors: ['FORBIDDEN', 'ROOM_NOT_FOUND', 'UNAVAILABLE'],
    },
    {
      method: 'delete', path: '/api/rooms/{id}', auth: 'user', summary: 'owner: delete the room with its history; members online get `room:closed` and `call:ended`',
      pathParams: id,
      responses: { 204: { description: 'deleted', schema: null } },
      errors: ['FORBIDDEN', 'ROOM_NOT_FOUND', 'UNAVAILABLE'],
    },
    {
      method: 'get', path: '/api/rooms/{id}/members', auth: 'user', summary: 'members: the members with their roles',
      pathParams: id,
      query: PageQuerySchema,
      responses: { 200: { description: 'a page of members, by user id', schema: MemberListSchema } },
      errors: ['FORBIDDEN', 'ROOM_NOT_FOUND', 'UNAVAILABLE'],
    },
    {
      method: 'put', path: '/api/rooms/{id}/members/{userId}', auth: 'user', summary: 'owner: make a user a moderator or a member (lifts a ban)',
      pathParams: member,
      body: { schema: schemas.setRole, example: { role: 'moderator' } },
      responses: { 200: { description: 'the member', schema: MemberSchema } },
      errors: ['FORBIDDEN', 'ROOM_NOT_FOUND', 'CONFLICT', 'UNAVAILABLE'],
    },
    {
      method: 'delete', path: '/api/rooms/{id}/members/{userId}', auth: 'user', summary: 'owner, moderators (anyone for themself): remove a member, with `ban=true` for good',
      pathParams: member,
      query: RemoveMemberQuerySchema,
      responses: { 204: { description: 'removed; their sockets leave the room and its call', schema: null } },
      errors: ['FORBIDDEN', 'ROOM_NOT_FOUND', 'UNAVAILABLE'],
    },
    {
      method: 'post', path: '/api/rooms/{id}/members', auth: 'user', summary: 'owner, moderators: add a member (a banned user stays banned)',
      pathParams: id,
      body: { schema: schemas.addMember, example: { userId: 'u_123' } },
      responses: { 204: { description: 'added', schema: null } },
      errors: ['FORBIDDEN', 'ROOM_NOT_FOUND', 'UNAVAILABLE'],
    },
    {
      method: 'post', path: '/api/messages', auth: 'user', summary: 'send a message (also delivered live)',
      body: { schema: schemas.postMessage, example: { roomId: 'r_123', text: 'hello', clientMsgId: 'c1' } },
      responses: {
        201: { description: 'the message, durable', schema: MessageSchema },
        200: { description: 'a repeated clientMsgId: the original message', schema: MessageSchema },
      },
      errors: ['FORBIDDEN', 'ROOM_NOT_FOUND', 'MESSAGE_NOT_FOUND', 'UNAVAILABLE'],
    },
    {
      method: 'patch', path: '/api/messages/{id}', auth: 'user', summary: 'the author edits the text; the room gets `chat:message-updated`',
      pathParams: id,
      body: { schema: schemas.editMessage, example: { text: 'hello, corrected' } },
      responses: { 200: { description: 'the whole message as it is now (the same text again changes nothing)', schema: MessageSchema } },
      errors: ['FORBIDDEN', 'MESSAGE_NOT_FOUND', 'CONFLICT', 'UNAVAILABLE'],
    },
    {
      method: 'delete', path: '/api/messages/{id}', auth: 'user', summary: 'the author, a moderator or the owner deletes a message: it keeps its seq, its text is gone',
      pathParams: id,
      responses: { 200: { description: 'the deleted message (text "", deletedAt set)', schema: MessageSchema } },
      errors: ['FORBIDDEN', 'MESSAGE_NOT_FOUND', 'UNAVAILABLE'],
    },
    {
      method: 'put', path: '/api/messages/{id}/reactions/{emoji}', auth: 'user', summary: 'add my reaction (one emoji, URL-encoded)',
      pathParams: reaction,
      responses: { 200: { description: 'the whole message as it is now', schema: MessageSchema } },
      errors: ['FORBIDDEN', 'MESSAGE_NOT_FOUND', 'CONFLICT', 'UNAVAILABLE'],
    },
    {
      method: 'delete', path: '/api/messages/{id}/reactions/{emoji}', auth: 'user', summary: 'take my reaction back',
      pathParams: reaction,
      responses: { 200: { description: 'the whole message as it is now', schema: MessageSchema } },
      errors: ['FORBIDDEN', 'MESSAGE_NOT_FOUND', 'CONFLICT', 'UNAVAILABLE'],
    },
    {
      method: 'get', path: '/api/messages', auth: 'user', summary: 'history by seq cursors, oldest first; without a cursor the latest page',
      query: HistoryQuerySchema,
      responses: { 200: { description: 'a page', schema: HistoryResultSchema } },
      errors: ['FORBIDDEN', 'ROOM_NOT_FOUND'],
    },
    {
      method: 'get', path: '/api/messages/search', auth: 'user',
      summary: 'ranked text search of a room: messages holding every word of q, best first (cluster mode: once persisted)',
      query: SearchQuerySchema,
      responses: { 200: { description: 'the best matches', schema: SearchResultSchema } },
      errors: ['FORBIDDEN', 'ROOM_NOT_FOUND', 'UNAVAILABLE'],
    },
    {
      method: 'get', path: '/api/ice-servers', auth: 'user', summary: 'STUN and TURN servers with fresh TURN credentials',
      responses: { 200: { description: 'ICE servers', schema: IceServersAnswerSchema } },
      errors: [],
    },
    {
      method: 'get', path: '/api/admin/dead-letters', auth: 'admin', summary: 'list dead letters',
      query: DeadLetterListQuerySchema,
      responses: { 200: { description: 'dead letters', schema: DeadLetterListSchema } },
      errors: ['FORBIDDEN'],
    },
    {
      method: 'post', path: '/api/admin/dead-letters/{id}/retry', auth: 'admin', summary: 'put a dead letter back in the queue',
      pathParams: { id: IdSchema },
      responses: { 202: { description: 'requeued', schema: RequeuedSchema } },
      errors: ['FORBIDDEN', 'DEAD_LETTER_NOT_FOUND'],
    },
    {
      method: 'delete', path: '/api/admin/dead-letters/{id}', auth: 'admin', summary: 'drop a dead letter',
      pathParams: { id: IdSchema },
      responses: { 204: { description: 'dropped', schema: null } },
      errors: ['FORBIDDEN', 'DEAD_LETTER_NOT_FOUND'],
    },
    {
      method: 'get', path: '/api/admin/webhooks/dead-letters', auth: 'admin', summary: 'list webhook deliveries given up after WEBHOOK_MAX_ATTEMPTS',
      query: DeadLetterListQuerySchema,
      responses: { 200: { description: 'webhook dead letters, oldest first', schema: WebhookDeadLetterListSchema } },
      errors: ['FORBIDDEN'],
    },
    {
      method: 'post', path: '/api/admin/webhooks/dead-letters/{id}/retry', auth: 'admin', summary: 'deliver a webhook dead letter again (fresh attempts, same webhook-id)',
      pathParams: { id: IdSchema },
      responses: { 202: { description: 'requeued', schema: RequeuedSchema } },
      errors: ['FORBIDDEN', 'WEBHOOK_DEAD_LETTER_NOT_FOUND'],
    },
    {
      method: 'delete', path: '/api/admin/webhooks/dead-letters/{id}', auth: 'admin', summary: 'drop a webhook dead letter',
      pathParams: { id: IdSchema },
      responses: { 204: { description: 'dropped', schema: null } },
      errors: ['FORBIDDEN', 'WEBHOOK_DEAD_LETTER_NOT_FOUND'],
    },
    {
      method: 'get', path: '/api/admin/rooms/{id}/participants', auth: 'admin', summary: 'users online in a room, on every node (call peers with their peerId)',
      pathParams: id,
      responses: { 200: { description: 'participants', schema: OnlineParticipantListSchema } },
      errors: ['FORBIDDEN', 'ROOM_NOT_FOUND', 'UNAVAILABLE'],
    },
    {
      method: 'post', path: '/api/admin/rooms/{id}/messages', auth: 'admin', summary: 'a system message to a room (next seq, delivered live)',
      pathParams: id,
      body: { schema: schemas.adminMessage, example: { text: 'Restart at 17:00 UTC' } },
      responses: { 201: { description: 'the message, durable, from "system"', schema: MessageSchema } },
      errors: ['FORBIDDEN', 'ROOM_NOT_FOUND', 'UNAVAILABLE'],
    },
    {
      method: 'post', path: '/api/admin/users/{userId}/disconnect', auth: 'admin', summary: "close a user's sockets on every node; revoke: refuse the tokens issued until now",
      pathParams: { userId: IdSchema },
      body: { schema: schemas.adminDisconnect, example: { revoke: true } },
      responses: { 200: { description: 'sockets closed', schema: DisconnectedSchema } },
      errors: ['FORBIDDEN', 'UNAVAILABLE'],
    },
    {
      method: 'get', path: '/healthz', auth: 'none', summary: 'liveness', rateLimited: false,
      responses: { 200: { description: 'alive', schema: HealthSchema } },
      errors: [],
    },
    {
      method: 'get', path: '/readyz', auth: 'none', summary: 'readiness with each dependency', rateLimited: false,
      responses: {
        200: { description: '`ok`, or `degraded` with one dependency down', schema: ReadinessSchema },
        503: { description: '`unavailable`: shutting down, or it can neither store nor queue', schema: ReadinessSchema },
      },
      errors: [],
    },
    {
      method: 'get', path: '/metrics', auth: 'none', summary: 'Prometheus metrics', rateLimited: false,
      responses: { 200: { description: 'Prometheus text format', schema: null, contentType: 'text/plain' } },
      errors: [],
    },
  ];
}
