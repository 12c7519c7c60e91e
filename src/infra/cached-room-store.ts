import { isUnavailable } from '../domain/app-error.js';
import type { Room } from '../protocol/models.js';
import type { NewRoom, RoomStore } from '../ports/store.js';

/** Where rooms and memberships are remembered for a store outage (Redis in cluster mode). */
export interface RoomCache {
  putRoom(room: Room): Promise<void>;
  getRoom(roomId: string): Promise<Room | null>;
  addMember(roomId: string, userId: string): Promise<void>;
  isMember(roomId: string, userId: string): Promise<boolean>;
}

/**
 * Rooms and memberships read through to the store and cached, so that while the store is
 * down any node can still admit members to rooms it has seen (joins, calls, sends keep
 * working; only creating rooms and adding members need the store itself). Membership is
 * cached only positively, and members are never removed, so the cache cannot grant what
 * the store would refuse. Writing the cache is best effort: a cache that is down costs
 * nothing but the outage cover.
 */
export class CachedRoomStore implements RoomStore {
  constructor(
    private readonly store: RoomStore,
    private readonly cache: RoomCache,
    /** Told of each room created (cluster mode starts the room's sequence). */
    private readonly onCreated: (room: Room) => Promise<void> = async () => {},
  ) {}

  async createRoom(room: NewRoom): Promise<Room> {
    const created = await this.store.createRoom(room);
    await this.cache.putRoom(created).catch(() => undefined);
    await this.onCreated(created);
    return created;
  }

  async getRoom(roomId: string): Promise<Room | null> {
    try {
      const room = await this.store.getRoom(roomId);
      if (room) await this.cache.putRoom(room).catch(() => undefined);
      return room;
    } catch (err) {
      if (!isUnavailable(err)) throw err;
      const cached = await this.cache.getRoom(roomId).catch(() => null);
      if (cached === null) throw err;
      return cached;
    }
  }

  async addMember(roomId: string, userId: string): Promise<void> {
    await this.store.addMember(roomId, userId);
    await this.cache.addMember(roomId, userId).catch(() => undefined);
  }

  async isMember(roomId: string, userId: string): Promise<boolean> {
    try {
      const member = await this.store.isMember(roomId, userId);
      if (member) await this.cache.addMember(roomId, userId).catch(() => undefined);
      return member;
    } catch (err) {
      if (!isUnavailable(err)) throw err;
      const cached = await this.cache.isMember(roomId, userId).catch(() => null);
      if (cached === null) throw err;
      return cached;
    }
  }
}
