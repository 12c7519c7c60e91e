import { AppError } from '../../domain/app-error.js';
import type { Logger } from '../../ports/logger.js';
import type { Presence, RateLimiter } from '../../ports/realtime.js';
import type { Schemas } from '../../protocol/schemas.js';
import type { ChatService } from '../../services/chat-service.js';
import type { Redelivery, RedeliveryTarget } from '../../services/redelivery.js';
import type { Message } from '../../protocol/models.js';
import type { RoomService } from '../../services/room-service.js';
import type { ServerMetrics } from '../../ports/metrics.js';
import type { ChatRequests } from '../../protocol/events.js';
import { EventRouter } from './event-router.js';
import { withoutRoom, withRoom } from './room-list.js';
import { chatRoomKey, type ChatNamespace, type ChatSocket } from './socket-types.js';

export interface ChatNamespaceDeps {
  logger: Logger;
  metrics: ServerMetrics;
  schemas: Schemas;
  rooms: RoomService;
  chat: ChatService;
  presence: Presence;
  eventLimiter: RateLimiter;
  nodeId: string;
  recoveryWindowMs: number;
  redelivery: Redelivery;
}

/**
 * `/chat`: rooms, presence, chat with history, typing and delivery cursors. Everything here
 * exists once per namespace and reads the socket's state from `socket.data` (rooms joined,
 * rooms whose access was checked): an idle connection costs its data, not a set of closures.
 */
