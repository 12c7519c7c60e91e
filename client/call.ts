/**
 * A mesh call over `/rtc`, the way a client should do it:
 * - one RTCPeerConnection per remote peer, negotiated with "perfect negotiation" (either side
 *   may offer; on a collision the polite side yields), so renegotiation never deadlocks;
 * - the joiner offers; the others answer when its first offer arrives;
 * - ICE servers (STUN, and TURN with fresh credentials) come from `call:join`;
 * - after a reconnect our peer id is new: we join again, keep each connection, and restart ICE
 *   on it. The other side recognises the connection by its DTLS fingerprint, so media that
 *   kept flowing is never torn down.
 * - moderation: a lobby room may answer our join with `waiting` (we join again once
 *   `call:admitted`); we may be kicked, the call may end, a moderator may ask us to mute; and
 *   moderators get knocks to answer and may kick, ask to mute and end the call.
 */
import type { Socket } from 'socket.io-client';
import {
  NAMESPACES,
  type Ack,
  type CallPeer,
  type ErrorCode,
  type MediaState,
  type RtcClientToServerEvents,
  type RtcServerToClientEvents,
  type SignalKind,
} from 'fault-tolerant-video-chat-server/protocol';
import type { Session } from './session.js';

type RtcSocket = Socket<RtcServerToClientEvents, RtcClientToServerEvents>;

export interface Remote {
  /** Null while the peer is away (its signaling dropped); it may come back with a new id. */
  peerId: string | null;
  userId: string;
  name: string;
  media: MediaState;
  pc: RTCPeerConnection;
  stream: MediaStream;
  iceRestarts: number;
  /** Perfect-negotiation state. */
  makingOffer: boolean;
  ignoreOffer: boolean;
  /** Signals are handled one at a time, in order. */
  queue: Promise<void>;
  ufrag?: string;
  graceTimer?: ReturnType<typeof setTimeout>;
}

/** Where we stand: joining (also while reconnecting), in the call, in the lobby, or out of it. */
export type CallState = 'joining' | 'in' | 'waiting' | 'out';

/** Why we are out of the call; `by` is the moderator's user id, `byName` their name if we knew it. */
export interface CallOut {
  reason: 'kicked' | 'ended' | 'room-deleted' | 'removed' | 'denied' | 'timeout' | 'refused';
  by?: string;
  byName?: string;
  /** `refused`: what the server answered to our join. */
  code?: ErrorCode;
  message?: string;
}

/** Someone waiting in the lobby (moderators only). */
export interface Knock {
  requestId: string;
  userId: string;
  name: string;
}

export interface CallView {
  update(remote: Remote): void;
  remove(remote: Remote): void;
  notice(text: string): void;
  changed(): void;
  /** `state` (or `out`) changed. */
  state(): void;
  /** A moderator asked us to mute: we did (our media state changed). */
  muted(kind: 'audio' | 'video', by: string, byName?: string): void;
  /** The knocks waiting for an answer changed (moderators). */
  knocks(knocks: readonly Knock[]): void;
}

/** A peer whose signaling dropped is checked this often, and dropped once its media has stopped too. */
const GRACE_MS = 10_000;
const ACK_TIMEOUT_MS = 8000;
const fingerprint = (sdp?: string) => /a=fingerprint:(\S+ \S+)/.exec(sdp ?? '')?.[1];
const iceUfrag = (sdp?: string) => /a=ice-ufrag:(\S+)/.exec(sdp ?? '')?.[1];
/** What went wrong with a moderation request, for people; null when it was done. */
const problem = (res: Ack | null): string | null => (!res ? 'no answer from the server' : res.ok ? null : res.error.message);

