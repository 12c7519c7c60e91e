import type { Message } from '../../protocol/models.js';
import type { FanOutBacklog, LiveDelivery } from '../../ports/realtime.js';
import type { ServerMetrics } from '../../ports/metrics.js';
import { chatRoomKey, type ChatNamespace } from './socket-types.js';

/** Fans a stored message out to the room's /chat sockets, on every node through the adapter. */
export class SocketLiveDelivery implements LiveDelivery {
  private nsp: ChatNamespace | null = null;

  constructor(
    private readonly metrics: ServerMetrics,
    /** Cluster mode: the adapter's unsettled publishes (none in embedded mode). */
    private readonly backlog: FanOutBacklog | null = null,
  ) {}

  /** Bound once the Socket.IO server exists (it is built after the services). */
  attach(nsp: ChatNamespace): void {
    this.nsp = nsp;
  }

  deliverMessage(message: Message, exceptSocketId?: string): Promise<void> | null {
    if (!this.nsp) return null;
    const target = this.nsp.to(chatRoomKey(message.roomId));
    // The adapter starts its publish within this emit, so the backlog below counts it.
    (exceptSocketId ? target.except(exceptSocketId) : target).emit('chat:message', message);
    this.metrics.messageDelivered();
    return this.backlog?.whenBelow() ?? null;
  }

  deliverUpdate(message: Message): void {
    // The sender's sockets too: its other devices need it, and the ack has it anyway.
    this.nsp?.to(chatRoomKey(message.roomId)).emit('chat:message-updated', { message });
  }
}
