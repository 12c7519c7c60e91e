import mongoose from 'mongoose';
import type { Room, RoomRole } from '../../protocol/models.js';
import type { IdPage, Membership, RoomPatch } from '../../ports/store.js';
import { isDuplicateKey } from './mongo-errors.js';
import type { MemberDoc, MongoModels, RoomDoc } from './mongo-models.js';

/** Filters built from request values: an object where a string belongs is compared, never run. */
const SAFE = { sanitizeFilter: true } as const;

export const toRoom = (d: RoomDoc): Room => ({
  id: d._id,
  name: d.name,
  isPrivate: d.isPrivate,
  maxParticipants: d.maxParticipants,
  createdBy: d.createdBy,
  createdAt: d.createdAt,
  lastSeq: d.lastSeq,
  lastRev: d.lastRev ?? 0,
  locked: d.locked ?? false,
  lobby: d.lobby ?? false,
});

const toMembership = (d: MemberDoc): Membership => ({ userId: d.userId, name: d.name ?? d.userId, role: d.role, addedAt: d.addedAt, banned: d.banned });

/** Rooms' settings and memberships in MongoDB (the `rooms` and `room_members` collections). */
export class MongoMemberships {
  constructor(private readonly m: MongoModels) {}

  async updateRoom(roomId: string, patch: RoomPatch): Promise<Room | null> {
    const doc = await this.m.Room.findOneAndUpdate({ _id: roomId }, { $set: patch }, { ...SAFE, returnDocument: 'after' }).lean<RoomDoc>();
    return doc ? toRoom(doc) : null;
  }

  /**
   * The room's document goes last: a delete cut short leaves the room in place, and the
   * owner's retry of it finishes the job (no transaction needed).
   */
  async deleteRoom(roomId: string): Promise<boolean> {
    if ((await this.m.Room.exists({ _id: roomId }).setOptions(SAFE)) === null) return false;
    await this.m.Message.deleteMany({ roomId }, SAFE);
    await this.m.Cursor.deleteMany({ roomId }, SAFE);
    await this.m.ReadMarker.deleteMany({ roomId }, SAFE);
    await this.m.Member.deleteMany({ roomId }, SAFE);
    await this.m.Room.deleteOne({ _id: roomId }, SAFE);
    return true;
  }

  async addMember(roomId: string, userId: string, role: RoomRole, name: string | null): Promise<void> {
    const update = {
      $setOnInsert: { role, addedAt: new Date().toISOString(), banned: false, ...(name === null ? { name: null } : {}) },
      ...(name === null ? {} : { $set: { name } }),
    };
    await this.upsert({ roomId, userId }, update);
  }

  async getMember(roomId: string, userId: string): Promise<Membership | null> {
    const doc = await this.m.Member.findOne({ roomId, userId }, null, SAFE).lean<MemberDoc>();
    return doc ? toMembership(doc) : null;
  }

  async setRole(roomId: string, userId: string, role: RoomRole): Promise<void> {
    await this.upsert({ roomId, userId }, { $set: { role, banned: false }, $setOnInsert: { addedAt: new Date().toISOString(), name: null } });
  }

  async removeMember(roomId: string, userId: string, ban: boolean): Promise<boolean> {
    const was = (await this.m.Member.exists({ roomId, userId, banned: false }).setOptions(SAFE)) !== null;
    if (ban) await this.upsert({ roomId, userId }, { $set: { banned: true, role: 'member' }, $setOnInsert: { addedAt: new Date().toISOString(), name: null } });
    else await this.m.Member.deleteOne({ roomId, userId }, SAFE);
    return was;
  }

  async listMembers(roomId: string, page: IdPage): Promise<Membership[]> {
    const filter = { roomId, banned: false, userId: mongoose.trusted({ $gt: page.after ?? '' }) };
    const docs = await this.m.Member.find(filter, null, SAFE).sort({ userId: 1 }).limit(page.limit).lean<MemberDoc[]>();
    return docs.map(toMembership);
  }

  async listRoomsOf(userId: string, page: IdPage): Promise<Array<Room & { role: RoomRole }>> {
    const filter = { userId, banned: false, roomId: mongoose.trusted({ $gt: page.after ?? '' }) };
    const docs = await this.m.Member.find(filter, { roomId: 1, role: 1 }, SAFE).sort({ roomId: 1 }).limit(page.limit).lean<Pick<MemberDoc, 'roomId' | 'role'>[]>();
    if (docs.length === 0) return [];
    const rooms = await this.m.Room.find({ _id: mongoose.trusted({ $in: docs.map((d) => d.roomId) }) }, null, SAFE).lean<RoomDoc[]>();
    const byId = new Map(rooms.map((r) => [r._id, r]));
    // A membership whose room is being deleted (its document goes last) is skipped.
    return docs.flatMap((d) => {
      const room = byId.get(d.roomId);
      return room ? [{ ...toRoom(room), role: d.role }] : [];
    });
  }

  /** Two upserts of one new row race on the unique index; the loser's retry updates the winner's row. */
  private async upsert(filter: { roomId: string; userId: string }, update: object): Promise<void> {
    try {
      await this.m.Member.updateOne(filter, update, { ...SAFE, upsert: true });
    } catch (err) {
      if (!isDuplicateKey(err)) throw err;
      await this.m.Member.updateOne(filter, update, { ...SAFE, upsert: true });
    }
  }
}

/**
 * Moves members kept in the room document by the first releases into `room_members` (the
 * creator as owner). Idempotent: a room is cleared only after its members are written.
 */
export async function migrateMembers(m: MongoModels): Promise<void> {
  const legacy = await m.Room.find({ 'members.0': mongoose.trusted({ $exists: true }) }, { members: 1, createdBy: 1 }).lean<Pick<RoomDoc, '_id' | 'members' | 'createdBy'>[]>();
  for (const room of legacy) {
    const addedAt = new Date().toISOString();
    const writes = (room.members ?? []).map((userId) => ({
      updateOne: {
        filter: { roomId: room._id, userId },
        update: { $setOnInsert: { role: userId === room.createdBy ? 'owner' : 'member', addedAt, banned: false, name: null } },
        upsert: true,
      },
    }));
    if (writes.length > 0) await m.Member.bulkWrite(writes, { ordered: false });
    await m.Room.updateOne({ _id: room._id }, { $unset: { members: 1 } });
  }
}
