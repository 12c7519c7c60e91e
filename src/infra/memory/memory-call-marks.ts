import { randomUUID } from 'node:crypto';
import type { AwayUser, CallMarks } from '../../ports/call-marks.js';

const key = (roomId: string, userId: string) => `${roomId}\n${userId}`;

/** Call marks for one process. */
export class MemoryCallMarks implements CallMarks {
  private readonly running = new Map<string, string>();
  /** roomId → userId → participation id. */
  private readonly participants = new Map<string, Map<string, string>>();
  private readonly away = new Map<string, { user: AwayUser; dueAt: number }>();

  async startCall(roomId: string): Promise<string | null> {
    if (this.running.has(roomId)) return null;
    const id = randomUUID();
    this.running.set(roomId, id);
    return id;
  }

  async endCall(roomId: string): Promise<string | null> {
    const id = this.running.get(roomId) ?? null;
    this.running.delete(roomId);
    return id;
  }

  async enter(roomId: string, userId: string): Promise<string | null> {
    let room = this.participants.get(roomId);
    if (!room) this.participants.set(roomId, (room = new Map()));
    if (room.has(userId)) return null;
    const id = randomUUID();
    room.set(userId, id);
    return id;
  }

  async participation(roomId: string, userId: string): Promise<string | null> {
    return this.participants.get(roomId)?.get(userId) ?? null;
  }

  async exit(roomId: string, userId: string): Promise<number> {
    const room = this.participants.get(roomId);
    room?.delete(userId);
    if (room?.size === 0) this.participants.delete(roomId);
    return room?.size ?? 0;
  }

  async markAway(user: AwayUser, dueAt: number): Promise<void> {
    this.away.set(key(user.roomId, user.userId), { user, dueAt });
  }

  async comeBack(roomId: string, userId: string): Promise<boolean> {
    return this.away.delete(key(roomId, userId));
  }

  async takeDue(now: number, limit: number): Promise<AwayUser[]> {
    const due: AwayUser[] = [];
    for (const [k, mark] of this.away) {
      if (due.length >= limit) break;
      if (mark.dueAt > now) continue;
      this.away.delete(k);
      due.push(mark.user);
    }
    return due;
  }
}
