import type { Namespace, Socket } from 'socket.io';
import type {
  ChatClientToServerEvents,
  ChatServerToClientEvents,
  InterServerEvents,
  RtcClientToServerEvents,
  RtcServerToClientEvents,
} from '../../protocol/events.js';
import type { MediaState } from '../../protocol/models.js';

/**
 * What the server keeps on each socket; restored with connection-state recovery. Server
 * only: clients never see it, so it is not part of the published protocol.
 */
export interface SocketData {
  user: { id: string; name: string; guest: boolean };
  tokenExpiresAt: number;
  /** The node serving this socket, set on every connection (a recovered session may come from another node). */
  nodeId?: string;
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

export type ChatNamespace = Namespace<ChatClientToServerEvents, ChatServerToClientEvents, InterServerEvents, SocketData>;
export type ChatSocket = Socket<ChatClientToServerEvents, ChatServerToClientEvents, InterServerEvents, SocketData>;
export type RtcNamespace = Namespace<RtcClientToServerEvents, RtcServerToClientEvents, InterServerEvents, SocketData>;
export type RtcSocket = Socket<RtcClientToServerEvents, RtcServerToClientEvents, InterServerEvents, SocketData>;
export type AnySocket = ChatSocket | RtcSocket;

/** Socket.IO room that holds every /chat socket joined to a chat room. */
export const chatRoomKey = (roomId: string) => `room:${roomId}`;
/** Socket.IO room that holds every /rtc socket in a room's call. */
export const callRoomKey = (roomId: string) => `call:${roomId}`;
/** Socket.IO room of the moderators in a room's call: where lobby knocks go. */
export const moderatorsKey = (roomId: string) => `mods:${roomId}`;
/** Socket.IO room of every socket of a user, on both namespaces: what an operator disconnect reaches. */
export const userRoomKey = (userId: string) => `user:${userId}`;
