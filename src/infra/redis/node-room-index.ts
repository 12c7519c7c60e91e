import type { RedisClient } from './redis-client.js';

interface IndexedRoom {
  /** This node's entries in the room (socket or peer ids). */
  ids: Set<string>;
  /** The room's addition to the index; settled before any entry of ours is written there. */
  added: Promise<unknown>;
}

/**
 * The rooms where one node has entries (presence sockets, or call peers), kept in one Redis
 * set in the node's slot so that a survivor finds a dead node's entries without a scan.
 *
 * The room's own keys are authoritative (every entry names its node), so the index only has
 * to cover them, and may cover more: a room is added, and Redis has acknowledged it, before
 * this node's first entry there is written; it is removed only after the last one is gone.
 * Neither write shares a step with the room's keys (they are in other slots), which is why
 * the order matters:
 * - a crash after the addition, before the entry: a room listed with nothing of ours in it;
 *   cleanup visits it and finds nothing to remove;
 * - a crash after the last removal, before the trim: the same;
 * - a failed addition: the join fails before writing anything.
 * Only the first entry in a room costs the extra round trip; the others find it added.
 */
export class NodeRoomIndex {
  private readonly rooms = new Map<string, IndexedRoom>();

  constructor(
    private readonly redis: RedisClient,
    private readonly key: string,
  ) {}

  /** Resolves once `roomId` is in the index; call it before writing `id`'s entry there. */
  async enter(roomId: string, id: string): Promise<void> {
    let room = this.rooms.get(roomId);
    if (!room) {
      const added = this.redis.sAdd(this.key, roomId);
      const entered: IndexedRoom = { ids: new Set(), added };
      // Not added: the next entry tries again (every join waiting on this one fails).
      added.catch(() => this.rooms.get(roomId) === entered && this.rooms.delete(roomId));
      this.rooms.set(roomId, (room = entered));
    }
    room.ids.add(id);
    await room.added;
  }

  /**
   * Call it after `id`'s entry in the room is gone (or found owned by another node): once
   * none of this node's is left, the room leaves the index. The removal is sent before any
   * later addition of the same room (one key, one connection), so it cannot undo one.
   */
  async left(roomId: string, id: string): Promise<void> {
    const room = this.rooms.get(roomId);
    if (!room?.ids.delete(id) || room.ids.size > 0) return;
    this.rooms.delete(roomId);
    await this.redis.sRem(this.key, roomId);
  }

  /** The others removed this node's index (they took it for dead): add rooms afresh. */
  forget(): void {
    this.rooms.clear();
  }
}
