import type Database from 'better-sqlite3';
import type { Room, RoomRole } from '../../protocol/models.js';
import type { IdPage, Membership } from '../../ports/store.js';
import { guardSqlite } from './sqlite-connection.js';
import { toMembership, toRoom, type MemberRow, type RoomRow } from './sqlite-rows.js';

const MEMBER_COLUMNS = 'user_id, name, role, added_at, banned';

/** Reads of rooms and memberships, on the request thread (a WAL reader never waits for the writer). */
export class SqliteRoomReads {
  private readonly stmt;

  constructor(db: Database.Database) {
    this.stmt = {
      getRoom: db.prepare<[string], RoomRow>('SELECT * FROM rooms WHERE id = ?'),
      getMember: db.prepare<[string, string], MemberRow>(`SELECT ${MEMBER_COLUMNS} FROM room_members WHERE room_id = ? AND user_id = ?`),
      members: db.prepare<[string, string, number], MemberRow>(
        `SELECT ${MEMBER_COLUMNS} FROM room_members WHERE room_id = ? AND banned = 0 AND user_id > ? ORDER BY user_id LIMIT ?`,
      ),
      roomsOf: db.prepare<[string, string, number], RoomRow & { role: RoomRole }>(
        `SELECT r.*, m.role AS role FROM room_members m JOIN rooms r ON r.id = m.room_id
         WHERE m.user_id = ? AND m.banned = 0 AND m.room_id > ? ORDER BY m.room_id LIMIT ?`,
      ),
    };
  }

  getRoom(roomId: string): Room | null {
    const row = guardSqlite(() => this.stmt.getRoom.get(roomId));
    return row ? toRoom(row) : null;
  }

  getMember(roomId: string, userId: string): Membership | null {
    const row = guardSqlite(() => this.stmt.getMember.get(roomId, userId));
    return row ? toMembership(row) : null;
  }

  listMembers(roomId: string, page: IdPage): Membership[] {
    return guardSqlite(() => this.stmt.members.all(roomId, page.after ?? '', page.limit)).map(toMembership);
  }

  listRoomsOf(userId: string, page: IdPage): Array<Room & { role: RoomRole }> {
    return guardSqlite(() => this.stmt.roomsOf.all(userId, page.after ?? '', page.limit)).map((row) => ({ ...toRoom(row), role: row.role }));
  }
}
