import { AppError } from '../../domain/app-error.js';
import type { ServerMetrics } from '../../ports/metrics.js';
import type { Logger } from '../../ports/logger.js';
import type { RateLimiter } from '../../ports/realtime.js';
import type { Schemas } from '../../protocol/schemas.js';
import type { CallService } from '../../services/call-service.js';
import type { RtcRequests } from '../../protocol/events.js';
import { EventRouter } from './event-router.js';
import { callRoomKey, type RtcNamespace, type RtcSocket } from './socket-types.js';

export interface RtcNamespaceDeps {
  logger: Logger;
  metrics: ServerMetrics;
  schemas: Schemas;
  calls: CallService;
  eventLimiter: RateLimiter;
  nodeId: string;
  recoveryWindowMs: number;
}

const NO_MEDIA = { audio: false, video: false, screen: false };

/**
 * `/rtc`: calls and WebRTC signaling. A peer is its /rtc socket (peerId = socket id), so a
 * signal is relayed to exactly one socket, anywhere in the cluster, with `from` stamped here.
 * As in `/chat`, the handlers exist once per namespace and keep a socket's state in `socket.data`.
 */
export function registerRtcNamespace(nsp: RtcNamespace, deps: RtcNamespaceDeps): void {
  const { calls, logger, metrics } = deps;

  const leaveCall = async (socket: RtcSocket) => {
    const roomId = socket.data.callRoomId;
    if (!roomId) return;
    socket.data.callRoomId = null;
    await socket.leave(callRoomKey(roomId));
    if (await calls.leave(roomId, socket.id)) {
      socket.to(callRoomKey(roomId)).emit('call:peer-left', { roomId, peerId: socket.id });
    }
  };

  const router = new EventRouter<RtcSocket, RtcRequests>(
    { logger, metrics, limiter: deps.eventLimiter },
    {
      'call:join': {
        schema: deps.schemas.callJoin,
        handle: async (socket, { roomId }) => {
          const user = socket.data.user;
          if (socket.data.callRoomId && socket.data.callRoomId !== roomId) await leaveCall(socket);
          const peer = { peerId: socket.id, userId: user.id, name: user.name, media: (socket.data.media ??= { ...NO_MEDIA }) };
          const { peers, iceServers } = await calls.join(user, roomId, peer);
          // Gone while joining: its disconnect found no call to leave, so leave this one now.
          if (socket.disconnected) {
            await calls.leave(roomId, socket.id);
            throw new AppError('NOT_IN_ROOM', 'the connection closed while joining the call');
          }
          const rejoin = socket.data.callRoomId === roomId;
          socket.data.callRoomId = roomId;
          await socket.join(callRoomKey(roomId));
          if (!rejoin) socket.to(callRoomKey(roomId)).emit('call:peer-joined', { ...peer, roomId });
          return { peerId: socket.id, peers, iceServers };
        },
      },

      'call:leave': {
        schema: deps.schemas.callLeave,
        handle: async (socket, { roomId }) => {
          if (socket.data.callRoomId !== roomId) throw new AppError('NOT_IN_ROOM', 'you are not in this call');
          await leaveCall(socket);
        },
      },

      'rtc:signal': {
        schema: deps.schemas.rtcSignal,
        handle: async (socket, { to, kind, data }) => {
          const local = socket.nsp.sockets.get(to);
          await calls.requireSignalTarget(socket.id, socket.data.callRoomId, to, local ? (local.data.callRoomId ?? null) : undefined);
          const signal = { from: socket.id, kind, data: data ?? null };
          // Local peers skip the adapter: no Redis round trip on the hottest signaling path.
          if (local) socket.nsp.local.to(to).emit('rtc:signal', signal);
          else socket.nsp.to(to).emit('rtc:signal', signal);
        },
      },

      'rtc:media': {
        schema: deps.schemas.rtcMedia,
        handle: async (socket, media) => {
          socket.data.media = media;
          const roomId = socket.data.callRoomId;
          if (!roomId) return;
          await calls.setMedia(roomId, socket.id, media);
          socket.to(callRoomKey(roomId)).emit('rtc:media', { peerId: socket.id, ...media });
        },
      },
    },
  );

  /** One listener for every socket: Node calls it with `this` set to the socket that emits. */
  function onDisconnect(this: RtcSocket): void {
    metrics.socketClosed('/rtc');
    void leaveCall(this).catch((err: unknown) => logger.warn('call leave on disconnect failed', { err }));
  }

  nsp.on('connection', (socket) => {
    metrics.socketOpened('/rtc');
    // Call membership does not survive a disconnect (peers were told the peer left), so a
    // recovered session starts outside any call and joins again, with its media state reset.
    if (socket.recovered) {
      if (socket.data.callRoomId) void socket.leave(callRoomKey(socket.data.callRoomId));
      socket.data.callRoomId = null;
      socket.data.media = undefined;
    }
    router.attach(socket);
    socket.on('disconnect', onDisconnect);
    const { user } = socket.data;
    socket.emit('hello', { userId: user.id, name: user.name, nodeId: deps.nodeId, recoveryWindowMs: deps.recoveryWindowMs });
  });
}
