import type { LobbyRequest } from '../../ports/lobby.js';
import type { Logger } from '../../ports/logger.js';
import type { CallService } from '../../services/call-service.js';
import { moderatorsKey, type RtcNamespace, type RtcSocket } from './socket-types.js';

interface Wait {
  request: LobbyRequest;
  timer: NodeJS.Timeout;
}

/**
 * The lobby as this node's waiting sockets see it: a knock reaches the moderators in the
 * call on any node; the node of the waiting socket keeps its timeout, and withdraws its
 * knocks when it disconnects. An answer may come from any node: whoever takes the request
 * from the shared lobby first (answer, timeout, withdrawal) decides, once.
 */
export class LobbyWaits {
  private readonly waits = new Map<string, Wait>();

  constructor(
    private readonly nsp: RtcNamespace,
    private readonly calls: CallService,
    private readonly logger: Logger,
  ) {}

  async knock(socket: RtcSocket, roomId: string): Promise<LobbyRequest> {
    const request = await this.calls.knock(socket.data.user, roomId, socket.id);
    const { requestId, userId, name } = request;
    const timer = setTimeout(() => void this.expire(requestId), this.calls.lobbyTimeoutMs);
    timer.unref();
    this.waits.set(requestId, { request, timer });
    this.nsp.to(moderatorsKey(roomId)).emit('call:knock', { roomId, requestId, userId, name });
    return request;
  }

  /** A moderator answered (on this node or another): the answer goes to the waiting socket. */
  answered(request: LobbyRequest, admit: boolean): void {
    this.forget(request.requestId);
    const { roomId } = request;
    if (admit) this.nsp.to(request.peerId).emit('call:admitted', { roomId });
    else this.nsp.to(request.peerId).emit('call:denied', { roomId, reason: 'denied' });
  }

  /** The waiting socket disconnected: its knocks are withdrawn. */
  withdrawAll(socket: RtcSocket): void {
    for (const { request } of [...this.waits.values()].filter((w) => w.request.peerId === socket.id)) void this.withdraw(request);
  }

  /** The user was removed from the room: their knocks on this node are withdrawn and denied. */
  withdrawUser(roomId: string, userId: string): void {
    for (const { request } of [...this.waits.values()].filter((w) => w.request.roomId === roomId && w.request.userId === userId)) void this.withdraw(request, true);
  }

  /** The room is gone: everyone waiting on this node is denied. */
  denyRoom(roomId: string): void {
    for (const { request } of [...this.waits.values()].filter((w) => w.request.roomId === roomId)) void this.withdraw(request, true);
  }

  private async expire(requestId: string): Promise<void> {
    const wait = this.waits.get(requestId);
    if (!wait) return;
    this.waits.delete(requestId);
    const { roomId } = wait.request;
    try {
      if (await this.calls.withdraw(roomId, requestId)) this.nsp.sockets.get(wait.request.peerId)?.emit('call:denied', { roomId, reason: 'timeout' });
    } catch (err) {
      this.logger.warn('lobby timeout could not withdraw its request', { err, roomId });
    }
  }

  private async withdraw(request: LobbyRequest, tell = false): Promise<void> {
    this.forget(request.requestId);
    try {
      const taken = await this.calls.withdraw(request.roomId, request.requestId);
      if (taken && tell) this.nsp.sockets.get(request.peerId)?.emit('call:denied', { roomId: request.roomId, reason: 'denied' });
    } catch (err) {
      this.logger.warn('lobby request could not be withdrawn', { err, roomId: request.roomId });
    }
  }

  private forget(requestId: string): void {
    const wait = this.waits.get(requestId);
    if (wait) clearTimeout(wait.timer);
    this.waits.delete(requestId);
  }
}
