import { randomUUID } from 'node:crypto';
import { AppError, forbidden, roomNotFound } from '../domain/app-error.js';
import type { Member, Participant, Room, RoomRole } from '../protocol/models.js';
import type { Presence } from '../ports/realtime.js';
import type { RoomControl } from '../ports/room-control.js';
import type { MessageStore, RoomPatch, RoomStore } from '../ports/store.js';
import type { WebhookPublisher } from '../ports/webhooks.js';
import { unreadCount, type ReadMarkers } from './read-markers.js';
import type { AuthUser } from './token-service.js';

export interface CreateRoomInput {
  name: string;
  isPrivate?: boolean;
  maxParticipants?: number;
  locked?: boolean;
  lobby?: boolean;
}

/** A room as one user may use it: with their role (null: a visitor of a public room). */
export interface RoomAccess {
  room: Room;
  role: RoomRole | null;
}

export interface Paged<T> {
  items: T[];
  nextCursor: string | null;
}

export const isModerator = (role: RoomRole | null): boolean => role === 'owner' || role === 'moderator';

/** Keyset cursors are ids; they travel base64url-encoded so that clients treat them as opaque. */
const encodeCursor = (id: string) => Buffer.from(id, 'utf8').toString('base64url');
function decodeCursor(cursor: string | undefined): string | undefined {
  if (cursor === undefined) return undefined;
  const id = Buffer.from(cursor, 'base64url').toString('utf8');
  if (id.length === 0 || encodeCursor(id) !== cursor) throw new AppError('VALIDATION_FAILED', 'cursor is not one this server gave out');
  return id;
}

/**
 * Rooms, membership, roles and the access rule: a public room is open to all but the users
 * banned from it, a private one to its members. Changes that take access away are carried to
 * every socket on every node by `control` once the store holds them.
 */
export class RoomService {
  constructor(
    private readonly rooms: RoomStore,
    private readonly presence: Presence,
    private readonly maxCallParticipants: number,
    /** The owner of each room's sequence (cluster mode: Redis's counter leads the store). */
    private readonly sequence: Pick<MessageStore, 'lastSeq' | 'lastRev'>,
    private readonly control: RoomControl,
    private readonly webhooks: WebhookPublisher,
    /** For the unread count of each room in "my rooms". */
    private readonly markers: Pick<ReadMarkers, 'markersOf'>,
  ) {}

  async create(user: AuthUser, input: CreateRoomInput): Promise<Room> {
    const room = await this.rooms.createRoom({
      id: randomUUID(),
      name: input.name,
      isPrivate: input.isPrivate ?? false,
      maxParticipants: Math.min(input.maxParticipants ?? this.maxCallParticipants, this.maxCallParticipants),
      createdBy: user.id,
      createdAt: new Date().toISOString(),
      locked: input.locked ?? false,
      lobby: input.lobby ?? false,
    });
    // The creator is the owner, so a private room is usable by the one who made it.
    await this.rooms.addMember(room.id, user.id, { role: 'owner', name: user.name });
    await this.webhooks.publish('room.created', { room });
    return room;
  }

  /**
   * The room and the user's role if they may use it; ROOM_NOT_FOUND or FORBIDDEN otherwise.
   * `join` records a visitor of a public room as a member (it then lists among their rooms).
   */
  async access(user: AuthUser, roomId: string, join = false): Promise<RoomAccess> {
    const room = await this.rooms.getRoom(roomId);
    if (!room) throw roomNotFound(roomId);
    const row = await this.rooms.getMember(roomId, user.id);
    if (row?.banned) throw forbidden('you are banned from this room');
    // Rooms made before roles kept only their creator.
    const role = room.createdBy === user.id ? 'owner' : (row?.role ?? null);
    if (role === null && room.isPrivate) throw forbidden('this room is private and you are not a member');
    if (join && (row === null || row.name !== user.name)) {
      // Best effort: a store that cannot record it costs the room its place in "my rooms", not the join.
      await this.rooms.addMember(roomId, user.id, { name: user.name }).catch(() => undefined);
    }
    return { room, role };
  }

  /** The room if the user may use it; ROOM_NOT_FOUND or FORBIDDEN otherwise. */
  async requireAccess(user: AuthUser, roomId: string, join = false): Promise<Room> {
    return (await this.access(user, roomId, join)).room;
  }

  /** Owner or moderator of the room, else FORBIDDEN. */
  async requireModerator(user: AuthUser, roomId: string): Promise<RoomAccess> {
    const access = await this.access(user, roomId);
    if (!isModerator(access.role)) throw forbidden('only the owner or a moderator of this room can do this');
    return access;
  }

  async details(user: AuthUser, roomId: string): Promise<Room & { role: RoomRole | null; participants: Participant[] }> {
    const { room, role } = await this.access(user, roomId);
    return { ...(await this.withCurrentSeq(room)), role, participants: await this.presence.list(roomId) };
  }

