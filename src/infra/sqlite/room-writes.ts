import type Database from 'better-sqlite3';
import type { RoomRole } from '../../protocol/models.js';
import type { NewRoom, RoomPatch } from '../../ports/store.js';
import { guardSqlite } from './sqlite-connection.js';
import { roomKeyOf } from './sqlite-rows.js';

/** A write to rooms or memberships, as the request thread posts it to the writer thread. */
export type RoomWrite =
  | { kind: 'createRoom'; room: NewRoom }
  | { kind: 'updateRoom'; roomId: string; patch: RoomPatch }
  | { kind: 'deleteRoom'; roomId: string }
  | { kind: 'addMember'; roomId: string; userId: string; role: RoomRole; name: string | null; addedAt: string }
  | { kind: 'setRole'; roomId: string; userId: string; role: RoomRole; addedAt: string }
  | { kind: 'removeMember'; roomId: string; userId: string; ban: boolean; addedAt: string };

/** Columns a patch may set, by its field name. */
const PATCH_COLUMNS = { name: 'name', isPrivate: 'is_private', maxParticipants: 'max_participants', locked: 'locked', lobby: 'lobby' } as const;

/**
 * Writes to rooms and memberships, each one transaction, on the writer thread (beside the
 * message writes of WriteTransactions). Each answers plain data: whether something changed.
 */
export class RoomWrites {
  private readonly stmt;

  constructor(private readonly db: Database.Database) {
    this.stmt = {
      insertRoom: db.prepare(
        // Its msg_key comes from a trigger (sqlite-schema.ts v7).
        `INSERT INTO rooms (id, name, is_private, max_participants, created_by, created_at, last_seq, locked, lobby)
         VALUES (@id, @name, @isPrivate, @maxParticipants, @createdBy, @createdAt, 0, @locked, @lobby)`,
      ),
      // A row that exists keeps its role and ban; only a name given refreshes the shown name.
      addMember: db.prepare(
        `INSERT INTO room_members (room_id, user_id, added_at, role, name, banned) VALUES (?, ?, ?, ?, ?, 0)
         ON CONFLICT (room_id, user_id) DO UPDATE SET name = COALESCE(excluded.name, name)`,
      ),
      setRole: db.prepare(
        `INSERT INTO room_members (room_id, user_id, added_at, role, banned) VALUES (?, ?, ?, ?, 0)
         ON CONFLICT (room_id, user_id) DO UPDATE SET role = excluded.role, banned = 0`,
      ),
      ban: db.prepare(
        `INSERT INTO room_members (room_id, user_id, added_at, role, banned) VALUES (?, ?, ?, 'member', 1)
         ON CONFLICT (room_id, user_id) DO UPDATE SET role = 'member', banned = 1`,
      ),
      wasMember: db.prepare<[string, string], number>('SELECT 1 FROM room_members WHERE room_id = ? AND user_id = ? AND banned = 0').pluck(),
      removeMember: db.prepare('DELETE FROM room_members WHERE room_id = ? AND user_id = ?'),
      roomExists: db.prepare<[string], number>('SELECT 1 FROM rooms WHERE id = ?').pluck(),
      deleteMembers: db.prepare('DELETE FROM room_members WHERE room_id = ?'),
      deleteMessages: db.prepare(`DELETE FROM messages WHERE room_key = ${roomKeyOf()}`),
      deleteCursors: db.prepare('DELETE FROM member_cursors WHERE room_id = ?'),
      deleteReadMarkers: db.prepare('DELETE FROM read_markers WHERE room_id = ?'),
      deleteSearchProgress: db.prepare('DELETE FROM search_progress WHERE room_id = ?'),
      deleteRoom: db.prepare('DELETE FROM rooms WHERE id = ?'),
    };
  }

  run(write: RoomWrite): boolean {
    return guardSqlite(() => this.apply(write));
  }

  private apply(w: RoomWrite): boolean {
    switch (w.kind) {
      case 'createRoom':
        this.stmt.insertRoom.run({ ...w.room, isPrivate: w.room.isPrivate ? 1 : 0, locked: w.room.locked ? 1 : 0, lobby: w.room.lobby ? 1 : 0 });
        return true;
      case 'updateRoom':
        return this.updateRoom(w.roomId, w.patch);
      case 'deleteRoom':
        return this.db.transaction(() => {
          if (this.stmt.roomExists.get(w.roomId) === undefined) return false;
          this.stmt.deleteMembers.run(w.roomId);
          this.stmt.deleteMessages.run(w.roomId);
          this.stmt.deleteCursors.run(w.roomId);
          this.stmt.deleteReadMarkers.run(w.roomId);
          // The messages' index entries went with them (a trigger); a room made later under
          // this id starts unindexed.
          this.stmt.deleteSearchProgress.run(w.roomId);
          this.stmt.deleteRoom.run(w.roomId);
          return true;
        }).immediate();
      case 'addMember':
        return this.stmt.addMember.run(w.roomId, w.userId, w.addedAt, w.role, w.name).changes > 0;
      case 'setRole':
        return this.stmt.setRole.run(w.roomId, w.userId, w.addedAt, w.role).changes > 0;
      case 'removeMember':
        return this.db.transaction(() => {
          const was = this.stmt.wasMember.get(w.roomId, w.userId) !== undefined;
          if (w.ban) this.stmt.ban.run(w.roomId, w.userId, w.addedAt);
          else this.stmt.removeMember.run(w.roomId, w.userId);
          return was;
        }).immediate();
    }
  }

  private updateRoom(roomId: string, patch: RoomPatch): boolean {
    const sets: string[] = [];
    const values: (string | number)[] = [];
    for (const [field, column] of Object.entries(PATCH_COLUMNS)) {
      const value = patch[field as keyof RoomPatch];
      if (value === undefined) continue;
      sets.push(`${column} = ?`);
      values.push(typeof value === 'boolean' ? (value ? 1 : 0) : value);
    }
    if (sets.length === 0) return this.stmt.roomExists.get(roomId) !== undefined;
    return this.db.prepare(`UPDATE rooms SET ${sets.join(', ')} WHERE id = ?`).run(...values, roomId).changes > 0;
  }
}
