import { AppError } from '../../domain/app-error.js';
import type { Logger } from '../../ports/logger.js';
import type { Presence, RateLimiter } from '../../ports/realtime.js';
import type { Schemas } from '../../protocol/schemas.js';
import type { ChatService } from '../../services/chat-service.js';
import type { Redelivery } from '../../services/redelivery.js';
import type { Message } from '../../protocol/models.js';
import type { RoomService } from '../../services/room-service.js';
import type { Metrics } from '../../infra/metrics.js';
import { defineHandler } from './define-handler.js';
import { guardEvents } from './guard-events.js';
import { chatRoomKey, type ChatNamespace, type ChatSocket } from './socket-types.js';

export interface ChatNamespaceDeps {
  logger: Logger;
  metrics: Metrics;
  schemas: Schemas;
  rooms: RoomService;
  chat: ChatService;
  presence: Presence;
  eventLimiter: RateLimiter;
  messageLimiter: RateLimiter;
  nodeId: string;
  recoveryWindowMs: number;
  redelivery: Redelivery;
}

const EVENTS = new Set(['room:join', 'room:leave', 'chat:send', 'chat:history', 'chat:typing', 'chat:ack']);

/** `/chat`: rooms, presence, chat with history, typing and delivery cursors. */
export function registerChatNamespace(nsp: ChatNamespace, deps: ChatNamespaceDeps): void {
  nsp.on('connection', (socket) => {
    void onConnection(socket, deps).catch((err: unknown) => deps.logger.error('chat connection setup failed', { err }));
  });
}

async function onConnection(socket: ChatSocket, deps: ChatNamespaceDeps): Promise<void> {
  const { presence, rooms, chat } = deps;
  const user = socket.data.user;
  deps.metrics.socketConnections.inc({ namespace: '/chat' });
  if (!socket.recovered) {
    socket.data.chatRooms = [];
    socket.data.allowedRooms = [];
  }
  guardEvents(socket, EVENTS, deps.eventLimiter);
  const ctx = { logger: deps.logger, metrics: deps.metrics };

  /** Access is checked against the store once per socket and room, then cached. */
  const requireAccess = async (roomId: string) => {
    if (socket.data.allowedRooms.includes(roomId)) return;
    await rooms.requireAccess(user, roomId);
    socket.data.allowedRooms.push(roomId);
  };
  const requireJoined = (roomId: string) => {
    if (!socket.data.chatRooms.includes(roomId)) throw new AppError('NOT_IN_ROOM', 'join the room first (room:join)');
  };
  const announceJoin = async (roomId: string) => {
    const participant = { userId: user.id, name: user.name };
    if (await presence.join(roomId, socket.id, participant)) {
      socket.to(chatRoomKey(roomId)).emit('room:presence', { roomId, joined: participant });
    }
  };
  const announceLeave = async (roomId: string) => {
    const left = await presence.leave(roomId, socket.id);
    if (left) socket.to(chatRoomKey(roomId)).emit('room:presence', { roomId, left });
  };

  defineHandler(ctx, socket, 'room:join', deps.schemas.roomJoin, async ({ roomId, lastSeq }) => {
    const room = await rooms.withLiveSeq(await rooms.requireAccess(user, roomId));
    if (!socket.data.allowedRooms.includes(roomId)) socket.data.allowedRooms.push(roomId);
    // Join the broadcast room before reading history: a message stored meanwhile arrives
    // live (maybe also in the page; clients dedupe by seq) and never falls in between.
    await socket.join(chatRoomKey(roomId));
    if (!socket.data.chatRooms.includes(roomId)) socket.data.chatRooms.push(roomId);
    await announceJoin(roomId);
    const { messages, complete } = await chat.catchUp(user, roomId, lastSeq);
    const lastStored = messages.at(-1)?.seq ?? 0;
    return {
      room: { ...room, lastSeq: Math.max(room.lastSeq, lastStored) },
      participants: await presence.list(roomId),
      messages,
      complete,
    };
  });

  const redeliveryTarget = {
    id: socket.id,
    resend: (message: Message) => socket.emit('chat:message', message),
    resync: (roomId: string, fromSeq: number) => socket.emit('chat:resync', { roomId, fromSeq }),
  };

  defineHandler(ctx, socket, 'room:leave', deps.schemas.roomLeave, async ({ roomId }) => {
    requireJoined(roomId);
    deps.redelivery.forget(socket.id, roomId);
    socket.data.chatRooms = socket.data.chatRooms.filter((r) => r !== roomId);
    await socket.leave(chatRoomKey(roomId));
    await announceLeave(roomId);
  });

  defineHandler(ctx, socket, 'chat:send', deps.schemas.chatSend, async (input) => {
    requireJoined(input.roomId);
    const budget = await deps.messageLimiter.consume(user.id);
    if (!budget.allowed) {
      throw new AppError('RATE_LIMITED', 'too many messages; slow down', undefined, budget.retryAfterMs);
    }
    const started = process.hrtime.bigint();
    const { message } = await chat.send(user, input, socket.id);
    deps.metrics.ackLatency.observe(Number(process.hrtime.bigint() - started) / 1e9);
    return { message };
  });

  defineHandler(ctx, socket, 'chat:history', deps.schemas.chatHistory, async ({ roomId, ...query }) => {
    await requireAccess(roomId);
    return chat.history(roomId, query);
  });

  defineHandler(ctx, socket, 'chat:typing', deps.schemas.chatTyping, async ({ roomId, typing }) => {
    requireJoined(roomId);
    // Volatile: typing is not worth replaying after a reconnect.
    socket.to(chatRoomKey(roomId)).volatile.emit('chat:typing', { roomId, userId: user.id, typing });
  });

  defineHandler(ctx, socket, 'chat:ack', deps.schemas.chatAck, async ({ roomId, seq }) => {
    await requireAccess(roomId);
    await chat.recordDelivered(user, roomId, seq);
    if (socket.data.chatRooms.includes(roomId)) deps.redelivery.acked(redeliveryTarget, roomId, seq);
  });

  socket.on('disconnect', () => {
    deps.metrics.socketConnections.dec({ namespace: '/chat' });
    deps.redelivery.forget(socket.id);
    for (const roomId of socket.data.chatRooms) {
      void announceLeave(roomId).catch((err: unknown) => deps.logger.warn('presence leave failed', { err, roomId }));
    }
  });

  // A recovered session is back in its Socket.IO rooms; make presence match.
  if (socket.recovered) for (const roomId of socket.data.chatRooms) await announceJoin(roomId);
  // Every client gets at least one event, hence a recovery offset for the next reconnect.
  socket.emit('hello', { userId: user.id, name: user.name, nodeId: deps.nodeId, recoveryWindowMs: deps.recoveryWindowMs });
}