export class Call {
  readonly socket: RtcSocket;
  readonly remotes = new Set<Remote>();
  /** Our id in the call; changes with every (re)join. */
  peerId = '';
  userId = '';
  state: CallState = 'joining';
  /** Set while `state` is `out`. */
  out: CallOut | null = null;
  media: MediaState;
  /** Lobby knocks waiting for an answer, by request id (moderators get them). */
  readonly knocks = new Map<string, Knock>();
  private iceServers: RTCIceServer[] = [];
  /** Who is in the call (from call:join and call:peer-joined), by peer id. */
  private readonly peers = new Map<string, CallPeer>();

  constructor(
    session: Session,
    readonly roomId: string,
    readonly local: MediaStream | null,
    private readonly view: CallView,
  ) {
    this.userId = session.userId;
    this.media = { audio: !!local?.getAudioTracks().length, video: !!local?.getVideoTracks().length, screen: false };
    this.socket = session.socket(NAMESPACES.rtc);
    this.socket.on('hello', (hello) => (this.userId = hello.userId));
    this.socket.on('connect', () => void this.join());
    this.socket.on('disconnect', () => {
      // In the call or in the lobby: the server forgot both, so join again on connect.
      if (this.state !== 'out') this.setState('joining');
      view.changed();
    });
    this.socket.on('call:peer-joined', (peer) => {
      this.peers.set(peer.peerId, peer);
      // Admitted by another moderator: that knock is answered.
      for (const knock of this.knocks.values()) if (knock.userId === peer.userId) this.knocks.delete(knock.requestId);
      view.knocks([...this.knocks.values()]);
    });
    this.socket.on('call:peer-left', ({ peerId, reason }) => {
      this.peers.delete(peerId);
      const remote = this.byPeer(peerId);
      // Kicked or removed: it will not come back on this connection. Otherwise it may be reconnecting.
      if (remote && reason && reason !== 'left') this.drop(remote);
      else if (remote) this.away(remote);
    });
    this.socket.on('rtc:signal', ({ from, kind, data }) => this.signal(from, kind, data));
    this.socket.on('rtc:media', ({ peerId, ...media }) => {
      // A joiner says its media right after joining, usually before its offer makes a connection.
      const peer = this.peers.get(peerId);
      if (peer) this.peers.set(peerId, { ...peer, media });
      const remote = this.byPeer(peerId);
      if (remote) view.update(Object.assign(remote, { media }));
    });

    this.socket.on('call:kicked', ({ roomId, by }) => roomId === this.roomId && this.putOut({ reason: 'kicked', by, byName: this.nameOf(by) }));
    this.socket.on('call:ended', ({ roomId, reason, by }) => roomId === this.roomId && this.putOut({ reason, by, byName: by && this.nameOf(by) }));
    this.socket.on('call:mute-request', ({ roomId, kind, by }) => {
      if (roomId !== this.roomId) return;
      this.setMedia(kind, false); // advisory for the server; this client obeys
      view.muted(kind, by, this.nameOf(by));
    });
    this.socket.on('call:admitted', ({ roomId }) => roomId === this.roomId && this.state === 'waiting' && void this.join());
    this.socket.on('call:denied', ({ roomId, reason }) => roomId === this.roomId && this.state === 'waiting' && this.putOut({ reason: reason ?? 'denied' }));
    this.socket.on('call:knock', ({ roomId, ...knock }) => {
      if (roomId !== this.roomId) return;
      this.knocks.set(knock.requestId, knock);
      view.knocks([...this.knocks.values()]);
    });
  }

  /** In the call (not reconnecting, not in the lobby). */
  get joined(): boolean {
    return this.state === 'in';
  }

  /** Connected and settled: in the call, in the lobby, or out of it by someone's decision. */
  get settled(): boolean {
    return this.socket.connected && this.state !== 'joining';
  }

  /** Joins again after being put out (kicked, call ended, denied, refused). */
  rejoin(): void {
    if (this.state !== 'out') return;
    this.out = null;
    this.setState('joining');
    if (this.socket.connected) void this.join();
    else if (!this.socket.active) this.socket.connect(); // else the reconnect joins
  }

