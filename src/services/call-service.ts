import { randomUUID } from 'node:crypto';
import { AppError } from '../domain/app-error.js';
import type { CallPeer, IceServer, MediaState, Room, RoomRole } from '../protocol/models.js';
import type { Lobby, LobbyRequest } from '../ports/lobby.js';
import type { CallRegistry } from '../ports/realtime.js';
import type { IceService } from './ice-service.js';
import { isModerator, type RoomService } from './room-service.js';
import type { AuthUser } from './token-service.js';

/** Where a call join stands: `wait` means in the lobby until a moderator admits the user. */
export interface CallAdmission {
  room: Room;
  role: RoomRole | null;
  wait: boolean;
}

/**
 * Call use cases: who may join a room's call and how many, the lobby, moderation, who a
 * signal may reach, media state. A peer is one /rtc socket (peerId = socket id); the
 * transport keeps the socket's own state and does the emitting.
 */
export class CallService {
  constructor(
    private readonly rooms: RoomService,
    private readonly calls: CallRegistry,
    private readonly ice: IceService,
    private readonly lobby: Lobby,
    /** How long an admission from the lobby lets its user (re)join: LOBBY_TIMEOUT_MS. */
    readonly lobbyTimeoutMs: number,
  ) {}

  /**
   * May the user enter the room's call now? Access as for the room (any user for a public
   * room, members for a private one); a locked room admits its moderators only; a lobby room
   * makes everyone else wait for a moderator's admission.
   */
  async admission(user: AuthUser, roomId: string): Promise<CallAdmission> {
    const { room, role } = await this.rooms.access(user, roomId, true);
    const moderator = isModerator(role);
    if (room.locked && !moderator) throw new AppError('ROOM_LOCKED', 'this call is locked: no one new may join');
    const wait = room.lobby && !moderator && !(await this.lobby.isAdmitted(roomId, user.id));
    return { room, role, wait };
  }

  /** Puts `peer` into the room's call: the capacity check and the join are one atomic step. */
  async join(user: AuthUser, room: Room, peer: CallPeer): Promise<{ peers: CallPeer[]; iceServers: IceServer[] }> {
    const outcome = await this.calls.join(room.id, peer, room.maxParticipants);
    if (!outcome.joined) throw new AppError('ROOM_FULL', `the call is full (${room.maxParticipants} participants)`);
    return { peers: outcome.peers, iceServers: this.ice.forUser(user.id).iceServers };
  }

  /** A waiting user's knock, kept until answered, withdrawn or timed out. */
  async knock(user: AuthUser, roomId: string, peerId: string): Promise<LobbyRequest> {
    const request: LobbyRequest = { requestId: randomUUID(), roomId, userId: user.id, name: user.name, peerId, createdAt: Date.now() };
    await this.lobby.knock(request);
    return request;
  }

  pendingKnocks(roomId: string): Promise<LobbyRequest[]> {
    return this.lobby.pending(roomId);
  }

  /** A moderator's answer; NOT_FOUND when the request was answered, withdrawn or timed out. */
  async answerKnock(user: AuthUser, roomId: string, requestId: string, admit: boolean): Promise<LobbyRequest> {
    await this.rooms.requireModerator(user, roomId);
    const request = await this.lobby.take(roomId, requestId);
    if (!request) throw new AppError('NOT_FOUND', 'no such request waiting (answered, withdrawn or timed out)');
    if (admit) await this.lobby.admit(roomId, request.userId, this.lobbyTimeoutMs);
    return request;
  }

  /** Takes the request out of the lobby (timed out or withdrawn); null if it was answered first. */
  withdraw(roomId: string, requestId: string): Promise<LobbyRequest | null> {
    return this.lobby.take(roomId, requestId);
  }

  /** A moderator's action on a peer: the peer must be in the room's call. */
  async requirePeerForModerator(user: AuthUser, roomId: string, peerId: string): Promise<void> {
    await this.rooms.requireModerator(user, roomId);
    if (!(await this.calls.inCall(roomId, peerId))) throw new AppError('PEER_NOT_FOUND', 'no such peer in this call');
  }

  requireModerator(user: AuthUser, roomId: string): Promise<unknown> {
    return this.rooms.requireModerator(user, roomId);
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
