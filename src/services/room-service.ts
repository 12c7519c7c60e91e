import { randomUUID } from 'node:crypto';
import { AppError, forbidden, roomNotFound } from '../domain/app-error.js';
import type { Participant, Room } from '../protocol/models.js';
import type { Presence } from '../ports/realtime.js';
import type { RoomStore } from '../ports/store.js';
import type { AuthUser } from './token-service.js';

export interface CreateRoomInput {
  name: string;
  isPrivate?: boolean;
  maxParticipants?: number;
}

/** Rooms, membership and the access rule: public rooms are open, private ones for members. */
export class RoomService {
  constructor(
    private readonly rooms: RoomStore,
    private readonly presence: Presence,
    private readonly maxCallParticipants: number,
    /** The room's newest seq where it leads the store (cluster mode: Redis's counter). */
    private readonly liveSeq: (roomId: string) => Promise<number | null> = async () => null,
  ) {}

  async create(user: AuthUser, input: CreateRoomInput): Promise<Room> {
    const room = await this.rooms.createRoom({
      id: randomUUID(),
      name: input.name,
      isPrivate: input.isPrivate ?? false,
      maxParticipants: Math.min(input.maxParticipants ?? this.maxCallParticipants, this.maxCallParticipants),
      createdBy: user.id,
      createdAt: new Date().toISOString(),
    });
    // The creator is a member, so a private room is usable by the one who made it.
    await this.rooms.addMember(room.id, user.id);
    return room;
  }

  /** The room if the user may use it; ROOM_NOT_FOUND or FORBIDDEN otherwise. */
  async requireAccess(user: AuthUser, roomId: string): Promise<Room> {
    const room = await this.rooms.getRoom(roomId);
    if (!room) throw roomNotFound(roomId);
    if (room.isPrivate && room.createdBy !== user.id && !(await this.rooms.isMember(roomId, user.id))) {
      throw forbidden('this room is private and you are not a member');
    }
    return room;
  }

  async details(user: AuthUser, roomId: string): Promise<Room & { participants: Participant[] }> {
    const room = await this.withLiveSeq(await this.requireAccess(user, roomId));
    return { ...room, participants: await this.presence.list(roomId) };
  }

  /** The room with `lastSeq` from the sequence source that leads (never behind the store). */
  async withLiveSeq(room: Room): Promise<Room> {
    const live = await this.liveSeq(room.id).catch(() => null);
    return live !== null && live > room.lastSeq ? { ...room, lastSeq: live } : room;
  }

  async addMember(user: AuthUser, roomId: string, userId: string): Promise<void> {
    const room = await this.rooms.getRoom(roomId);
    if (!room) throw roomNotFound(roomId);
    if (room.createdBy !== user.id) throw new AppError('FORBIDDEN', 'only the room creator can add members');
    await this.rooms.addMember(roomId, userId);
  }
}