  /** Moderators: put a peer out of the call. Resolves with the error message, if any. */
  async kick(remote: Remote): Promise<string | null> {
    if (!remote.peerId) return 'that peer is reconnecting';
    return problem(await this.socket.timeout(ACK_TIMEOUT_MS).emitWithAck('call:kick', { roomId: this.roomId, peerId: remote.peerId }).catch(() => null));
  }

  /** Moderators: ask one peer (or, without `remote`, every other peer) to turn `kind` off. */
  async askMute(kind: 'audio' | 'video', remote?: Remote): Promise<string | null> {
    if (remote && !remote.peerId) return 'that peer is reconnecting';
    const payload = remote?.peerId ? { roomId: this.roomId, kind, peerId: remote.peerId } : { roomId: this.roomId, kind };
    return problem(await this.socket.timeout(ACK_TIMEOUT_MS).emitWithAck('call:mute', payload).catch(() => null));
  }

  /** Moderators: end the call for everyone (us included: `call:ended` comes back). */
  async end(): Promise<string | null> {
    return problem(await this.socket.timeout(ACK_TIMEOUT_MS).emitWithAck('call:end', { roomId: this.roomId }).catch(() => null));
  }

  /**
   * Moderators: answer a knock. The knock goes from the list once answered, and also when the
   * server no longer has it (answered by someone else, withdrawn, timed out: NOT_FOUND).
   */
  async answer(requestId: string, admit: boolean): Promise<string | null> {
    const res = await this.socket.timeout(ACK_TIMEOUT_MS).emitWithAck('call:admit', { roomId: this.roomId, requestId, admit }).catch(() => null);
    const gone = res?.ok === false && res.error.code === 'NOT_FOUND';
    if (res?.ok || gone) {
      this.knocks.delete(requestId);
      this.view.knocks([...this.knocks.values()]);
    }
    return gone ? 'that request is no longer waiting' : problem(res);
  }

  /** Out of the call by someone's decision: close every connection (the others see us go). */
  private putOut(out: CallOut): void {
    this.out = out;
    this.peers.clear();
    this.knocks.clear();
    this.view.knocks([]);
    for (const remote of [...this.remotes]) this.drop(remote);
    this.setState('out');
    this.view.changed();
  }

  private setState(state: CallState): void {
    if (state === this.state && state !== 'out') return;
    this.state = state;
    this.view.state();
  }

  /** A participant's name, from the call as we know it. */
  private nameOf(userId: string): string | undefined {
    return [...this.peers.values()].find((p) => p.userId === userId)?.name ?? [...this.remotes].find((r) => r.userId === userId)?.name;
  }

  /** Mutes or unmutes our microphone or camera (the track keeps its place: no renegotiation). */
  setMedia(kind: 'audio' | 'video', on: boolean): void {
    for (const track of this.local?.getTracks() ?? []) if (track.kind === kind) track.enabled = on;
    this.media = { ...this.media, [kind]: on };
    if (this.joined) this.socket.emit('rtc:media', this.media);
  }

  hangUp(): void {
    for (const remote of this.remotes) this.drop(remote);
    if (this.joined) this.socket.emit('call:leave', { roomId: this.roomId });
    this.state = 'out';
    this.socket.close();
    for (const track of this.local?.getTracks() ?? []) track.stop();
  }

