/** A user waiting in a room's lobby for a moderator's answer. */
export interface LobbyRequest {
  requestId: string;
  roomId: string;
  userId: string;
  name: string;
  /** The waiting /rtc socket: where the answer goes. */
  peerId: string;
  createdAt: number;
}

/**
 * The lobbies of every room, shared by every node (a knock on node A is answered by a
 * moderator on node B), and the users admitted from them.
 */
export interface Lobby {
  knock(request: LobbyRequest): Promise<void>;
  /** Requests still waiting, oldest first. */
  pending(roomId: string): Promise<LobbyRequest[]>;
  /** Removes and returns the request; null when it was answered, withdrawn or timed out. */
  take(roomId: string, requestId: string): Promise<LobbyRequest | null>;
  /** Lets the user pass the lobby of the room for `ttlMs` (a reconnect within it needs no new knock). */
  admit(roomId: string, userId: string, ttlMs: number): Promise<void>;
  isAdmitted(roomId: string, userId: string): Promise<boolean>;
  /** Forgets everything of the room (deleted). */
  clear(roomId: string): Promise<void>;
}
