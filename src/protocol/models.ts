/** Wire shapes of the things the server hands to clients. */

export interface Room {
  id: string;
  name: string;
  isPrivate: boolean;
  maxParticipants: number;
  createdBy: string;
  createdAt: string;
  /** Sequence number of the newest message in the room (0 when empty). */
  lastSeq: number;
}

export interface Message {
  id: string;
  roomId: string;
  /** Per-room sequence: 1, 2, 3 … without gaps. */
  seq: number;
  senderId: string;
  senderName: string;
  text: string;
  clientMsgId: string | null;
  createdAt: string;
}

export interface Participant {
  userId: string;
  name: string;
}

export interface MediaState {
  audio: boolean;
  video: boolean;
  screen: boolean;
}

export interface CallPeer {
  peerId: string;
  userId: string;
  name: string;
  media: MediaState;
}

export interface IceServer {
  urls: string | string[];
  username?: string;
  credential?: string;
}

export interface User {
  id: string;
  name: string;
}
