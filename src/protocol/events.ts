import type { z } from 'zod';
import {
  AdmittedEventSchema,
  AuthExpiredEventSchema,
  CallEndedEventSchema,
  CallJoinResultSchema,
  DeniedEventSchema,
  KickedEventSchema,
  KnockEventSchema,
  MuteRequestEventSchema,
  RoomClosedEventSchema,
  RoomRemovedEventSchema,
  ChatSendResultSchema,
  ChatChangeResultSchema,
  MessageUpdatedEventSchema,
  HelloEventSchema,
  HistoryResultSchema,
  MediaEventSchema,
  NoResultSchema,
  PeerJoinedEventSchema,
  PeerLeftEventSchema,
  PresenceEventSchema,
  ReadEventSchema,
  ResyncEventSchema,
  RoomJoinResultSchema,
  SignalEventSchema,
  TypingEventSchema,
} from './answers.js';
import type { ErrorBody } from './error-codes.js';
import { MessageSchema } from './models.js';
import type { Payload, Schemas } from './schemas.js';

/** Every ack is either a success with its fields or a failure with a stable code. */
export type Ack<T extends object = object> = ({ ok: true } & T) | { ok: false; error: ErrorBody };
export type AckCallback<T extends object = object> = (answer: Ack<T>) => void;

export type RoomJoinResult = z.infer<typeof RoomJoinResultSchema>;
export type HistoryResult = z.infer<typeof HistoryResultSchema>;
export type CallJoinResult = z.infer<typeof CallJoinResultSchema>;
/** Sent once right after connect: gives every client a recovery offset. */
export type HelloEvent = z.infer<typeof HelloEventSchema>;
export type PresenceEvent = z.infer<typeof PresenceEventSchema>;

/** One client → server event: the schema its payload is parsed with and its ack's result. */
export interface RequestSpec {
  payload: z.ZodType;
  result: z.ZodType<object>;
  /** What the event does, for the API documents. */
  summary: string;
}

/**
 * What a client may ask of `/chat` and `/rtc`, as runtime tables (the AsyncAPI document is
 * generated from them) from which the types below derive. The payload schemas depend on the
 * configured limits, hence a function of the built schemas.
 */
export function requestTables(schemas: Schemas) {
  return {
    chat: {
      'room:join': {
        payload: schemas.roomJoin,
        result: RoomJoinResultSchema,
        summary: 'join a room; get the messages after `lastSeq` (or the latest page) and, with `lastRev`, the older messages changed since',
      },
      'room:leave': { payload: schemas.roomLeave, result: NoResultSchema, summary: 'leave a room; the others get `room:presence {left}`' },
      'chat:send': { payload: schemas.chatSend, result: ChatSendResultSchema, summary: 'send a message; the ack comes once it is durable' },
      'chat:edit': { payload: schemas.chatEdit, result: ChatChangeResultSchema, summary: 'the author edits the text; everyone gets `chat:message-updated`' },
      'chat:delete': {
        payload: schemas.chatDelete,
        result: ChatChangeResultSchema,
        summary: 'the author, a moderator or the owner deletes a message (it keeps its seq; its text is gone); everyone gets `chat:message-updated`',
      },
      'chat:react': { payload: schemas.chatReact, result: ChatChangeResultSchema, summary: 'add (`on: true`) or take back my reaction; everyone gets `chat:message-updated`' },
      'chat:history': { payload: schemas.chatHistory, result: HistoryResultSchema, summary: 'page history by seq cursors' },
      'chat:typing': { payload: schemas.chatTyping, result: NoResultSchema, summary: 'the others get `chat:typing`' },
      'chat:ack': { payload: schemas.chatAck, result: NoResultSchema, summary: 'record the delivery cursor in the room' },
      'chat:read': {
        payload: schemas.chatRead,
        result: NoResultSchema,
        summary: 'move my read marker forward (never back); the others in the room get `chat:read` when it moved',
      },
    },
    rtc: {
      'call:join': { payload: schemas.callJoin, result: CallJoinResultSchema, summary: 'join the call of a room; the others get `call:peer-joined`' },
      'call:leave': { payload: schemas.callLeave, result: NoResultSchema, summary: 'leave the call; the others get `call:peer-left`' },
      'call:kick': { payload: schemas.callKick, result: NoResultSchema, summary: 'moderators: put a peer out of the call (`call:kicked`); a kick does not ban' },
      'call:mute': { payload: schemas.callMute, result: NoResultSchema, summary: 'moderators: ask a peer (or every other peer) to mute (`call:mute-request`)' },
      'call:end': { payload: schemas.callEnd, result: NoResultSchema, summary: 'moderators: end the call for everyone (`call:ended`)' },
      'call:admit': { payload: schemas.callAdmit, result: NoResultSchema, summary: 'moderators: answer a knock from the lobby (`call:admitted` or `call:denied`)' },
      'rtc:signal': { payload: schemas.rtcSignal, result: NoResultSchema, summary: 'relay a signal to a peer of the same call' },
      'rtc:media': { payload: schemas.rtcMedia, result: NoResultSchema, summary: 'the others in the call get `rtc:media`' },
    },
  } satisfies Record<'chat' | 'rtc', Record<string, RequestSpec>>;
}

