import { AppError } from '../../domain/app-error.js';
import type { ServerMetrics } from '../../ports/metrics.js';
import type { Logger } from '../../ports/logger.js';
import type { RateLimiter } from '../../ports/realtime.js';
import type { Schemas } from '../../protocol/schemas.js';
import { isModerator } from '../../services/room-service.js';
import type { CallService } from '../../services/call-service.js';
import type { RtcRequests } from '../../protocol/events.js';
import type { CallWebhooks, ParticipantLeftReason } from '../../services/call-webhooks.js';
import { EventRouter } from './event-router.js';
import { LobbyWaits } from './lobby-waits.js';
import { moderationRoutes, type CallActions } from './call-moderation.js';
import { callRoomKey, moderatorsKey, type RtcNamespace, type RtcSocket } from './socket-types.js';

export interface RtcNamespaceDeps {
  logger: Logger;
  metrics: ServerMetrics;
  schemas: Schemas;
  calls: CallService;
  eventLimiter: RateLimiter;
  nodeId: string;
  recoveryWindowMs: number;
  /** Moderation that reaches peers on other nodes (SocketRoomControl). */
  control: Pick<CallActions, 'kickPeer' | 'endCall'>;
  /** participant.* and call.* webhooks. */
  callHooks: Pick<CallWebhooks, 'joined' | 'left'>;
}

const NO_MEDIA = { audio: false, video: false, screen: false };

/** Why a peer left, as the others hear it (kicked, removed) and as the webhook says it. */
export type LeaveReason = Exclude<ParticipantLeftReason, 'ended'>;

/**
 * `/rtc`: calls and WebRTC signaling. A peer is its /rtc socket (peerId = socket id), so a
 * signal is relayed to exactly one socket, anywhere in the cluster, with `from` stamped here.
 * As in `/chat`, the handlers exist once per namespace and keep a socket's state in `socket.data`.
 * Returns what other parts do to this node's sockets (moderation, removals).
 */