export function registerChatNamespace(nsp: ChatNamespace, deps: ChatNamespaceDeps): LocalChatActions {
  const { presence, rooms, chat, redelivery, logger, metrics } = deps;

  const joined = (socket: ChatSocket, roomId: string) => socket.data.chatRooms?.includes(roomId) === true;
  /** Access is checked against the store once per socket and room, then cached. A joined room was checked on `room:join`. */
  const requireAccess = async (socket: ChatSocket, roomId: string) => {
    if (joined(socket, roomId) || socket.data.allowedRooms?.includes(roomId)) return;
    await rooms.requireAccess(socket.data.user, roomId);
    socket.data.allowedRooms = withRoom(socket.data.allowedRooms, roomId);
  };
  const requireJoined = (socket: ChatSocket, roomId: string) => {
    if (!joined(socket, roomId)) throw new AppError('NOT_IN_ROOM', 'join the room first (room:join)');
  };
  const announceJoin = async (socket: ChatSocket, roomId: string) => {
    const participant = { userId: socket.data.user.id, name: socket.data.user.name };
    if (await presence.join(roomId, socket.id, participant)) {
      socket.to(chatRoomKey(roomId)).emit('room:presence', { roomId, joined: participant });
    }
  };
  const announceLeave = async (socket: ChatSocket, roomId: string) => {
    const left = await presence.leave(roomId, socket.id);
    if (left) socket.to(chatRoomKey(roomId)).emit('room:presence', { roomId, left });
  };

  const router = new EventRouter<ChatSocket, ChatRequests>(
    { logger, metrics, limiter: deps.eventLimiter },
    {
      'room:join': {
        schema: deps.schemas.roomJoin,
        handle: async (socket, { roomId, lastSeq, lastRev }) => {
          const joinedRoom = await chat.join(socket.data.user, roomId, { lastSeq, lastRev }, async () => {
            // Gone while its access was checked: its disconnect did not see this room, so
            // nothing may be left behind for it (presence, the Socket.IO room).
            if (socket.disconnected) throw new AppError('NOT_IN_ROOM', 'the connection closed while joining');
            await socket.join(chatRoomKey(roomId));
            socket.data.chatRooms = withRoom(socket.data.chatRooms, roomId);
            // While joined, the room's access is cached by being in chatRooms.
            if (socket.data.allowedRooms?.includes(roomId)) socket.data.allowedRooms = withoutRoom(socket.data.allowedRooms, roomId);
            await announceJoin(socket, roomId);
            // Gone while its presence was written: the leave of its disconnect may have
            // reached Redis first. A second leave is harmless.
            if (socket.disconnected) await announceLeave(socket, roomId);
          });
          return { ...joinedRoom, participants: await presence.list(roomId) };
        },
      },

      'room:leave': {
        schema: deps.schemas.roomLeave,
        handle: async (socket, { roomId }) => {
          requireJoined(socket, roomId);
          redelivery.forget(socket.id, roomId);
          socket.data.chatRooms = withoutRoom(socket.data.chatRooms, roomId);
          // Its access stays cached after the leave, as it was checked on the join.
          socket.data.allowedRooms = withRoom(socket.data.allowedRooms, roomId);
          await socket.leave(chatRoomKey(roomId));
          await announceLeave(socket, roomId);
        },
      },

      'chat:send': {
        schema: deps.schemas.chatSend,
        handle: async (socket, input) => {
          requireJoined(socket, input.roomId);
          const { message } = await chat.send(socket.data.user, input, socket.id);
          return { message };
        },
      },

      'chat:edit': {
        schema: deps.schemas.chatEdit,
        handle: async (socket, { roomId, seq, text }) => {
          requireJoined(socket, roomId);
          return { message: await chat.change(socket.data.user, roomId, seq, { kind: 'edit', text }) };
        },
      },

      'chat:delete': {
        schema: deps.schemas.chatDelete,
        handle: async (socket, { roomId, seq }) => {
          requireJoined(socket, roomId);
          return { message: await chat.change(socket.data.user, roomId, seq, { kind: 'delete' }) };
        },
      },

      'chat:react': {
        schema: deps.schemas.chatReact,
        handle: async (socket, { roomId, seq, emoji, on }) => {
          requireJoined(socket, roomId);
          return { message: await chat.change(socket.data.user, roomId, seq, { kind: 'react', emoji, on }) };
        },
      },

      'chat:history': {
        schema: deps.schemas.chatHistory,
        handle: async (socket, { roomId, ...query }) => {
          await requireAccess(socket, roomId);
          return chat.history(roomId, query);
        },
      },

      'chat:typing': {
        schema: deps.schemas.chatTyping,
        handle: async (socket, { roomId, typing }) => {
          requireJoined(socket, roomId);
          // Volatile: typing is not worth replaying after a reconnect.
          socket.to(chatRoomKey(roomId)).volatile.emit('chat:typing', { roomId, userId: socket.data.user.id, typing });
        },
      },

      'chat:ack': {
        schema: deps.schemas.chatAck,
        handle: async (socket, { roomId, seq }) => {
          await requireAccess(socket, roomId);
          await chat.recordDelivered(socket.data.user, roomId, seq);
          if (joined(socket, roomId)) redelivery.acked(new SocketRedeliveryTarget(socket), roomId, seq);
        },
      },

      'chat:read': {
        schema: deps.schemas.chatRead,
        handle: async (socket, { roomId, seq }) => {
          await requireAccess(socket, roomId);
          const userId = socket.data.user.id;
          // A receipt only for a move: a repeated or older read tells the others nothing new.
          if (await chat.markRead(socket.data.user, roomId, seq)) socket.to(chatRoomKey(roomId)).emit('chat:read', { roomId, userId, seq });
        },
      },
    },
  );

  /** One listener for every socket: Node calls it with `this` set to the socket that emits. */
  function onDisconnect(this: ChatSocket): void {
    metrics.socketClosed('/chat');
    redelivery.forget(this.id);
    for (const roomId of this.data.chatRooms ?? []) {
      void announceLeave(this, roomId).catch((err: unknown) => logger.warn('presence leave failed', { err, roomId }));
    }
  }

  /** Takes the room from the socket: joined, access cached, presence, redelivery. */
  const evict = async (socket: ChatSocket, roomId: string, event: 'room:removed' | 'room:closed') => {
    const wasJoined = joined(socket, roomId);
    const wasAllowed = socket.data.allowedRooms?.includes(roomId) === true;
    if (!wasJoined && !wasAllowed) return;
    socket.data.chatRooms = withoutRoom(socket.data.chatRooms, roomId);
    socket.data.allowedRooms = withoutRoom(socket.data.allowedRooms, roomId);
    redelivery.forget(socket.id, roomId);
    socket.emit(event, { roomId });
    if (!wasJoined) return;
    await socket.leave(chatRoomKey(roomId));
    await announceLeave(socket, roomId);
  };

  /**
   * A recovered session brings back the rooms it had, as they were when it dropped: a room
   * deleted or a membership removed meanwhile must not come back with it. Joined rooms are
   * checked again (a store read each, only on recovery); rooms merely checked are forgotten
   * and checked again when next used.
   */
  const recheckRecovered = async (socket: ChatSocket) => {
    socket.data.allowedRooms = undefined;
    for (const roomId of socket.data.chatRooms ?? []) {
      const gone = await rooms.requireAccess(socket.data.user, roomId).then(
        () => null,
        (err: unknown) => (err instanceof AppError && (err.code === 'FORBIDDEN' || err.code === 'ROOM_NOT_FOUND') ? err.code : null),
      );
      if (gone) await evict(socket, roomId, gone === 'ROOM_NOT_FOUND' ? 'room:closed' : 'room:removed');
      else await announceJoin(socket, roomId);
    }
  };

  const onConnection = async (socket: ChatSocket) => {
    metrics.socketOpened('/chat');
    router.attach(socket);
    socket.on('disconnect', onDisconnect);
    // A recovered session is back in its Socket.IO rooms; make access and presence match.
    if (socket.recovered) await recheckRecovered(socket);
    // Every client gets at least one event, hence a recovery offset for the next reconnect.
    const { user } = socket.data;
    socket.emit('hello', { userId: user.id, name: user.name, nodeId: deps.nodeId, recoveryWindowMs: deps.recoveryWindowMs });
  };

  nsp.on('connection', (socket) => {
    void onConnection(socket).catch((err: unknown) => logger.error('chat connection setup failed', { err }));
  });

  const holding = (roomId: string, userId?: string) =>
    [...nsp.sockets.values()].filter(
      (s) => (userId === undefined || s.data.user.id === userId) && (joined(s, roomId) || s.data.allowedRooms?.includes(roomId) === true),
    );
  return {
    async removeUser(roomId, userId) {
      for (const socket of holding(roomId, userId)) await evict(socket, roomId, 'room:removed');
    },
    async closeRoom(roomId) {
      for (const socket of holding(roomId)) await evict(socket, roomId, 'room:closed');
    },
    async removeUnless(roomId, mayStay) {
      const users = new Map<string, boolean>();
      for (const socket of holding(roomId)) {
        const userId = socket.data.user.id;
        if (!users.has(userId)) users.set(userId, await mayStay(userId));
        if (!users.get(userId)) await evict(socket, roomId, 'room:removed');
      }
    },
  };
}

/** What other parts of the server do to this node's /chat sockets. */
export interface LocalChatActions {
  /** The user's sockets lose the room (`room:removed`). */
  removeUser(roomId: string, userId: string): Promise<void>;
  /** Every socket loses the room (`room:closed`). */
  closeRoom(roomId: string): Promise<void>;
  /** Sockets of users for whom `mayStay` says no lose the room (asked once per user). */
  removeUnless(roomId: string, mayStay: (userId: string) => Promise<boolean>): Promise<void>;
}

/** How redelivery reaches a socket. Made when the socket acks (most never do), not per connection. */
class SocketRedeliveryTarget implements RedeliveryTarget {
  constructor(private readonly socket: ChatSocket) {}

  get id(): string {
    return this.socket.id;
  }

  resend(message: Message): void {
    this.socket.emit('chat:message', message);
  }

  resync(roomId: string, fromSeq: number): void {
    this.socket.emit('chat:resync', { roomId, fromSeq });
  }
}
