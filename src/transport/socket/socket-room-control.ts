import type { Logger } from '../../ports/logger.js';
import type { Lobby } from '../../ports/lobby.js';
import type { RoomControl } from '../../ports/room-control.js';
import type { RoomControlCommand } from '../../protocol/events.js';
import type { CallActions } from './call-moderation.js';
import type { LocalChatActions } from './chat-namespace.js';
import type { LocalCallActions } from './rtc-namespace.js';
import type { ChatNamespace } from './socket-types.js';

export interface RoomControlTargets {
  chatNsp: ChatNamespace;
  chat: LocalChatActions;
  calls: LocalCallActions;
  /** May the user stay in the room (a member, not banned)? Asked when a room becomes private. */
  mayStay(roomId: string, userId: string): Promise<boolean>;
}

/**
 * Carries a change to a room to the sockets it concerns, on every node: this node applies it
 * to its own sockets, and in cluster mode tells the others through the adapter
 * (`serverSideEmit`), which apply it to theirs. A node that misses the word (cut off from
 * Redis at that moment) still refuses what the store refuses on the next access check, and
 * a session recovered later is checked again (see the /chat namespace).
 */
export class SocketRoomControl implements RoomControl, CallActions {
  private targets: RoomControlTargets | null = null;

  constructor(
    private readonly clustered: boolean,
    private readonly lobby: Lobby,
    private readonly logger: Logger,
  ) {}

  attach(targets: RoomControlTargets): void {
    this.targets = targets;
    targets.chatNsp.on('room:control', (command) => {
      void this.apply(command).catch((err: unknown) => this.logger.warn('room control from another node failed', { err, kind: command.kind }));
    });
  }

  roomClosed(roomId: string): Promise<void> {
    return this.broadcast({ kind: 'room-closed', roomId });
  }

  userRemoved(roomId: string, userId: string): Promise<void> {
    return this.broadcast({ kind: 'user-removed', roomId, userId });
  }

  accessNarrowed(roomId: string): Promise<void> {
    return this.broadcast({ kind: 'access-narrowed', roomId });
  }

  kickPeer(roomId: string, peerId: string, by: string): Promise<void> {
    return this.broadcast({ kind: 'peer-kicked', roomId, peerId, by });
  }

  endCall(roomId: string, by: string): Promise<void> {
    return this.broadcast({ kind: 'call-ended', roomId, by });
  }

  private async broadcast(command: RoomControlCommand): Promise<void> {
    if (this.clustered) this.targets?.chatNsp.serverSideEmit('room:control', command);
    await this.apply(command);
  }

  private async apply(command: RoomControlCommand): Promise<void> {
    const t = this.targets;
    if (!t) return;
    switch (command.kind) {
      case 'room-closed':
        await t.chat.closeRoom(command.roomId);
        await t.calls.endCall(command.roomId, 'room-deleted');
        await this.lobby.clear(command.roomId).catch(() => undefined);
        return;
      case 'user-removed':
        await t.chat.removeUser(command.roomId, command.userId);
        await t.calls.removeUser(command.roomId, command.userId);
        return;
      case 'access-narrowed': {
        const mayStay = (userId: string) => t.mayStay(command.roomId, userId);
        await t.chat.removeUnless(command.roomId, mayStay);
        await t.calls.removeUnless(command.roomId, mayStay);
        return;
      }
      case 'peer-kicked':
        return t.calls.kickPeer(command.roomId, command.peerId, command.by);
      case 'call-ended':
        return t.calls.endCall(command.roomId, 'ended', command.by);
    }
  }
}