  /** On every connect: join (again), then match the connections we kept to the peers there now. */
  private async join(): Promise<void> {
    if (this.state === 'out') return; // put out by someone's decision: only rejoin() joins again
    this.setState('joining');
    // The server sends the pending knocks again with the join (before its answer).
    this.knocks.clear();
    this.view.knocks([]);
    const res = await this.socket.timeout(ACK_TIMEOUT_MS).emitWithAck('call:join', { roomId: this.roomId }).catch(() => null);
    if (this.state !== 'joining') return; // put out (or hung up) meanwhile
    if (!res) return void setTimeout(() => this.socket.connected && this.state === 'joining' && void this.join(), 2000);
    if (!res.ok) return this.putOut({ reason: 'refused', code: res.error.code, message: res.error.message });
    if ('waiting' in res) {
      // A lobby room: `call:admitted` (then we join again) or `call:denied` follows.
      this.setState('waiting');
      this.view.changed();
      return;
    }
    this.peerId = res.peerId;
    this.iceServers = res.iceServers;
    this.setState('in');
    this.socket.emit('rtc:media', this.media);
    this.peers.clear();
    for (const peer of res.peers) this.peers.set(peer.peerId, peer);

    const kept = new Set(this.remotes);
    for (const peer of res.peers) {
      // Ids we knew are still valid if only we reconnected; after a server restart they all
      // changed, and a participant (one user id) is the best match we have.
      const sameUser = [...kept].filter((r) => r.userId === peer.userId);
      const match = [...kept].find((r) => r.peerId === peer.peerId) ?? (sameUser.length === 1 ? sameUser[0] : undefined);
      if (!match) {
        this.connect(peer);
        continue;
      }
      kept.delete(match);
      this.claim(match, peer.peerId);
      try {
        match.pc.setConfiguration({ iceServers: this.iceServers }); // fresh TURN credentials
      } catch (err) {
        console.warn('ICE servers refused', err);
      }
      match.pc.restartIce(); // → negotiationneeded → an ICE-restart offer to the peer
    }
    for (const remote of kept) this.away(remote);
    this.view.changed();
  }

  /** A new connection to `peer`; we offer when we are the joiner, else we answer its offer. */
  private connect(peer: CallPeer): Remote {
    const pc = new RTCPeerConnection({ iceServers: this.iceServers });
    const remote: Remote = {
      peerId: peer.peerId,
      userId: peer.userId,
      name: peer.name,
      media: peer.media,
      pc,
      stream: new MediaStream(),
      iceRestarts: 0,
      makingOffer: false,
      ignoreOffer: false,
      queue: Promise.resolve(),
    };
    this.remotes.add(remote);
    for (const track of this.local?.getTracks() ?? []) pc.addTrack(track, this.local!);
    // A pre-agreed data channel: it closes at once when the other side closes its connection
    // (hang-up, reload, tab closed), which tells a leave from a reconnect.
    pc.createDataChannel('presence', { negotiated: true, id: 0 }).onclose = () => this.drop(remote);
    pc.ontrack = ({ track }) => {
      remote.stream.addTrack(track);
      this.view.update(remote);
    };
    pc.onicecandidate = ({ candidate }) => candidate && this.send(remote, 'ice-candidate', candidate.toJSON());
    pc.onnegotiationneeded = async () => {
      try {
        remote.makingOffer = true;
        await pc.setLocalDescription();
        this.send(remote, 'offer', pc.localDescription);
      } catch (err) {
        console.warn('offer failed', err);
      } finally {
        remote.makingOffer = false;
      }
    };
    pc.onconnectionstatechange = () => {
      if (pc.connectionState === 'failed' && remote.peerId) pc.restartIce();
      if (pc.connectionState === 'failed' && !remote.peerId) return this.drop(remote);
      this.view.update(remote);
    };
    this.view.update(remote);
    return remote;
  }

  private signal(from: string, kind: SignalKind, data: unknown): void {
    let remote = this.byPeer(from);
    if (!remote && kind === 'offer') {
      // A peer that rejoined restarts ICE on the connection it kept: find ours by fingerprint.
      const fp = fingerprint((data as RTCSessionDescriptionInit).sdp);
      remote = [...this.remotes].find((r) => fp && fingerprint(r.pc.remoteDescription?.sdp) === fp);
      if (remote) this.claim(remote, from);
      else remote = this.connect(this.peers.get(from) ?? { peerId: from, userId: '', name: 'Guest', media: { audio: true, video: true, screen: false } });
    }
    if (!remote) return;
    const r = remote;
    r.queue = r.queue.then(() => this.handle(r, kind, data)).catch((err: unknown) => console.warn('signal failed', kind, err));
  }

