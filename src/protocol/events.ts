import type { ErrorBody } from './error-codes.js';
import type { CallPeer, IceServer, MediaState, Message, Participant, Room } from './models.js';
import type { Payload } from './schemas.js';

/** Every ack is either a success with its fields or a failure with a stable code. */
export type Ack<T extends object = object> = ({ ok: true } & T) | { ok: false; error: ErrorBody };
export type AckCallback<T extends object = object> = (answer: Ack<T>) => void;

export interface RoomJoinResult {
  room: Room;
  participants: Participant[];
  /** Messages after `lastSeq` (or the latest page), oldest first. */
  messages: Message[];
  /** False when more messages follow: page on with `chat:history {after}`. */
  complete: boolean;
}

export interface HistoryResult {
  messages: Message[];
  hasMore: boolean;
}

export interface CallJoinResult {
  peerId: string;
  peers: CallPeer[];
  iceServers: IceServer[];
}

/** Sent once right after connect: gives every client a recovery offset. */
export interface HelloEvent {
  userId: string;
  name: string;
  nodeId: string;
  recoveryWindowMs: number;
}

export type PresenceEvent =
  | { roomId: string; participants: Participant[] }
  | { roomId: string; joined: Participant }
  | { roomId: string; left: Participant };

/**
 * What a client may ask of the server: for each event, its payload and what a successful
 * ack carries besides `ok: true`. The server's handlers are typed from these tables, so a
 * route name or an ack shape that drifts from them does not compile.
 */
export interface ChatRequests {
  'room:join': { payload: Payload<'roomJoin'>; result: RoomJoinResult };
  'room:leave': { payload: Payload<'roomLeave'>; result: NoResult };
  'chat:send': { payload: Payload<'chatSend'>; result: { message: Message } };
  'chat:history': { payload: Payload<'chatHistory'>; result: HistoryResult };
  'chat:typing': { payload: Payload<'chatTyping'>; result: NoResult };
  'chat:ack': { payload: Payload<'chatAck'>; result: NoResult };
}

export interface RtcRequests {
  'call:join': { payload: Payload<'callJoin'>; result: CallJoinResult };
  'call:leave': { payload: Payload<'callLeave'>; result: NoResult };
  'rtc:signal': { payload: Payload<'rtcSignal'>; result: NoResult };
  'rtc:media': { payload: Payload<'rtcMedia'>; result: NoResult };
}

/** An ack with nothing but `ok: true`. */
export type NoResult = Record<never, never>;

/** A table of requests: event name → payload and ack result. */
export type RequestMap<M> = { [E in keyof M]: { payload: unknown; result: object } };
/** A table of requests in Socket.IO's event-map shape (payload, optional ack). */
export type ClientToServerEvents<M extends RequestMap<M>> = {
  [E in keyof M]: (payload: M[E]['payload'], ack?: AckCallback<M[E]['result']>) => void;
};

export type ChatClientToServerEvents = ClientToServerEvents<ChatRequests>;

export interface ChatServerToClientEvents {
  hello: (event: HelloEvent) => void;
  'chat:message': (message: Message) => void;
  'room:presence': (event: PresenceEvent) => void;
  'chat:typing': (event: { roomId: string; userId: string; typing: boolean }) => void;
  'auth:expired': (event: { message: string }) => void;
  /** Redelivery gave up: fetch history after `fromSeq` (chat:history {after}) to catch up. */
  'chat:resync': (event: { roomId: string; fromSeq: number }) => void;
}

/** The kinds of `rtc:signal`, as the schema accepts them. */
export type SignalKind = Payload<'rtcSignal'>['kind'];

export type RtcClientToServerEvents = ClientToServerEvents<RtcRequests>;

export interface RtcServerToClientEvents {
  hello: (event: HelloEvent) => void;
  'call:peer-joined': (peer: CallPeer & { roomId: string }) => void;
  'call:peer-left': (event: { roomId: string; peerId: string }) => void;
  'rtc:signal': (event: { from: string; kind: SignalKind; data: unknown }) => void;
  'rtc:media': (event: { peerId: string } & MediaState) => void;
  'auth:expired': (event: { message: string }) => void;
}

/** Events nodes exchange through the adapter (cluster mode). */
export type InterServerEvents = Record<string, never>;
