import type { Lobby, LobbyRequest } from '../../ports/lobby.js';
import type { RedisClient } from './redis-client.js';
import { keys } from './redis-keys.js';

/**
 * Lobbies in Redis: a room's waiting requests in one hash, its admissions in another (user
 * → admitted until, ms). Both carry the room's tag, so each step is one slot. The hashes
 * expire a while after their last write, so an abandoned lobby does not stay forever.
 */
const IDLE_TTL_SECONDS = 24 * 3600;

export class RedisLobby implements Lobby {
  constructor(private readonly redis: RedisClient) {}

  async knock(request: LobbyRequest): Promise<void> {
    const key = keys.lobby(request.roomId);
    await this.redis.multi().hSet(key, request.requestId, JSON.stringify(request)).expire(key, IDLE_TTL_SECONDS).exec();
  }

  async pending(roomId: string): Promise<LobbyRequest[]> {
    const all = await this.redis.hVals(keys.lobby(roomId));
    return all.map((v) => JSON.parse(v) as LobbyRequest).sort((a, b) => a.createdAt - b.createdAt);
  }

  async take(roomId: string, requestId: string): Promise<LobbyRequest | null> {
    const key = keys.lobby(roomId);
    // HGET and HDEL in one MULTI: of two moderators answering at once, one gets the request.
    const [json, deleted] = (await this.redis.multi().hGet(key, requestId).hDel(key, requestId).exec()) as unknown as [string | null, number];
    return json && deleted === 1 ? (JSON.parse(json) as LobbyRequest) : null;
  }

  async admit(roomId: string, userId: string, ttlMs: number): Promise<void> {
    const key = keys.lobbyAdmitted(roomId);
    await this.redis.multi().hSet(key, userId, String(Date.now() + ttlMs)).expire(key, IDLE_TTL_SECONDS).exec();
  }

  async isAdmitted(roomId: string, userId: string): Promise<boolean> {
    const until = await this.redis.hGet(keys.lobbyAdmitted(roomId), userId);
    return until !== null && until !== undefined && Number(until) > Date.now();
  }

  async clear(roomId: string): Promise<void> {
    await this.redis.del([keys.lobby(roomId), keys.lobbyAdmitted(roomId)]);
  }
}
