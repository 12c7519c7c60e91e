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

export interface ChatClientToServerEvents {
  'room:join': (payload: Payload<'roomJoin'>, ack?: AckCallback<RoomJoinResult>) => void;
  'room:leave': (payload: Payload<'roomLeave'>, ack?: AckCallback) => void;
  'chat:send': (payload: Payload<'chatSend'>, ack?: AckCallback<{ message: Message }>) => void;
  'chat:history': (payload: Payload<'chatHistory'>, ack?: AckCallback<HistoryResult>) => void;
  'chat:typing': (payload: Payload<'chatTyping'>, ack?: AckCallback) => void;
  'chat:ack': (payload: Payload<'chatAck'>, ack?: AckCallback) => void;
}

export interface ChatServerToClientEvents {
  hello: (event: HelloEvent) => void;
  'chat:message': (message: Message) => void;
  'room:presence': (event: PresenceEvent) => void;
  'chat:typing': (event: { roomId: string; userId: string; typing: boolean }) => void;
  'auth:expired': (event: { message: string }) => void;
  /** Redelivery gave up: fetch history after `fromSeq` (chat:history {after}) to catch up. */
  'chat:resync': (event: { roomId: string; fromSeq: number }) => void;
}

export type SignalKind = 'offer' | 'answer' | 'ice-candidate' | 'ice-restart';

export interface RtcClientToServerEvents {
  'call:join': (payload: Payload<'callJoin'>, ack?: AckCallback<CallJoinResult>) => void;
  'call:leave': (payload: Payload<'callLeave'>, ack?: AckCallback) => void;
  'rtc:signal': (payload: Payload<'rtcSignal'>, ack?: AckCallback) => void;
  'rtc:media': (payload: Payload<'rtcMedia'>, ack?: AckCallback) => void;
}

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

/** What the server keeps on each socket; restored with connection-state recovery. */
export interface SocketData {
  user: { id: string; name: string; guest: boolean };
  tokenExpiresAt: number;
  /** Rooms this /chat socket joined, restored with the session; absent until the first. */
  chatRooms?: string[];
  /**
   * Rooms besides `chatRooms` whose access was checked on this socket, so hot events skip
   * the store; absent until the first.
   */
  allowedRooms?: string[];
  /** Call this /rtc socket is in, if any. */
  callRoomId?: string | null;
  /** What this /rtc socket sends; absent means nothing (audio, video and screen off). */
  media?: MediaState;
}
