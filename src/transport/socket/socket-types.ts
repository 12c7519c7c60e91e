import type { Namespace, Socket } from 'socket.io';
import type {
  ChatClientToServerEvents,
  ChatServerToClientEvents,
  InterServerEvents,
  RtcClientToServerEvents,
  RtcServerToClientEvents,
  SocketData,
} from '../../protocol/events.js';

export type ChatNamespace = Namespace<ChatClientToServerEvents, ChatServerToClientEvents, InterServerEvents, SocketData>;
export type ChatSocket = Socket<ChatClientToServerEvents, ChatServerToClientEvents, InterServerEvents, SocketData>;
export type RtcNamespace = Namespace<RtcClientToServerEvents, RtcServerToClientEvents, InterServerEvents, SocketData>;
export type RtcSocket = Socket<RtcClientToServerEvents, RtcServerToClientEvents, InterServerEvents, SocketData>;
export type AnySocket = ChatSocket | RtcSocket;

/** Socket.IO room that holds every /chat socket joined to a chat room. */
export const chatRoomKey = (roomId: string) => `room:${roomId}`;
/** Socket.IO room that holds every /rtc socket in a room's call. */
export const callRoomKey = (roomId: string) => `call:${roomId}`;