  /** The room with `lastSeq` from the owner of its sequence (never behind what was read with the room). */
  async withCurrentSeq(room: Room): Promise<Room> {
    const [seq, rev] = await Promise.all([
      this.sequence.lastSeq(room.id).catch(() => room.lastSeq),
      this.sequence.lastRev(room.id).catch(() => room.lastRev),
    ]);
    return seq > room.lastSeq || rev > room.lastRev ? { ...room, lastSeq: Math.max(seq, room.lastSeq), lastRev: Math.max(rev, room.lastRev) } : room;
  }

  /** Rooms I created, was added to or joined, each with my role and how many messages I have not read. */
  async listMine(user: AuthUser, limit: number, cursor?: string): Promise<Paged<Room & { role: RoomRole; unread: number }>> {
    const rooms = await this.rooms.listRoomsOf(user.id, { limit: limit + 1, after: decodeCursor(cursor) });
    const mine = rooms.slice(0, limit);
    const [current, markers] = await Promise.all([Promise.all(mine.map((r) => this.withCurrentSeq(r))), this.markers.markersOf(user.id, mine.map((r) => r.id))]);
    const page = current.map((r, i) => ({ ...r, role: mine[i]!.role, unread: unreadCount(r.lastSeq, markers.get(r.id) ?? 0) }));
    return { items: page, nextCursor: rooms.length > limit ? encodeCursor(page.at(-1)!.id) : null };
  }

  async update(user: AuthUser, roomId: string, patch: RoomPatch): Promise<Room> {
    const { room: before } = await this.requireModerator(user, roomId);
    const changes = { ...patch };
    if (changes.maxParticipants !== undefined) changes.maxParticipants = Math.min(changes.maxParticipants, this.maxCallParticipants);
    const room = await this.rooms.updateRoom(roomId, changes);
    if (!room) throw roomNotFound(roomId);
    // Made private: whoever is online without being a member is out, on every node.
    if (room.isPrivate && !before.isPrivate) await this.control.accessNarrowed(roomId);
    await this.webhooks.publish('room.updated', { roomId, room, by: user.id, changes: patch });
    return this.withCurrentSeq(room);
  }

  async delete(user: AuthUser, roomId: string): Promise<void> {
    const { role } = await this.access(user, roomId);
    if (role !== 'owner') throw forbidden('only the owner can delete this room');
    if (!(await this.rooms.deleteRoom(roomId))) throw roomNotFound(roomId);
    await this.control.roomClosed(roomId);
    await this.webhooks.publish('room.deleted', { roomId, by: user.id });
  }

  async members(user: AuthUser, roomId: string, limit: number, cursor?: string): Promise<Paged<Member>> {
    const { role } = await this.access(user, roomId);
    if (role === null) throw forbidden('only members of this room can list its members');
    const rows = await this.rooms.listMembers(roomId, { limit: limit + 1, after: decodeCursor(cursor) });
    const items = rows.slice(0, limit).map(({ banned: _banned, ...member }) => member);
    return { items, nextCursor: rows.length > limit ? encodeCursor(items.at(-1)!.userId) : null };
  }

  /** Owner or moderator adds a member (a banned user stays banned: lift a ban with setRole). */
  async addMember(user: AuthUser, roomId: string, userId: string): Promise<void> {
    await this.requireModerator(user, roomId);
    await this.rooms.addMember(roomId, userId);
    await this.webhooks.publish('room.updated', { roomId, by: user.id, member: { userId, action: 'added' } });
  }

  /** The owner makes a user a moderator or a member (adding them if needed, lifting a ban). */
  async setRole(user: AuthUser, roomId: string, userId: string, role: Exclude<RoomRole, 'owner'>): Promise<Member> {
    const { room, role: mine } = await this.access(user, roomId);
    if (mine !== 'owner') throw forbidden('only the owner can change roles');
    if (userId === room.createdBy) throw new AppError('CONFLICT', "the owner's role cannot change");
    await this.rooms.setRole(roomId, userId, role);
    const row = await this.rooms.getMember(roomId, userId);
    await this.webhooks.publish('room.updated', { roomId, by: user.id, member: { userId, action: 'role', role } });
    return { userId, name: row?.name ?? userId, role, addedAt: row?.addedAt ?? new Date().toISOString() };
  }

  /**
   * Ends a membership (with `ban`, for good until a setRole): owner or moderator, or the user
   * themself (leaving, not banning). The owner cannot be removed. The user's sockets leave
   * the room and its call on every node.
   */
  async removeMember(user: AuthUser, roomId: string, userId: string, ban: boolean): Promise<void> {
    const { room, role } = await this.access(user, roomId);
    const self = userId === user.id;
    if (!isModerator(role) && !(self && !ban)) throw forbidden('only the owner or a moderator can remove others or ban');
    if (userId === room.createdBy) throw forbidden('the owner of a room cannot be removed');
    await this.rooms.removeMember(roomId, userId, ban);
    await this.control.userRemoved(roomId, userId);
    await this.webhooks.publish('room.updated', { roomId, by: user.id, member: { userId, action: ban ? 'banned' : 'removed' } });
  }
}