export function registerRtcNamespace(nsp: RtcNamespace, deps: RtcNamespaceDeps): LocalCallActions {
  const { calls, logger, metrics } = deps;
  const waits = new LobbyWaits(nsp, calls, logger);

  const leaveCall = async (socket: RtcSocket, reason: LeaveReason) => {
    const roomId = socket.data.callRoomId;
    if (!roomId) return;
    socket.data.callRoomId = null;
    await socket.leave(callRoomKey(roomId));
    await socket.leave(moderatorsKey(roomId));
    if (await calls.leave(roomId, socket.id)) {
      const told = reason === 'kicked' || reason === 'removed';
      socket.to(callRoomKey(roomId)).emit('call:peer-left', told ? { roomId, peerId: socket.id, reason } : { roomId, peerId: socket.id });
      await deps.callHooks.left(roomId, socket.data.user, reason);
    }
  };

  const router = new EventRouter<RtcSocket, RtcRequests>(
    { logger, metrics, limiter: deps.eventLimiter },
    {
      'call:join': {
        schema: deps.schemas.callJoin,
        handle: async (socket, { roomId }) => {
          const user = socket.data.user;
          const { room, role, wait } = await calls.admission(user, roomId);
          if (wait) {
            if (socket.data.callRoomId === roomId) await leaveCall(socket, 'left');
            const request = await waits.knock(socket, roomId);
            return { waiting: true as const, requestId: request.requestId };
          }
          if (socket.data.callRoomId && socket.data.callRoomId !== roomId) await leaveCall(socket, 'left');
          const peer = { peerId: socket.id, userId: user.id, name: user.name, media: (socket.data.media ??= { ...NO_MEDIA }) };
          const { peers, iceServers } = await calls.join(user, room, peer);
          // Gone while joining: its disconnect found no call to leave, so leave this one now.
          if (socket.disconnected) {
            await calls.leave(roomId, socket.id);
            throw new AppError('NOT_IN_ROOM', 'the connection closed while joining the call');
          }
          const rejoin = socket.data.callRoomId === roomId;
          socket.data.callRoomId = roomId;
          await socket.join(callRoomKey(roomId));
          if (!rejoin) {
            socket.to(callRoomKey(roomId)).emit('call:peer-joined', { ...peer, roomId });
            await deps.callHooks.joined(roomId, user, peers);
          }
          if (isModerator(role)) {
            // Knocks reach the moderators in the call, also those who join after the knock.
            await socket.join(moderatorsKey(roomId));
            for (const r of await calls.pendingKnocks(roomId)) socket.emit('call:knock', { roomId, requestId: r.requestId, userId: r.userId, name: r.name });
          }
          return { peerId: socket.id, peers, iceServers };
        },
      },

      'call:leave': {
        schema: deps.schemas.callLeave,
        handle: async (socket, { roomId }) => {
          if (socket.data.callRoomId !== roomId) throw new AppError('NOT_IN_ROOM', 'you are not in this call');
          await leaveCall(socket, 'left');
        },
      },

      ...moderationRoutes(deps.schemas, calls, deps.control, waits, metrics),

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
    waits.withdrawAll(this);
    void leaveCall(this, 'disconnected').catch((err: unknown) => logger.warn('call leave on disconnect failed', { err }));
  }

  nsp.on('connection', (socket) => {
    metrics.socketOpened('/rtc');
    // Call membership does not survive a disconnect (peers were told the peer left), so a
    // recovered session starts outside any call and joins again, with its media state reset.
    if (socket.recovered) {
      if (socket.data.callRoomId) {
        void socket.leave(callRoomKey(socket.data.callRoomId));
        void socket.leave(moderatorsKey(socket.data.callRoomId));
      }
      socket.data.callRoomId = null;
      socket.data.media = undefined;
    }
    router.attach(socket);
    socket.on('disconnect', onDisconnect);
    const { user } = socket.data;
    socket.emit('hello', { userId: user.id, name: user.name, nodeId: deps.nodeId, recoveryWindowMs: deps.recoveryWindowMs });
  });

  /** This node's sockets in the room's call (optionally one user's only). */
  const inCall = (roomId: string, userId?: string) =>
    [...nsp.sockets.values()].filter((s) => s.data.callRoomId === roomId && (userId === undefined || s.data.user.id === userId));

  return {
    async kickPeer(roomId, peerId, by) {
      const socket = nsp.sockets.get(peerId);
      if (!socket || socket.data.callRoomId !== roomId) return;
      socket.emit('call:kicked', { roomId, by });
      await leaveCall(socket, 'kicked');
    },
    async endCall(roomId, reason, by) {
      for (const socket of inCall(roomId)) {
        socket.emit('call:ended', by ? { roomId, reason, by } : { roomId, reason });
        // Everyone leaves, so no one needs to hear of anyone else leaving.
        socket.data.callRoomId = null;
        await socket.leave(callRoomKey(roomId));
        await socket.leave(moderatorsKey(roomId));
        if (await calls.leave(roomId, socket.id)) await deps.callHooks.left(roomId, socket.data.user, 'ended');
      }
      if (reason === 'room-deleted') waits.denyRoom(roomId);
    },
    async removeUser(roomId, userId) {
      for (const socket of inCall(roomId, userId)) {
        socket.emit('call:ended', { roomId, reason: 'removed' });
        await leaveCall(socket, 'removed');
      }
      waits.withdrawUser(roomId, userId);
    },
    async removeUnless(roomId, mayStay) {
      const users = new Map<string, boolean>();
      for (const socket of inCall(roomId)) {
        const userId = socket.data.user.id;
        if (!users.has(userId)) users.set(userId, await mayStay(userId));
        if (users.get(userId)) continue;
        socket.emit('call:ended', { roomId, reason: 'removed' });
        await leaveCall(socket, 'removed');
      }
    },
  };
}

/** What other parts of the server do to this node's /rtc sockets. */
export interface LocalCallActions {
  kickPeer(roomId: string, peerId: string, by: string): Promise<void>;
  endCall(roomId: string, reason: 'ended' | 'room-deleted', by?: string): Promise<void>;
  removeUser(roomId: string, userId: string): Promise<void>;
  /** Peers of users for whom `mayStay` says no are put out of the call (asked once per user). */
  removeUnless(roomId: string, mayStay: (userId: string) => Promise<boolean>): Promise<void>;
}
