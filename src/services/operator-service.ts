import { roomNotFound } from '../domain/app-error.js';
import type { OperatorMetrics } from '../ports/metrics.js';
import type { Logger } from '../ports/logger.js';
import type { RoomStore } from '../ports/store.js';
import type { TokenRevocations } from '../ports/token-revocations.js';
import type { Message } from '../protocol/models.js';
import type { ChatService } from './chat-service.js';

/** A user online in a room: on /chat (no peerId) or in its call (peerId: the /rtc socket). */
export interface OnlineParticipant {
  userId: string;
  name: string;
  nodeId: string;
  peerId?: string;
}

/** The sockets of the whole cluster, as the operator API sees them (transport/socket/cluster-sockets.ts). */
export interface OnlineSockets {
  /** Users online in a room, on every node. */
  inRoom(roomId: string): Promise<OnlineParticipant[]>;
  /** Closes every socket of a user on every node (both namespaces); resolves with how many. */
  disconnectUser(userId: string): Promise<number>;
}

/** The operator API's use cases (ADMIN_TOKEN): who is online, system messages, disconnect and revoke. */
export class OperatorService {
  constructor(
    private readonly deps: {
      rooms: Pick<RoomStore, 'getRoom'>;
      chat: ChatService;
      sockets: OnlineSockets;
      revocations: TokenRevocations;
      metrics: OperatorMetrics;
      logger: Logger;
    },
  ) {}

  async participants(roomId: string): Promise<OnlineParticipant[]> {
    await this.requireRoom(roomId);
    return this.deps.sockets.inRoom(roomId);
  }

  async systemMessage(roomId: string, text: string): Promise<Message> {
    await this.requireRoom(roomId);
    const message = await this.deps.chat.sendSystem(roomId, text);
    this.deps.metrics.systemMessageSent();
    this.deps.logger.info('operator message sent', { roomId, seq: message.seq });
    return message;
  }

  /**
   * Closes the user's sockets everywhere; with `revoke`, first refuses every token of the
   * user issued up to this second, so that a client reconnecting at once is refused too.
   */
  async disconnect(userId: string, revoke: boolean): Promise<number> {
    if (revoke) {
      await this.deps.revocations.revoke(userId, Math.floor(Date.now() / 1000));
      this.deps.metrics.tokensRevoked();
    }
    const disconnected = await this.deps.sockets.disconnectUser(userId);
    this.deps.metrics.operatorDisconnect(disconnected);
    this.deps.logger.info('operator disconnected a user', { userId, disconnected, revoked: revoke });
    return disconnected;
  }

  private async requireRoom(roomId: string): Promise<void> {
    if (!(await this.deps.rooms.getRoom(roomId))) throw roomNotFound(roomId);
  }
}
