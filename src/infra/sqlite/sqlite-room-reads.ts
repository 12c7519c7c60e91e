import type Database from 'better-sqlite3';
import type { Room, RoomRole } from '../../protocol/models.js';
import type { IdPage, Membership } from '../../ports/store.js';
import { guardSqlite } from './sqlite-connection.js';
import { toMembership, toRoom, type MemberRow, type RoomRow } from './sqlite-rows.js';

const MEMBER_COLUMNS = 'user_id, name, role, added_at, banned';

/** Rooms and memberships remembered while the database is unchanged (both maps together). */
const REMEMBERED_MAX = 10_000;

/**
 * Reads of rooms and memberships, on the request thread (a WAL reader never waits for the writer).
 *
 * A room and a membership read are remembered until the database changes: every call:join
 * and room:join reads both, and those two statements were a tenth of a connect's CPU. Whether
 * it changed is SQLite's `data_version`, which moves on every commit by any other connection:
 * this process's writer thread (where every room and member write goes) and any other process
 * sharing the file. So a read never returns what a commit anywhere has since changed (a ban,
 * a room made private), at the price of one `PRAGMA data_version` (~1 µs, against ~4–20 µs
 * for a read); while messages are being written the memory rarely helps, and costs that.
 */
export class SqliteRoomReads {
  private readonly stmt;
  private readonly rooms = new Map<string, Room | null>();
  private readonly members = new Map<string, Membership | null>();
  /** The `data_version` the remembered rows were read at. */
  private version: number | null = null;

  constructor(db: Database.Database) {
    this.stmt = {
      dataVersion: db.prepare<[], number>('PRAGMA data_version').pluck(),
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
    this.forgetIfChanged();
    let room = this.rooms.get(roomId);
    if (room === undefined) {
      const row = guardSqlite(() => this.stmt.getRoom.get(roomId));
      room = row ? toRoom(row) : null;
      this.remember(this.rooms, roomId, room);
    }
    // A copy: what the caller does with its room must not change the remembered one.
    return room && { ...room };
  }

  getMember(roomId: string, userId: string): Membership | null {
    this.forgetIfChanged();
    const key = `${roomId}\n${userId}`;
    let member = this.members.get(key);
    if (member === undefined) {
      const row = guardSqlite(() => this.stmt.getMember.get(roomId, userId));
      member = row ? toMembership(row) : null;
      this.remember(this.members, key, member);
    }
    return member && { ...member };
  }

  private forgetIfChanged(): void {
    const version = guardSqlite(() => this.stmt.dataVersion.get()!);
    if (version === this.version) return;
    this.rooms.clear();
    this.members.clear();
    this.version = version;
  }

  private remember<T>(map: Map<string, T>, key: string, value: T): void {
    if (this.rooms.size + this.members.size >= REMEMBERED_MAX) {
      this.rooms.clear();
      this.members.clear();
    }
    map.set(key, value);
  }

  listMembers(roomId: string, page: IdPage): Membership[] {
    return guardSqlite(() => this.stmt.members.all(roomId, page.after ?? '', page.limit)).map(toMembership);
  }

  listRoomsOf(userId: string, page: IdPage): Array<Room & { role: RoomRole }> {
    return guardSqlite(() => this.stmt.roomsOf.all(userId, page.after ?? '', page.limit)).map((row) => ({ ...toRoom(row), role: row.role }));
  }
}