  /** Perfect negotiation (https://w3c.github.io/webrtc-pc/#perfect-negotiation-example). */
  private async handle(remote: Remote, kind: SignalKind, data: unknown): Promise<void> {
    const { pc } = remote;
    if (kind === 'ice-restart') return pc.restartIce();
    if (kind === 'ice-candidate') {
      try {
        await pc.addIceCandidate(data as RTCIceCandidateInit);
      } catch (err) {
        if (!remote.ignoreOffer) throw err; // candidates of an offer we ignored fail harmlessly
      }
      return;
    }
    const description = data as RTCSessionDescriptionInit;
    const collision = description.type === 'offer' && (remote.makingOffer || pc.signalingState !== 'stable');
    remote.ignoreOffer = !this.polite(remote) && collision;
    if (remote.ignoreOffer) return;
    await pc.setRemoteDescription(description); // rolls our own offer back if we collided
    const ufrag = iceUfrag(description.sdp);
    if (remote.ufrag && ufrag !== remote.ufrag) remote.iceRestarts++;
    remote.ufrag = ufrag;
    if (description.type === 'offer') {
      await pc.setLocalDescription();
      this.send(remote, 'answer', pc.localDescription);
    }
    this.view.update(remote);
  }

  /** Both sides must agree who yields: compare the stable user ids (peer ids if equal). */
  private polite(remote: Remote): boolean {
    if (remote.userId && remote.userId !== this.userId) return this.userId < remote.userId;
    return this.peerId < (remote.peerId ?? '');
  }

  private send(remote: Remote, kind: SignalKind, data: RTCSessionDescription | RTCIceCandidateInit | null): void {
    if (!remote.peerId || !this.joined || !data) return; // lost while away: the ICE restart redoes it
    const payload = data instanceof RTCSessionDescription ? { type: data.type, sdp: data.sdp } : data;
    this.socket.emit('rtc:signal', { to: remote.peerId, kind, data: payload } as Parameters<RtcClientToServerEvents['rtc:signal']>[0]);
  }

  /** The remote is back under a (maybe new) peer id. */
  private claim(remote: Remote, peerId: string): void {
    clearTimeout(remote.graceTimer);
    remote.graceTimer = undefined;
    const peer = this.peers.get(peerId);
    Object.assign(remote, { peerId }, peer && { userId: peer.userId, name: peer.name, media: peer.media });
    // An offer or answer that was in flight when signaling dropped is lost: start over.
    const { pc } = remote;
    remote.queue = remote.queue.then(async () => {
      if (pc.signalingState === 'have-local-offer') await pc.setLocalDescription({ type: 'rollback' });
      if (pc.signalingState === 'have-remote-offer') await pc.setRemoteDescription({ type: 'rollback' });
    }).catch((err: unknown) => console.warn('rollback failed', err));
    this.view.update(remote);
  }

  /**
   * The remote's signaling is gone (it left, or it is reconnecting): keep the connection while
   * media still flows, and for GRACE_MS at least; it may come back under a new peer id.
   */
  private away(remote: Remote): void {
    remote.peerId = null;
    remote.graceTimer ??= setTimeout(() => {
      remote.graceTimer = undefined;
      if (remote.peerId === null && remote.pc.connectionState === 'connected') this.away(remote);
      else if (remote.peerId === null) this.drop(remote);
    }, GRACE_MS);
    this.view.update(remote);
  }

  private drop(remote: Remote): void {
    if (!this.remotes.delete(remote)) return;
    clearTimeout(remote.graceTimer);
    remote.pc.close();
    this.view.remove(remote);
    this.view.changed();
  }

  private byPeer(peerId: string): Remote | undefined {
    return [...this.remotes].find((r) => r.peerId === peerId);
  }
}
