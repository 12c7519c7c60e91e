import { AppError } from '../domain/app-error.js';
import type { CallPeer, IceServer, MediaState } from '../protocol/models.js';
import type { CallRegistry } from '../ports/realtime.js';
import type { IceService } from './ice-service.js';
import type { RoomService } from './room-service.js';
import type { AuthUser } from './token-service.js';

/**
 * Call use cases: who may join a room's call and how many, who a signal may reach, media
 * state. A peer is one /rtc socket (peerId = socket id); the transport keeps the socket's
 * own state and does the emitting.
 */
export class CallService {
  constructor(
    private readonly rooms: RoomService,
    private readonly calls: CallRegistry,
    private readonly ice: IceService,
  ) {}

  /**
   * Puts `peer` into the room's call: access as for the room (any user for a public room,
   * members for a private one), then the capacity check and the join as one atomic step.
   */
  async join(user: AuthUser, roomId: string, peer: CallPeer): Promise<{ peers: CallPeer[]; iceServers: IceServer[] }> {
    const room = await this.rooms.requireAccess(user, roomId);
    const outcome = await this.calls.join(roomId, peer, room.maxParticipants);
    if (!outcome.joined) throw new AppError('ROOM_FULL', `the call is full (${room.maxParticipants} participants)`);
    return { peers: outcome.peers, iceServers: this.ice.forUser(user.id).iceServers };
  }

  /** True when the peer was in the call (the others should hear it left). */
  leave(roomId: string, peerId: string): Promise<boolean> {
    return this.calls.leave(roomId, peerId);
  }

  /**
   * A signal from `from` (in call `callRoomId`) may go to `to` only if `to` is another peer
   * of the same call. `localCallOf` answers for a peer on this node without asking the
   * registry, so signaling between a node's own clients keeps working while Redis is not.
   */
  async requireSignalTarget(from: string, callRoomId: string | null | undefined, to: string, localCallOf?: string | null): Promise<void> {
    if (!callRoomId) throw new AppError('NOT_IN_ROOM', 'join a call first (call:join)');
    const sameCall = to !== from && (localCallOf !== undefined ? localCallOf === callRoomId : await this.calls.inCall(callRoomId, to));
    if (!sameCall) throw new AppError('PEER_NOT_FOUND', 'no such peer in your call');
  }

  setMedia(roomId: string, peerId: string, media: MediaState): Promise<void> {
    return this.calls.setMedia(roomId, peerId, media);
  }
}
