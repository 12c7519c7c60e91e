import { randomUUID } from 'node:crypto';
import { AppError, forbidden, roomNotFound } from '../domain/app-error.js';
import type { Participant, Room } from '../protocol/models.js';
import type { Presence } from '../ports/realtime.js';
import type { MessageStore, RoomStore } from '../ports/store.js';
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
    /** The owner of each room's sequence (cluster mode: Redis's counter leads the store). */
    private readonly sequence: Pick<MessageStore, 'lastSeq'>,
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
    const room = await this.withCurrentSeq(await this.requireAccess(user, roomId));
    return { ...room, participants: await this.presence.list(roomId) };
  }

  /** The room with `lastSeq` from the owner of its sequence (never behind what was read with the room). */
  async withCurrentSeq(room: Room): Promise<Room> {
    const current = await this.sequence.lastSeq(room.id).catch(() => room.lastSeq);
    return current > room.lastSeq ? { ...room, lastSeq: current } : room;
  }

  async addMember(user: AuthUser, roomId: string, userId: string): Promise<void> {
    const room = await this.rooms.getRoom(roomId);
    if (!room) throw roomNotFound(roomId);
    if (room.createdBy !== user.id) throw new AppError('FORBIDDEN', 'only the room creator can add members');
    await this.rooms.addMember(roomId, userId);
  }
}
