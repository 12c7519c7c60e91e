import type { Room } from '../../protocol/models.js';
import type { RoomCache } from '../cached-room-store.js';
import type { RedisClient } from './redis-client.js';
import { keys } from './redis-keys.js';

/** Rooms are small and never deleted: a day of cache outlives any store outage worth riding out. */
const TTL_SECONDS = 24 * 3600;

/** Rooms and known members in Redis, shared by every node (see CachedRoomStore). */
export class RedisRoomCache implements RoomCache {
  constructor(private readonly redis: RedisClient) {}

  async putRoom(room: Room): Promise<void> {
    await this.redis.set(keys.roomCache(room.id), JSON.stringify(room), { expiration: { type: 'EX', value: TTL_SECONDS } });
  }

  async getRoom(roomId: string): Promise<Room | null> {
    const cached = await this.redis.get(keys.roomCache(roomId));
    return cached === null ? null : (JSON.parse(cached) as Room);
  }

  async addMember(roomId: string, userId: string): Promise<void> {
    await this.redis.sAdd(keys.roomMembersCache(roomId), userId);
  }

  async isMember(roomId: string, userId: string): Promise<boolean> {
    return Boolean(await this.redis.sIsMember(keys.roomMembersCache(roomId), userId));
  }
}
