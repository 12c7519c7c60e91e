import type { RtcRequests } from '../../protocol/events.js';
import type { Schemas } from '../../protocol/schemas.js';
import type { ServerMetrics } from '../../ports/metrics.js';
import type { CallService } from '../../services/call-service.js';
import type { Routes } from './event-router.js';
import type { LobbyWaits } from './lobby-waits.js';
import { callRoomKey, type RtcSocket } from './socket-types.js';

/** Moderation that must reach sockets on every node (SocketRoomControl). */
export interface CallActions {
  kickPeer(roomId: string, peerId: string, by: string): Promise<void>;
  endCall(roomId: string, by: string): Promise<void>;
}

type ModerationEvents = 'call:kick' | 'call:mute' | 'call:end' | 'call:admit';

/**
 * `/rtc` moderation: kick, mute request, end, lobby answers. Each checks the sender's role in
 * the room on every call (any node may serve the moderator; roles live in the store), and
 * each reaches its targets wherever they are connected.
 */
export function moderationRoutes(
  schemas: Schemas,
  calls: CallService,
  control: CallActions,
  waits: LobbyWaits,
  metrics: Pick<ServerMetrics, 'moderationAction'>,
): Pick<Routes<RtcSocket, RtcRequests>, ModerationEvents> {
  return {
    'call:kick': {
      schema: schemas.callKick,
      handle: async (socket, { roomId, peerId }) => {
        await calls.requirePeerForModerator(socket.data.user, roomId, peerId);
        await control.kickPeer(roomId, peerId, socket.data.user.id);
        metrics.moderationAction('kick');
      },
    },

    'call:mute': {
      schema: schemas.callMute,
      handle: async (socket, { roomId, kind, peerId }) => {
        const by = socket.data.user.id;
        if (peerId !== undefined) {
          await calls.requirePeerForModerator(socket.data.user, roomId, peerId);
          socket.nsp.to(peerId).emit('call:mute-request', { roomId, kind, by });
        } else {
          await calls.requireModerator(socket.data.user, roomId);
          socket.nsp.to(callRoomKey(roomId)).except(socket.id).emit('call:mute-request', { roomId, kind, by });
        }
        metrics.moderationAction('mute');
      },
    },

    'call:end': {
      schema: schemas.callEnd,
      handle: async (socket, { roomId }) => {
        await calls.requireModerator(socket.data.user, roomId);
        await control.endCall(roomId, socket.data.user.id);
        metrics.moderationAction('end');
      },
    },

    'call:admit': {
      schema: schemas.callAdmit,
      handle: async (socket, { roomId, requestId, admit }) => {
        const request = await calls.answerKnock(socket.data.user, roomId, requestId, admit);
        waits.answered(request, admit);
        metrics.moderationAction(admit ? 'admit' : 'deny');
      },
    },
  };
}
