import type { Lobby, LobbyRequest } from '../../ports/lobby.js';

/** Lobbies for one process. */
export class MemoryLobby implements Lobby {
  private readonly requests = new Map<string, Map<string, LobbyRequest>>();
  /** roomId → userId → admitted until (ms). */
  private readonly admitted = new Map<string, Map<string, number>>();

  async knock(request: LobbyRequest): Promise<void> {
    let room = this.requests.get(request.roomId);
    if (!room) this.requests.set(request.roomId, (room = new Map()));
    room.set(request.requestId, request);
  }

  async pending(roomId: string): Promise<LobbyRequest[]> {
    return [...(this.requests.get(roomId)?.values() ?? [])].sort((a, b) => a.createdAt - b.createdAt);
  }

  async take(roomId: string, requestId: string): Promise<LobbyRequest | null> {
    const room = this.requests.get(roomId);
    const request = room?.get(requestId) ?? null;
    if (request) room!.delete(requestId);
    if (room?.size === 0) this.requests.delete(roomId);
    return request;
  }

  async admit(roomId: string, userId: string, ttlMs: number): Promise<void> {
    let room = this.admitted.get(roomId);
    if (!room) this.admitted.set(roomId, (room = new Map()));
    const now = Date.now();
    // Expired entries go as new ones come: the map stays as small as the admissions in force.
    for (const [user, until] of room) if (until <= now) room.delete(user);
    room.set(userId, now + ttlMs);
  }

  async isAdmitted(roomId: string, userId: string): Promise<boolean> {
    return (this.admitted.get(roomId)?.get(userId) ?? 0) > Date.now();
  }

  async clear(roomId: string): Promise<void> {
    this.requests.delete(roomId);
    this.admitted.delete(roomId);
  }
}
