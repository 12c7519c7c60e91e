import { expect } from 'chai';
import type { Socket } from 'socket.io-client';
import { createRoom, guest, request } from '../helpers/http-client.js';
import { ask, collect, connect } from '../helpers/socket-client.js';
import { Control, expectError, sleep, startSecure, watchProcessFaults, type SecureServer } from './harness.js';
import { RawClient } from './raw-client.js';

/**
 * S25: rooms and IDOR. A private room admits its members only, on every REST route and every
 * socket event, checked against server-side membership; only the owner adds members; a
 * signal reaches only a peer in the sender's own call; a recovered session goes back only
 * to the user it belonged to. What the client claims in a payload grants nothing.
 */
describe('security: private rooms and authorization (S25)', function () {
  watchProcessFaults();
  let server: SecureServer;
  let control: Control;
  type User = { token: string; user: { id: string } };
  let owner: User;
  let member: User;
  let outsider: User;
  let roomId: string;
  let memberChat: Socket;
  let memberRtc: Socket;
  let outsiderChat: Socket;
  let outsiderRtc: Socket;
  const leaks: unknown[] = [];

  before(async () => {
    server = await startSecure({ RATE_LIMIT_HANDSHAKES: '10000' });
    control = await Control.open(server.url);
    owner = await guest(server.url, 'owner');
    member = await guest(server.url, 'member');
    outsider = await guest(server.url, 'outsider');
    roomId = (await createRoom(server.url, owner.token, { name: 'private', isPrivate: true })).id;
    expect((await request(server.url, 'POST', `/api/rooms/${roomId}/members`, { token: owner.token, body: { userId: member.user.id } })).status).to.equal(
      204,
    );
    memberChat = await connect(server.url, '/chat', member.token);
    memberRtc = await connect(server.url, '/rtc', member.token);
    outsiderChat = await connect(server.url, '/chat', outsider.token);
    outsiderRtc = await connect(server.url, '/rtc', outsider.token);
    expect((await ask(memberChat, 'room:join', { roomId })).ok).to.equal(true);
    expect((await ask(memberRtc, 'call:join', { roomId })).ok).to.equal(true);
    // Whatever the outsider manages to send must never reach the member.
    for (const event of ['chat:message', 'chat:typing', 'room:presence']) leaks.push(...collect(memberChat, event));
    for (const event of ['rtc:signal', 'rtc:media', 'call:peer-joined']) leaks.push(...collect(memberRtc, event));
  });
  afterEach(async function () {
    await control.check(this.currentTest?.title ?? '');
  });
  after(async () => {
    for (const s of [memberChat, memberRtc, outsiderChat, outsiderRtc]) s?.close();
    control?.close();
    await server?.stop();
  });

  it('S25 REST: a non-member gets 403 FORBIDDEN on details, history and posting; an unknown room is 404', async () => {
    const t = outsider.token;
    expectError(await request(server.url, 'GET', `/api/rooms/${roomId}`, { token: t }), 403, 'FORBIDDEN', 'details');
    expectError(await request(server.url, 'GET', `/api/messages?roomId=${roomId}`, { token: t }), 403, 'FORBIDDEN', 'history');
    expectError(await request(server.url, 'POST', '/api/messages', { token: t, body: { roomId, text: 'let me in' } }), 403, 'FORBIDDEN', 'post');
    expectError(await request(server.url, 'GET', '/api/rooms/no-such-room', { token: t }), 404, 'ROOM_NOT_FOUND', 'unknown room');
    // The member is let in everywhere the outsider is not.
    expect((await request(server.url, 'GET', `/api/rooms/${roomId}`, { token: member.token })).status).to.equal(200);
    expect((await request(server.url, 'GET', `/api/messages?roomId=${roomId}`, { token: member.token })).status).to.equal(200);
  });

  it('S25 REST: only the owner adds members (a member or an outsider adding anyone gets 403 FORBIDDEN)', async () => {
    const add = (token: string, userId: string) => request(server.url, 'POST', `/api/rooms/${roomId}/members`, { token, body: { userId } });
    expectError(await add(outsider.token, outsider.user.id), 403, 'FORBIDDEN', 'outsider adds self');
    expectError(await add(member.token, outsider.user.id), 403, 'FORBIDDEN', 'member adds outsider');
    expectError(await add(outsider.token, 'someone'), 403, 'FORBIDDEN', 'outsider adds someone');
    expectError(await add(outsider.token, 'x'.repeat(64)), 403, 'FORBIDDEN');
    expectError(await add(owner.token, ''), 400, 'VALIDATION_FAILED', 'empty userId');
    expectError(
      await request(server.url, 'POST', '/api/rooms/no-such-room/members', { token: owner.token, body: { userId: outsider.user.id } }),
      404,
      'ROOM_NOT_FOUND',
    );
    expectError(await request(server.url, 'GET', `/api/rooms/${roomId}`, { token: outsider.token }), 403, 'FORBIDDEN', 'still out');
  });

  it('S25 /chat: every event of a non-member is refused (FORBIDDEN / NOT_IN_ROOM) and reaches nobody', async () => {
    const expectCode = async (event: string, payload: unknown, code: string) => {
      const answer = await ask(outsiderChat, event, payload);
      expect(answer.ok, `${event} ${JSON.stringify(answer)}`).to.equal(false);
      expect(answer.error.code, event).to.equal(code);
    };
    await expectCode('room:join', { roomId }, 'FORBIDDEN');
    await expectCode('room:join', { roomId, lastSeq: 0 }, 'FORBIDDEN');
    await expectCode('chat:history', { roomId }, 'FORBIDDEN');
    await expectCode('chat:history', { roomId, after: 0, limit: 100 }, 'FORBIDDEN');
    await expectCode('chat:ack', { roomId, seq: 1 }, 'FORBIDDEN');
    await expectCode('chat:read', { roomId, seq: 1 }, 'FORBIDDEN');
    // Sending, typing and leaving need a join of this socket, which the outsider never got.
    await expectCode('chat:send', { roomId, clientMsgId: 'sneak-1', text: 'sneaking in' }, 'NOT_IN_ROOM');
    await expectCode('chat:typing', { roomId, typing: true }, 'NOT_IN_ROOM');
    await expectCode('room:leave', { roomId }, 'NOT_IN_ROOM');
    // Claims in the payload are refused, never believed.
    await expectCode('room:join', { roomId, member: true }, 'VALIDATION_FAILED');
    await expectCode('room:join', { roomId, userId: owner.user.id }, 'VALIDATION_FAILED');
    await expectCode('chat:send', { roomId, clientMsgId: 'sneak-2', text: 'as owner', senderId: owner.user.id }, 'VALIDATION_FAILED');
    await sleep(100);
    expect(leaks, 'nothing reached the member').to.deep.equal([]);
    const history = await request(server.url, 'GET', `/api/messages?roomId=${roomId}`, { token: member.token });
    expect(history.body.messages).to.deep.equal([]);
  });

  it('S25 /rtc: a non-member cannot join the call, nor signal or show media to its peers (FORBIDDEN / PEER_NOT_FOUND)', async () => {
    const join = await ask(outsiderRtc, 'call:join', { roomId });
    expect(join.error?.code).to.equal('FORBIDDEN');
    // In a call of its own (a public room), the outsider targets the member's peer id and
    // the member's /chat socket id: neither is in the outsider's call.
    const lobby = await createRoom(server.url, outsider.token, { name: 'lobby' });
    expect((await ask(outsiderRtc, 'call:join', { roomId: lobby.id })).ok).to.equal(true);
    for (const to of [memberRtc.id, memberChat.id, outsiderRtc.id, 'no-such-peer']) {
      const answer = await ask(outsiderRtc, 'rtc:signal', { to, kind: 'offer', data: { type: 'offer', sdp: 'v=0' } });
      expect(answer.error?.code, `signal to ${to}`).to.equal('PEER_NOT_FOUND');
    }
    expect((await ask(outsiderRtc, 'rtc:media', { audio: true, video: true, screen: true })).ok).to.equal(true);
    expect((await ask(outsiderRtc, 'call:leave', { roomId })).error?.code).to.equal('NOT_IN_ROOM');
    await sleep(100);
    expect(leaks, 'nothing reached the member').to.deep.equal([]);
  });

  it('S25 a stolen recovery session id does not carry a private room to another user (FORBIDDEN), nor leak what it missed', async () => {
    // The member's session: joined to the private room, then dropped by the network.
    const raw = await RawClient.open(server.port);
    const first = await raw.connect('/chat', { token: member.token });
    if (!first.ok) throw new Error(`connect refused: ${first.message}`);
    expect((await raw.ask('/chat', 'room:join', { roomId })).ok).to.equal(true);
    const offset = raw.lastOffset('/chat');
    raw.drop();
    await sleep(50);
    const secret = `while-away-${Date.now()}`;
    expect((await ask(memberChat, 'chat:send', { roomId, clientMsgId: secret, text: 'for members only' })).ok).to.equal(true);

    // The outsider presents the member's pid and offset with its own valid token.
    const thief = await RawClient.open(server.port);
    const stolen = await thief.connect('/chat', { token: outsider.token, pid: first.pid, offset });
    expect(stolen).to.deep.include({ ok: false, message: 'FORBIDDEN' });
    expect(thief.frames.join('\n'), 'the missed message is not replayed to the thief').not.to.contain(secret);
    thief.close();

    // The member itself still recovers the session, with the message it missed.
    const back = await RawClient.open(server.port);
    const recovered = await back.connect('/chat', { token: member.token, pid: first.pid, offset });
    expect(recovered).to.deep.include({ ok: true, sid: first.sid });
    expect(back.frames.join('\n')).to.contain(secret);
    // A second copy of a live session is not restored (it would take over the live socket).
    const twin = await RawClient.open(server.port);
    const copy = await twin.connect('/chat', { token: member.token, pid: first.pid, offset });
    expect(copy.ok).to.equal(true);
    expect((copy as { sid: string }).sid).not.to.equal(first.sid);
    const again = `after-twin-${Date.now()}`;
    const heard = back.frame((f) => f.includes(again));
    expect((await ask(memberChat, 'chat:send', { roomId, clientMsgId: again, text: 'still delivered' })).ok).to.equal(true);
    expect(await heard, 'the recovered socket still gets room messages').to.be.a('string');
    back.close();
    twin.close();
  });
});
