import { isUnavailable } from '../domain/app-error.js';
import type { Room, RoomRole } from '../protocol/models.js';
import type { IdPage, Membership, NewRoom, RoomPatch, RoomStore } from '../ports/store.js';

/** Where rooms and memberships are remembered for a store outage (Redis in cluster mode). */
export interface RoomCache {
  putRoom(room: Room): Promise<void>;
  getRoom(roomId: string): Promise<Room | null>;
  /** Forgets the room and every membership in it. */
  dropRoom(roomId: string): Promise<void>;
  /** `null` remembers that the user has no row in the room (not a member, not banned). */
  putMember(roomId: string, userId: string, member: Membership | null): Promise<void>;
  /** `undefined` when the cache knows nothing of the user in the room. */
  getMember(roomId: string, userId: string): Promise<Membership | null | undefined>;
  dropMember(roomId: string, userId: string): Promise<void>;
}

/** Told of rooms made and deleted (cluster mode starts and ends the room's sequence). */
export interface RoomLifecycle {
  created(room: Room): Promise<void>;
  deleted(roomId: string): Promise<void>;
}

/**
 * Rooms and memberships read through to the store and cached, so that while the store is
 * down any node can still admit users to rooms it has seen (joins, calls, sends keep
 * working; changing rooms and members needs the store itself).
 *
 * The cache may deny, never grant: every change that takes something away (a removal, a ban,
 * a role change, a room made private, locked or deleted) first takes it out of the cache and
 * fails UNAVAILABLE when it cannot, so a stale entry can never let in what the store refuses.
 * Writes that only add are cached afterwards, best effort: a cache that missed one costs
 * nothing but outage cover.
 */
export class CachedRoomStore implements RoomStore {
  constructor(
    private readonly store: RoomStore,
    private readonly cache: RoomCache,
    private readonly lifecycle: RoomLifecycle,
  ) {}

  async createRoom(room: NewRoom): Promise<Room> {
    const created = await this.store.createRoom(room);
    await this.cache.putRoom(created).catch(() => undefined);
    await this.lifecycle.created(created);
    return created;
  }

  getRoom(roomId: string): Promise<Room | null> {
    return this.readThrough(
      () => this.store.getRoom(roomId),
      (room) => (room ? this.cache.putRoom(room) : Promise.resolve()),
      async () => {
        const room = await this.cache.getRoom(roomId);
        return room === null ? undefined : { value: room };
      },
    );
  }

  async updateRoom(roomId: string, patch: RoomPatch): Promise<Room | null> {
    await this.cache.dropRoom(roomId);
    const room = await this.store.updateRoom(roomId, patch);
    if (room) await this.cache.putRoom(room).catch(() => undefined);
    return room;
  }

  async deleteRoom(roomId: string): Promise<boolean> {
    await this.cache.dropRoom(roomId);
    const deleted = await this.store.deleteRoom(roomId);
    if (deleted) await this.lifecycle.deleted(roomId);
    return deleted;
  }

  async addMember(roomId: string, userId: string, options?: { role?: RoomRole; name?: string }): Promise<void> {
    await this.store.addMember(roomId, userId, options);
    // The row as stored (an existing role or ban wins over the one asked for).
    const member = await this.store.getMember(roomId, userId).catch(() => undefined);
    if (member !== undefined) await this.cache.putMember(roomId, userId, member).catch(() => undefined);
  }

  getMember(roomId: string, userId: string): Promise<Membership | null> {
    return this.readThrough(
      () => this.store.getMember(roomId, userId),
      (member) => this.cache.putMember(roomId, userId, member),
      async () => {
        const member = await this.cache.getMember(roomId, userId);
        return member === undefined ? undefined : { value: member };
      },
    );
  }

  async setRole(roomId: string, userId: string, role: RoomRole): Promise<void> {
    await this.cache.dropMember(roomId, userId);
    await this.store.setRole(roomId, userId, role);
  }

  async removeMember(roomId: string, userId: string, ban: boolean): Promise<boolean> {
    if (ban) await this.cache.putMember(roomId, userId, { userId, name: userId, role: 'member', addedAt: new Date().toISOString(), banned: true });
    else await this.cache.dropMember(roomId, userId);
    return this.store.removeMember(roomId, userId, ban);
  }

  listMembers(roomId: string, page: IdPage): Promise<Membership[]> {
    return this.store.listMembers(roomId, page);
  }

  listRoomsOf(userId: string, page: IdPage): Promise<Array<Room & { role: RoomRole }>> {
    return this.store.listRoomsOf(userId, page);
  }

  /**
   * The store's answer (cached on the way); in a store outage the cache's, if it has one.
   * A cache that knows nothing (or cannot answer) leaves the outage standing: deny.
   */
  private async readThrough<T>(read: () => Promise<T>, remember: (value: T) => Promise<void>, recall: () => Promise<{ value: T } | undefined>): Promise<T> {
    try {
      const value = await read();
      await remember(value).catch(() => undefined);
      return value;
    } catch (err) {
      if (!isUnavailable(err)) throw err;
      const cached = await recall().catch(() => undefined);
      if (cached === undefined) throw err;
      return cached.value;
    }
  }
}
