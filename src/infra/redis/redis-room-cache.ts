import type { Room } from '../../protocol/models.js';
import type { Membership } from '../../ports/store.js';
import type { RoomCache } from '../cached-room-store.js';
import type { RedisClient } from './redis-client.js';
import { keys } from './redis-keys.js';

/** A day of cache outlives any store outage worth riding out; a room in use refreshes it. */
const TTL_SECONDS = 24 * 3600;
/** What a user without a row in the room is cached as. */
const NO_ROW = '-';

/** Rooms and memberships in Redis, shared by every node (see CachedRoomStore). */
export class RedisRoomCache implements RoomCache {
  constructor(private readonly redis: RedisClient) {}

  async putRoom(room: Room): Promise<void> {
    await this.redis.set(keys.roomCache(room.id), JSON.stringify(room), { expiration: { type: 'EX', value: TTL_SECONDS } });
  }

  async getRoom(roomId: string): Promise<Room | null> {
    const cached = await this.redis.get(keys.roomCache(roomId));
    return cached === null ? null : (JSON.parse(cached) as Room);
  }

  async dropRoom(roomId: string): Promise<void> {
    // The set of members of earlier releases goes too.
    await this.redis.del([keys.roomCache(roomId), keys.roomRolesCache(roomId), keys.roomMembersCache(roomId)]);
  }

  async putMember(roomId: string, userId: string, member: Membership | null): Promise<void> {
    const key = keys.roomRolesCache(roomId);
    // One slot (the room's tag), so MULTI works on a Redis Cluster too.
    await this.redis
      .multi()
      .hSet(key, userId, member === null ? NO_ROW : JSON.stringify(member))
      .expire(key, TTL_SECONDS)
      .exec();
  }

  async getMember(roomId: string, userId: string): Promise<Membership | null | undefined> {
    const cached = await this.redis.hGet(keys.roomRolesCache(roomId), userId);
    if (cached === null || cached === undefined) return undefined;
    return cached === NO_ROW ? null : (JSON.parse(cached) as Membership);
  }

  async dropMember(roomId: string, userId: string): Promise<void> {
    await this.redis.hDel(keys.roomRolesCache(roomId), userId);
  }
}
