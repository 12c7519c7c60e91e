import { AppError } from '../../domain/app-error.js';
import type { Room } from '../../protocol/models.js';
import type { NewRoom, RoomStore } from '../../ports/store.js';
import type { RedisClient } from './redis-client.js';
import { keys } from './redis-keys.js';

/** Rooms are small and never deleted: a day of cache outlives any store outage worth riding out. */
const TTL_SECONDS = 24 * 3600;

const isOutage = (err: unknown) => err instanceof AppError && err.code === 'UNAVAILABLE';

/**
 * Rooms and memberships read through to the store and cached in Redis, so that while the
 * store is down any node can still admit members to rooms it has seen (joins, calls, sends
 * keep working; only creating rooms and adding members need the store itself). Membership
 * is cached only positively, and members are never removed, so the cache cannot grant what
 * the store would refuse.
 */
export class CachedRoomStore implements RoomStore {
  constructor(
    private readonly store: RoomStore,
    private readonly redis: RedisClient,
  ) {}

  async createRoom(room: NewRoom): Promise<Room> {
    const created = await this.store.createRoom(room);
    await this.cacheRoom(created);
    // Start the room's sequence now, so its first message never needs the store to seed it.
    await this.redis.set(keys.roomSeq(created.id), '0', { condition: 'NX' }).catch(() => undefined);
    return created;
  }

  async getRoom(roomId: string): Promise<Room | null> {
    try {
      const room = await this.store.getRoom(roomId);
      if (room) await this.cacheRoom(room);
      return room;
    } catch (err) {
      if (!isOutage(err)) throw err;
      const cached = await this.redis.get(keys.roomCache(roomId)).catch(() => null);
      if (cached === null) throw err;
      return JSON.parse(cached) as Room;
    }
  }

  async addMember(roomId: string, userId: string): Promise<void> {
    await this.store.addMember(roomId, userId);
    await this.redis.sAdd(keys.roomMembersCache(roomId), userId).catch(() => undefined);
  }

  async isMember(roomId: string, userId: string): Promise<boolean> {
    try {
      const member = await this.store.isMember(roomId, userId);
      if (member) await this.redis.sAdd(keys.roomMembersCache(roomId), userId).catch(() => undefined);
      return member;
    } catch (err) {
      if (!isOutage(err)) throw err;
      const cached = await this.redis.sIsMember(keys.roomMembersCache(roomId), userId).catch(() => null);
      if (cached === null) throw err;
      return Boolean(cached);
    }
  }

  private async cacheRoom(room: Room): Promise<void> {
    await this.redis.set(keys.roomCache(room.id), JSON.stringify(room), { expiration: { type: 'EX', value: TTL_SECONDS } }).catch(() => undefined);
  }
}