/** Server → client events per namespace: name → payload schema. */
export const SERVER_EVENTS = {
  chat: {
    hello: HelloEventSchema,
    'chat:message': MessageSchema,
    'chat:message-updated': MessageUpdatedEventSchema,
    'room:presence': PresenceEventSchema,
    'chat:typing': TypingEventSchema,
    'chat:read': ReadEventSchema,
    'auth:expired': AuthExpiredEventSchema,
    'chat:resync': ResyncEventSchema,
    'room:closed': RoomClosedEventSchema,
    'room:removed': RoomRemovedEventSchema,
  },
  rtc: {
    hello: HelloEventSchema,
    'call:peer-joined': PeerJoinedEventSchema,
    'call:peer-left': PeerLeftEventSchema,
    'rtc:signal': SignalEventSchema,
    'rtc:media': MediaEventSchema,
    'auth:expired': AuthExpiredEventSchema,
    'call:kicked': KickedEventSchema,
    'call:mute-request': MuteRequestEventSchema,
    'call:ended': CallEndedEventSchema,
    'call:knock': KnockEventSchema,
    'call:admitted': AdmittedEventSchema,
    'call:denied': DeniedEventSchema,
  },
} as const;

/** An ack with nothing but `ok: true`. */
export type NoResult = Record<never, never>;
type ResultOf<S> = S extends typeof NoResultSchema ? NoResult : S extends z.ZodType<infer R extends object> ? R : never;
/** A runtime table's types: event → payload type and ack result type. */
type RequestTypes<T extends Record<string, RequestSpec>> = {
  [E in keyof T]: { payload: z.infer<T[E]['payload']>; result: ResultOf<T[E]['result']> };
};
type Tables = ReturnType<typeof requestTables>;

/**
 * What a client may ask of the server: for each event, its payload and what a successful
 * ack carries besides `ok: true`. The server's handlers are typed from these tables, so a
 * route name or an ack shape that drifts from them does not compile.
 */
export type ChatRequests = RequestTypes<Tables['chat']>;
export type RtcRequests = RequestTypes<Tables['rtc']>;

/** A table of requests: event name → payload and ack result. */
export type RequestMap<M> = { [E in keyof M]: { payload: unknown; result: object } };
/** A table of requests in Socket.IO's event-map shape (payload, optional ack). */
export type ClientToServerEvents<M extends RequestMap<M>> = {
  [E in keyof M]: (payload: M[E]['payload'], ack?: AckCallback<M[E]['result']>) => void;
};

/** Socket.IO's event-map shape of a table of server → client events. */
type ServerToClientEvents<T extends Record<string, z.ZodType>> = { [E in keyof T]: (event: z.infer<T[E]>) => void };

export type ChatClientToServerEvents = ClientToServerEvents<ChatRequests>;
export type ChatServerToClientEvents = ServerToClientEvents<(typeof SERVER_EVENTS)['chat']>;

/** The kinds of `rtc:signal`, as the schema accepts them. */
export type SignalKind = Payload<'rtcSignal'>['kind'];

export type RtcClientToServerEvents = ClientToServerEvents<RtcRequests>;
export type RtcServerToClientEvents = ServerToClientEvents<(typeof SERVER_EVENTS)['rtc']>;

/** What one node asks the others to do to their own sockets (cluster mode; see SocketRoomControl). */
export type RoomControlCommand =
  | { kind: 'room-closed'; roomId: string }
  | { kind: 'user-removed'; roomId: string; userId: string }
  | { kind: 'access-narrowed'; roomId: string }
  | { kind: 'peer-kicked'; roomId: string; peerId: string; by: string }
  | { kind: 'call-ended'; roomId: string; by: string };

/** Events nodes exchange through the adapter (cluster mode). */
export interface InterServerEvents {
  'room:control': (command: RoomControlCommand) => void;
}
