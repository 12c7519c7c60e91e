import { createHmac, randomUUID } from 'node:crypto';
import { expect } from 'chai';
import type { Socket } from 'socket.io-client';
import { createRoom, guest, request } from '../helpers/http-client.js';
import { ask, collect, connect, eventually, next, quietFor } from '../helpers/socket-client.js';
import { useServer } from '../helpers/test-server.js';

/** /rtc: calls and WebRTC signaling, against a real server with real socket.io clients. */

interface Peer {
  token: string;
  user: { id: string; name: string };
  socket: Socket;
}

const OFFER = { type: 'offer', sdp: 'v=0\r\no=- 4611731400430051336 2 IN IP4 127.0.0.1\r\ns=-\r\nt=0 0\r\n' };
const ANSWER = { type: 'answer', sdp: 'v=0\r\no=- 1 2 IN IP4 127.0.0.1\r\ns=-\r\nt=0 0\r\n' };
const CANDIDATE = {
  candidate: 'candidate:842163049 1 udp 1677729535 192.0.2.10 46154 typ srflx raddr 0.0.0.0 rport 0 generation 0',
  sdpMid: '0',
  sdpMLineIndex: 0,
  usernameFragment: 'abcd',
};

describe('socket /rtc: calls and signaling', function () {
  const { server, sockets } = useServer();

  async function peer(url: string, name: string): Promise<Peer> {
    const g = await guest(url, name);
    const socket = await connect(url, '/rtc', g.token);
    sockets.push(socket);
    return { ...g, socket };
  }

  /** Two peers of one public room, both in its call: a joined first, b second. */
  async function twoInCall() {
    const a = await peer(server.url, 'alice');
    const b = await peer(server.url, 'bob');
    const room = await createRoom(server.url, a.token, { name: 'call room' });
    const joinedA = await ask(a.socket, 'call:join', { roomId: room.id });
    const joinedB = await ask(b.socket, 'call:join', { roomId: room.id });
    expect(joinedA.ok, JSON.stringify(joinedA)).to.equal(true);
    expect(joinedB.ok, JSON.stringify(joinedB)).to.equal(true);
    return { a, b, room, aPeerId: joinedA.peerId as string, bPeerId: joinedB.peerId as string };
  }

  describe('call:join', () => {
    it('answers {ok, peerId, peers: [], iceServers} to the first peer of a call', async () => {
      const a = await peer(server.url, 'alice');
      const room = await createRoom(server.url, a.token);
      const answer = await ask(a.socket, 'call:join', { roomId: room.id });
      expect(answer.ok).to.equal(true);
      expect(answer.peerId).to.be.a('string').with.length.above(0);
      expect(answer.peers).to.deep.equal([]);
      expect(answer.iceServers).to.be.an('array').with.length.above(0);
      // Default STUN server, without credentials.
      expect(answer.iceServers[0]).to.deep.equal({ urls: ['stun:stun.l.google.com:19302'] });
    });

    it('lists earlier peers to a newcomer and announces the newcomer with call:peer-joined', async () => {
      const a = await peer(server.url, 'alice');
      const b = await peer(server.url, 'bob');
      const room = await createRoom(server.url, a.token);
      const joinedA = await ask(a.socket, 'call:join', { roomId: room.id });
      const announced = next(a.socket, 'call:peer-joined');
      const joinedB = await ask(b.socket, 'call:join', { roomId: room.id });

      expect(joinedB.ok).to.equal(true);
      expect(joinedB.peerId).to.be.a('string').and.not.equal(joinedA.peerId);
      expect(joinedB.peers).to.deep.equal([
        { peerId: joinedA.peerId, userId: a.user.id, name: 'alice', media: { audio: false, video: false, screen: false } },
      ]);
      expect(await announced).to.deep.equal({
        roomId: room.id,
        peerId: joinedB.peerId,
        userId: b.user.id,
        name: 'bob',
        media: { audio: false, video: false, screen: false },
      });
    });

    it('does not need a /chat room:join: any user may join the call of a public room', async () => {
      const owner = await guest(server.url, 'owner');
      const room = await createRoom(server.url, owner.token);
      const stranger = await peer(server.url, 'stranger');
      const answer = await ask(stranger.socket, 'call:join', { roomId: room.id });
      expect(answer.ok).to.equal(true);
    });

    it('refuses an unknown room with ROOM_NOT_FOUND', async () => {
      const a = await peer(server.url, 'alice');
      const answer = await ask(a.socket, 'call:join', { roomId: randomUUID() });
      expect(answer).to.deep.include({ ok: false });
      expect(answer.error.code).to.equal('ROOM_NOT_FOUND');
      expect(answer.error.message).to.be.a('string');
    });

    it('admits only members to the call of a private room (FORBIDDEN for others)', async () => {
      const owner = await peer(server.url, 'owner');
      const member = await peer(server.url, 'member');
      const outsider = await peer(server.url, 'outsider');
      const room = await createRoom(server.url, owner.token, { name: 'private', isPrivate: true });
      const added = await request(server.url, 'POST', `/api/rooms/${room.id}/members`, {
        token: owner.token,
        body: { userId: member.user.id },
      });
      expect(added.status).to.equal(204);
      const outsiderSeen = collect(outsider.socket, 'call:peer-joined');

      const refused = await ask(outsider.socket, 'call:join', { roomId: room.id });
      expect(refused.ok).to.equal(false);
      expect(refused.error.code).to.equal('FORBIDDEN');

      expect((await ask(owner.socket, 'call:join', { roomId: room.id })).ok).to.equal(true);
      const memberJoin = await ask(member.socket, 'call:join', { roomId: room.id });
      expect(memberJoin.ok).to.equal(true);
      expect(memberJoin.peers.map((p: any) => p.userId)).to.deep.equal([owner.user.id]);
      // The refused socket is not in the call: it hears nothing about it.
      expect(outsiderSeen).to.deep.equal([]);
    });

    it('refuses a peer past the room’s maxParticipants with ROOM_FULL, and admits it once a seat frees', async () => {
      const a = await peer(server.url, 'a');
      const b = await peer(server.url, 'b');
      const c = await peer(server.url, 'c');
      const room = await createRoom(server.url, a.token, { name: 'duo', maxParticipants: 2 });
      expect((await ask(a.socket, 'call:join', { roomId: room.id })).ok).to.equal(true);
      expect((await ask(b.socket, 'call:join', { roomId: room.id })).ok).to.equal(true);
      const aSeen = collect(a.socket, 'call:peer-joined');

      const full = await ask(c.socket, 'call:join', { roomId: room.id });
      expect(full.ok).to.equal(false);
      expect(full.error.code).to.equal('ROOM_FULL');
      // A refused peer is not announced.
      expect(await quietFor(a.socket, 'call:peer-joined', 200)).to.deep.equal([]);
      expect(aSeen).to.deep.equal([]);

      expect((await ask(b.socket, 'call:leave', { roomId: room.id })).ok).to.equal(true);
      const retry = await ask(c.socket, 'call:join', { roomId: room.id });
      expect(retry.ok).to.equal(true);
      expect(retry.peers.map((p: any) => p.userId)).to.deep.equal([a.user.id]);
    });
  });

  describe('rtc:signal', () => {
    it('relays an offer to exactly the addressed peer, with `from` stamped by the server', async () => {
      const { a, b, aPeerId, bPeerId } = await twoInCall();
      const aGot = collect(a.socket, 'rtc:signal');
      const arrived = next(b.socket, 'rtc:signal');
      const answer = await ask(a.socket, 'rtc:signal', { to: bPeerId, kind: 'offer', data: OFFER });
      expect(answer).to.deep.equal({ ok: true });
      expect(await arrived).to.deep.equal({ from: aPeerId, kind: 'offer', data: OFFER });

      // And the answer travels back the same way.
      const back = next(a.socket, 'rtc:signal');
      expect((await ask(b.socket, 'rtc:signal', { to: aPeerId, kind: 'answer', data: ANSWER })).ok).to.equal(true);
      expect(await back).to.deep.equal({ from: bPeerId, kind: 'answer', data: ANSWER });
      expect(aGot).to.have.length(1);
    });

    it('refuses a payload that tries to set `from` itself (VALIDATION_FAILED), and relays nothing', async () => {
      const { a, b, bPeerId } = await twoInCall();
      const answer = await ask(a.socket, 'rtc:signal', { to: bPeerId, from: bPeerId, kind: 'offer', data: OFFER });
      expect(answer.ok).to.equal(false);
      expect(answer.error.code).to.equal('VALIDATION_FAILED');
      expect(await quietFor(b.socket, 'rtc:signal', 200)).to.deep.equal([]);
    });

    it('relays ice-candidate (including the end-of-candidates null) and ice-restart', async () => {
      const { a, b, aPeerId, bPeerId } = await twoInCall();
      const got = collect(b.socket, 'rtc:signal');
      expect((await ask(a.socket, 'rtc:signal', { to: bPeerId, kind: 'ice-candidate', data: CANDIDATE })).ok).to.equal(true);
      expect((await ask(a.socket, 'rtc:signal', { to: bPeerId, kind: 'ice-candidate', data: null })).ok).to.equal(true);
      expect((await ask(a.socket, 'rtc:signal', { to: bPeerId, kind: 'ice-restart' })).ok).to.equal(true);
      await eventually(() => got.length === 3, 2000, 'three signals');
      expect(got).to.deep.equal([
        { from: aPeerId, kind: 'ice-candidate', data: CANDIDATE },
        { from: aPeerId, kind: 'ice-candidate', data: null },
        { from: aPeerId, kind: 'ice-restart', data: null },
      ]);
    });

    it('answers PEER_NOT_FOUND for a peer in another call or an unknown id, and that peer receives nothing', async () => {
      const { a } = await twoInCall();
      const other = await peer(server.url, 'mallory');
      const otherRoom = await createRoom(server.url, other.token, { name: 'elsewhere' });
      const otherJoin = await ask(other.socket, 'call:join', { roomId: otherRoom.id });
      expect(otherJoin.ok).to.equal(true);
      const otherGot = collect(other.socket, 'rtc:signal');

      const crossCall = await ask(a.socket, 'rtc:signal', { to: otherJoin.peerId, kind: 'offer', data: OFFER });
      expect(crossCall.ok).to.equal(false);
      expect(crossCall.error.code).to.equal('PEER_NOT_FOUND');

      const unknown = await ask(a.socket, 'rtc:signal', { to: randomUUID(), kind: 'offer', data: OFFER });
      expect(unknown.ok).to.equal(false);
      expect(unknown.error.code).to.equal('PEER_NOT_FOUND');

      expect(await quietFor(other.socket, 'rtc:signal', 200)).to.deep.equal([]);
      expect(otherGot).to.deep.equal([]);
    });

    it('answers PEER_NOT_FOUND for a connected /rtc socket that is in no call', async () => {
      const { a } = await twoInCall();
      const idle = await peer(server.url, 'idle');
      const answer = await ask(a.socket, 'rtc:signal', { to: idle.socket.id, kind: 'offer', data: OFFER });
      expect(answer.ok).to.equal(false);
      expect(answer.error.code).to.equal('PEER_NOT_FOUND');
      expect(await quietFor(idle.socket, 'rtc:signal', 200)).to.deep.equal([]);
    });

    it('answers NOT_IN_ROOM to a socket that has not joined a call', async () => {
      const { b, bPeerId } = await twoInCall();
      const lone = await peer(server.url, 'lone');
      const answer = await ask(lone.socket, 'rtc:signal', { to: bPeerId, kind: 'offer', data: OFFER });
      expect(answer.ok).to.equal(false);
      expect(answer.error.code).to.equal('NOT_IN_ROOM');
      expect(await quietFor(b.socket, 'rtc:signal', 200)).to.deep.equal([]);
    });

    it('refuses an SDP over 32 KiB and a candidate over 2 KiB with VALIDATION_FAILED', async () => {
      const { a, b, bPeerId } = await twoInCall();
      const bigSdp = await ask(a.socket, 'rtc:signal', {
        to: bPeerId,
        kind: 'offer',
        data: { type: 'offer', sdp: 'a'.repeat(32 * 1024 + 1) },
      });
      expect(bigSdp.ok).to.equal(false);
      expect(bigSdp.error.code).to.equal('VALIDATION_FAILED');

      const bigCandidate = await ask(a.socket, 'rtc:signal', {
        to: bPeerId,
        kind: 'ice-candidate',
        data: { ...CANDIDATE, candidate: 'c'.repeat(2 * 1024 + 1) },
      });
      expect(bigCandidate.ok).to.equal(false);
      expect(bigCandidate.error.code).to.equal('VALIDATION_FAILED');
      expect(await quietFor(b.socket, 'rtc:signal', 200)).to.deep.equal([]);

      // An SDP right at the limit is still relayed.
      const atLimit = { type: 'offer', sdp: 'a'.repeat(32 * 1024) };
      const arrived = next(b.socket, 'rtc:signal');
      expect((await ask(a.socket, 'rtc:signal', { to: bPeerId, kind: 'offer', data: atLimit })).ok).to.equal(true);
      expect((await arrived).data).to.deep.equal(atLimit);
    });
  });

  describe('rtc:media', () => {
    it('tells the others {peerId, audio, video, screen}, and later joiners see it in peers', async () => {
      const { a, b, room, aPeerId } = await twoInCall();
      const aGot = collect(a.socket, 'rtc:media');
      const arrived = next(b.socket, 'rtc:media');
      expect((await ask(a.socket, 'rtc:media', { audio: true, video: false, screen: true })).ok).to.equal(true);
      expect(await arrived).to.deep.equal({ peerId: aPeerId, audio: true, video: false, screen: true });
      expect(aGot).to.deep.equal([]);

      const c = await peer(server.url, 'carol');
      const joined = await ask(c.socket, 'call:join', { roomId: room.id });
      const seenA = joined.peers.find((p: any) => p.peerId === aPeerId);
      expect(seenA.media).to.deep.equal({ audio: true, video: false, screen: true });
    });
  });

  describe('leaving', () => {
    it('call:leave tells the others call:peer-left {roomId, peerId}; the leaver is then unreachable', async () => {
      const { a, b, room, aPeerId, bPeerId } = await twoInCall();
      const left = next(a.socket, 'call:peer-left');
      expect(await ask(b.socket, 'call:leave', { roomId: room.id })).to.deep.equal({ ok: true });
      expect(await left).to.deep.equal({ roomId: room.id, peerId: bPeerId });

      const signal = await ask(a.socket, 'rtc:signal', { to: bPeerId, kind: 'offer', data: OFFER });
      expect(signal.ok).to.equal(false);
      expect(signal.error.code).to.equal('PEER_NOT_FOUND');
      const fromLeaver = await ask(b.socket, 'rtc:signal', { to: aPeerId, kind: 'offer', data: OFFER });
      expect(fromLeaver.ok).to.equal(false);
      expect(fromLeaver.error.code).to.equal('NOT_IN_ROOM');
    });

    it('call:leave for a call the socket is not in answers NOT_IN_ROOM', async () => {
      const a = await peer(server.url, 'alice');
      const room = await createRoom(server.url, a.token);
      const answer = await ask(a.socket, 'call:leave', { roomId: room.id });
      expect(answer.ok).to.equal(false);
      expect(answer.error.code).to.equal('NOT_IN_ROOM');
    });

    it('a disconnect also tells the others call:peer-left', async () => {
      const { a, b, room, bPeerId } = await twoInCall();
      const left = next(a.socket, 'call:peer-left');
      b.socket.disconnect();
      expect(await left).to.deep.equal({ roomId: room.id, peerId: bPeerId });

      // The seat is free again: a newcomer sees only a.
      const c = await peer(server.url, 'carol');
      const joined = await ask(c.socket, 'call:join', { roomId: room.id });
      expect(joined.peers.map((p: any) => p.userId)).to.deep.equal([a.user.id]);
    });
  });
});

