import type { Participant } from '../../protocol/models.js';
import type { Presence } from '../../ports/realtime.js';

/** Presence for one process: roomId → socketId → participant. */
export class MemoryPresence implements Presence {
  private readonly rooms = new Map<string, Map<string, Participant>>();

  async join(roomId: string, socketId: string, participant: Participant): Promise<boolean> {
    let sockets = this.rooms.get(roomId);
    if (!sockets) this.rooms.set(roomId, (sockets = new Map()));
    const first = ![...sockets.values()].some((p) => p.userId === participant.userId);
    sockets.set(socketId, participant);
    return first;
  }

  async leave(roomId: string, socketId: string): Promise<Participant | null> {
    const sockets = this.rooms.get(roomId);
    const participant = sockets?.get(socketId);
    if (!sockets || !participant) return null;
    sockets.delete(socketId);
    if (sockets.size === 0) this.rooms.delete(roomId);
    const stillThere = [...sockets.values()].some((p) => p.userId === participant.userId);
    return stillThere ? null : participant;
  }

  async list(roomId: string): Promise<Participant[]> {
    const byUser = new Map<string, Participant>();
    for (const p of this.rooms.get(roomId)?.values() ?? []) byUser.set(p.userId, p);
    return [...byUser.values()];
  }
}
