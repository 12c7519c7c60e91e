import type { CallPeer, MediaState, Message, Participant } from '../protocol/models.js';

/** Who is in which room right now (one entry per socket; listed once per user). */
export interface Presence {
  /** True when this is the user's first socket in the room (others should hear of it). */
  join(roomId: string, socketId: string, participant: Participant): Promise<boolean>;
  /** The participant when this was the user's last socket in the room, else null. */
  leave(roomId: string, socketId: string): Promise<Participant | null>;
  list(roomId: string): Promise<Participant[]>;
}

export type CallJoinOutcome = { joined: true; peers: CallPeer[] } | { joined: false; reason: 'ROOM_FULL' };

/** Who is in which call; the capacity check and the join are one atomic step. */
export interface CallRegistry {
  join(roomId: string, peer: CallPeer, capacity: number): Promise<CallJoinOutcome>;
  leave(roomId: string, peerId: string): Promise<boolean>;
  /** Everyone in the room's call. */
  peers(roomId: string): Promise<CallPeer[]>;
  /** True when the peer is in the room's call (what a signal to it requires). */
  inCall(roomId: string, peerId: string): Promise<boolean>;
  setMedia(roomId: string, peerId: string, media: MediaState): Promise<void>;
}

/** Live fan-out of stored messages to connected members (wired to Socket.IO). */
export interface LiveDelivery {
  /**
   * Fans the message out. A promise when the cluster's fan-out is backed up (FanOutBacklog):
   * the sender's ack waits for it, so that senders slow down instead of broadcasts being lost.
   */
  deliverMessage(message: Message, exceptSocketId?: string): Promise<void> | null;
  /** An older message changed: its whole current state, to everyone in the room. */
  deliverUpdate(message: Message): void;
}

/** Cluster mode: broadcasts handed to the adapter that Redis has not taken yet. */
export interface FanOutBacklog {
  /** null when senders may go on; else a promise resolved once the backlog has fallen back. */
  whenBelow(): Promise<void> | null;
}

export type RateDecision = { allowed: true } | { allowed: false; retryAfterMs: number };

/** A named budget: `points` per `durationMs`, counted per key. */
export interface RateLimiter {
  consume(key: string, points?: number): Promise<RateDecision>;
}

/** Open sockets per user and per IP, across namespaces (and nodes in cluster mode). */
export interface ConnectionCounter {
  /** `connId` names the socket holding the slot, so a dead node's slots can be purged. */
  acquire(userId: string, ip: string, connId: string): Promise<'ok' | 'user' | 'ip'>;
  release(userId: string, ip: string, connId: string): Promise<void>;
}