describe('socket /rtc: MAX_CALL_PARTICIPANTS', function () {
  const { server, sockets } = useServer({ MAX_CALL_PARTICIPANTS: '2' });

  it('caps every call at MAX_CALL_PARTICIPANTS: the third peer gets ROOM_FULL', async () => {
    const users = await Promise.all(['a', 'b', 'c'].map((n) => guest(server.url, n)));
    const room = await createRoom(server.url, users[0]!.token);
    expect(room.maxParticipants).to.equal(2);
    const [a, b, c] = await Promise.all(users.map((u) => connect(server.url, '/rtc', u.token)));
    sockets.push(a!, b!, c!);
    expect((await ask(a!, 'call:join', { roomId: room.id })).ok).to.equal(true);
    expect((await ask(b!, 'call:join', { roomId: room.id })).ok).to.equal(true);
    const third = await ask(c!, 'call:join', { roomId: room.id });
    expect(third.ok).to.equal(false);
    expect(third.error.code).to.equal('ROOM_FULL');
  });
});

describe('socket /rtc: TURN credentials', function () {
  const TURN_SECRET = 'turn-shared-secret-for-tests-0123456789';
  const { server, sockets } = useServer({ TURN_URLS: 'turn:127.0.0.1:3478', TURN_SECRET, TURN_TTL_SECONDS: '600' });

  it('hands out coturn REST credentials: username "<expiry>:<userId>", credential base64(HMAC-SHA1(secret, username))', async () => {
    const g = await guest(server.url, 'turn user');
    const room = await createRoom(server.url, g.token);
    const socket = await connect(server.url, '/rtc', g.token);
    sockets.push(socket);

    const answer = await ask(socket, 'call:join', { roomId: room.id });
    expect(answer.ok).to.equal(true);
    const turn = (answer.iceServers as any[]).find((s) =>
      ([] as string[]).concat(s.urls).some((u: string) => u.startsWith('turn:')),
    );
    expect(turn, JSON.stringify(answer.iceServers)).to.be.an('object');
    expect([].concat(turn.urls)).to.deep.equal(['turn:127.0.0.1:3478']);

    const [expiry, userId, ...rest] = String(turn.username).split(':');
    expect(rest).to.deep.equal([]);
    expect(userId).to.equal(g.user.id);
    expect(Number(expiry)).to.be.closeTo(Math.floor(Date.now() / 1000) + 600, 5);
    const expected = createHmac('sha1', TURN_SECRET).update(turn.username).digest('base64');
    expect(turn.credential).to.equal(expected);

    // STUN is still there, and the secret itself never leaves the server.
    expect(answer.iceServers.some((s: any) => s.username === undefined)).to.equal(true);
    expect(JSON.stringify(answer)).not.to.include(TURN_SECRET);
  });
});
