import { expect } from 'chai';
import { rmSync } from 'node:fs';
import type { Socket } from 'socket.io-client';
import { createRoom, guest, request, scrapeMetrics, type HttpResult } from '../helpers/http-client.js';
import { ask, connect, connectError, next } from '../helpers/socket-client.js';
import { startServer, tempDir, type TestServer } from '../helpers/test-server.js';
import { nextSecond, signToken } from '../helpers/tokens.js';

const ADMIN = 'operator-secret-token-0123456789';
const JWT_SECRET = 'operator-api-tests-jwt-secret-0123456789abcdef';

function expectError(res: HttpResult, status: number, code: string, what = ''): void {
  expect(res.status, `${what} status (body ${JSON.stringify(res.body)?.slice(0, 200)})`).to.equal(status);
  expect(res.body?.error?.code, what).to.equal(code);
  expect(res.body.error.message, what).to.be.a('string').and.not.equal('');
}

describe('operator API (ADMIN_TOKEN), embedded node', () => {
  let server: TestServer;
  let url: string;
  const sockets: Socket[] = [];
  const admin = (method: string, path: string, body?: unknown) => request(url, method, path, { token: ADMIN, body });
  const open = async (token: string, nsp = '/chat', options: Record<string, unknown> = {}) => {
    const s = await connect(url, nsp, token, options);
    sockets.push(s);
    return s;
  };

  before(async () => {
    server = await startServer({ ADMIN_TOKEN: ADMIN, JWT_SECRET });
    url = server.url;
  });
  afterEach(() => sockets.splice(0).forEach((s) => s.close()));
  after(async () => {
    await server?.stop();
  });

  describe('GET /api/admin/rooms/:id/participants', () => {
    it('lists /chat users and call peers (with peerId) with this node id', async () => {
      const ann = await guest(url, 'Ann');
      const bob = await guest(url, 'Bob');
      const room = await createRoom(url, ann.token);
      expect((await admin('GET', `/api/admin/rooms/${room.id}/participants`)).body).to.deep.equal({ participants: [] });
      const chat = await open(ann.token);
      expect((await ask(chat, 'room:join', { roomId: room.id })).ok).to.equal(true);
      const rtc = await open(bob.token, '/rtc');
      const joined = await ask(rtc, 'call:join', { roomId: room.id });
      expect(joined.ok).to.equal(true);
      const res = await admin('GET', `/api/admin/rooms/${room.id}/participants`);
      expect(res.status).to.equal(200);
      const nodeId = server.app.config.nodeId;
      expect(res.body.participants).to.have.deep.members([
        { userId: ann.user.id, name: 'Ann', nodeId },
        { userId: bob.user.id, name: 'Bob', nodeId, peerId: joined.peerId },
      ]);
    });

    it('answers 404 ROOM_NOT_FOUND for an unknown room, 400 for a bad id', async () => {
      expectError(await admin('GET', '/api/admin/rooms/nope/participants'), 404, 'ROOM_NOT_FOUND');
      expectError(await admin('GET', `/api/admin/rooms/${'r'.repeat(129)}/participants`), 400, 'VALIDATION_FAILED');
    });
  });

  describe('POST /api/admin/rooms/:id/messages', () => {
    it('sends a system message with the next seq, durable and delivered live', async () => {
      const ann = await guest(url, 'Ann');
      const room = await createRoom(url, ann.token);
      const first = await request(url, 'POST', '/api/messages', { token: ann.token, body: { roomId: room.id, text: 'hi' } });
      expect(first.body.seq).to.equal(1);
      const chat = await open(ann.token);
      await ask(chat, 'room:join', { roomId: room.id });
      const live = next(chat, 'chat:message');
      const res = await admin('POST', `/api/admin/rooms/${room.id}/messages`, { text: 'maintenance at 17:00' });
      expect(res.status).to.equal(201);
      expect(res.body).to.include({ roomId: room.id, seq: 2, senderId: 'system', senderName: 'system', text: 'maintenance at 17:00', clientMsgId: null });
      expect(await live).to.deep.equal(res.body);
      const history = await request(url, 'GET', `/api/messages?roomId=${room.id}`, { token: ann.token });
      expect(history.body.messages.map((m: { seq: number; senderId: string }) => [m.seq, m.senderId])).to.deep.equal([
        [1, ann.user.id],
        [2, 'system'],
      ]);
    });

    it('applies the chat text rules and refuses unknown rooms and fields', async () => {
      const ann = await guest(url, 'Ann');
      const room = await createRoom(url, ann.token);
      const path = `/api/admin/rooms/${room.id}/messages`;
      expectError(await admin('POST', path, {}), 400, 'VALIDATION_FAILED', 'no text');
      expectError(await admin('POST', path, { text: '   ' }), 400, 'VALIDATION_FAILED', 'blank');
      expectError(await admin('POST', path, { text: 42 }), 400, 'VALIDATION_FAILED', 'number');
      expectError(await admin('POST', path, { text: 'x'.repeat(4001) }), 400, 'VALIDATION_FAILED', 'too long');
      expectError(await admin('POST', path, { text: 'a\u0000b' }), 400, 'VALIDATION_FAILED', 'control character');
      expectError(await admin('POST', path, { text: 'hi', senderId: 'me' }), 400, 'VALIDATION_FAILED', 'unknown field');
      expectError(await admin('POST', '/api/admin/rooms/nope/messages', { text: 'hi' }), 404, 'ROOM_NOT_FOUND');
      expect((await request(url, 'GET', `/api/rooms/${room.id}`, { token: ann.token })).body.lastSeq).to.equal(0);
    });
  });

  describe('POST /api/admin/users/:userId/disconnect', () => {
    it('closes every socket of the user on both namespaces, and none of anyone else', async () => {
      const ann = await guest(url, 'Ann');
      const bob = await guest(url, 'Bob');
      const mine = [await open(ann.token), await open(ann.token), await open(ann.token, '/rtc')];
      const bobs = await open(bob.token);
      const closed = mine.map((s) => next<string>(s, 'disconnect'));
      const res = await admin('POST', `/api/admin/users/${ann.user.id}/disconnect`, {});
      expect(res.status).to.equal(200);
      expect(res.body).to.deep.equal({ disconnected: 3 });
      expect(await Promise.all(closed)).to.deep.equal(['io server disconnect', 'io server disconnect', 'io server disconnect']);
      expect(bobs.connected).to.equal(true);
      expect((await admin('POST', `/api/admin/users/${ann.user.id}/disconnect`)).body).to.deep.equal({ disconnected: 0 });
      // Without revoke the token still works.
      await open(ann.token);
    });

    it('leaves no session to recover: the client comes back only through a new handshake', async () => {
      const ann = await guest(url, 'Ann');
      const room = await createRoom(url, ann.token);
      const chat = await open(ann.token);
      await ask(chat, 'room:join', { roomId: room.id });
      // The control: a dropped transport is recovered, and the recovered socket is still
      // marked for operators (its user's room, this node's id).
      const dropped = next(chat, 'disconnect');
      chat.io.engine.close();
      await dropped;
      chat.connect();
      await next(chat, 'connect');
      expect(chat.recovered, 'a transport drop is recovered').to.equal(true);
      expect((await admin('GET', `/api/admin/rooms/${room.id}/participants`)).body.participants).to.deep.equal([
        { userId: ann.user.id, name: 'Ann', nodeId: server.app.config.nodeId },
      ]);
      const closed = next(chat, 'disconnect');
      expect((await admin('POST', `/api/admin/users/${ann.user.id}/disconnect`)).body).to.deep.equal({ disconnected: 1 });
      await closed;
      chat.connect();
      await next(chat, 'connect');
      expect(chat.recovered, 'the session was discarded').to.equal(false);
      expect((await admin('GET', `/api/admin/rooms/${room.id}/participants`)).body.participants).to.deep.equal([]);
    });

    it('with revoke: refuses the tokens issued up to now on handshakes and REST, cached or not, and a later token works', async () => {
      const ann = await guest(url, 'Ann');
      await open(ann.token);
      // At or before the revoking second, whichever second the call lands in.
      const revokedFrom = Math.floor(Date.now() / 1000);
      const res = await admin('POST', `/api/admin/users/${ann.user.id}/disconnect`, { revoke: true });
      expect(res.body).to.deep.equal({ disconnected: 1 });
      const refused = await connectError(url, '/chat', ann.token);
      expect(refused.message).to.equal('UNAUTHORIZED');
      expect(refused.data?.message).to.match(/revoked/);
      const rest = await request(url, 'GET', '/api/ice-servers', { token: ann.token });
      expectError(rest, 401, 'UNAUTHORIZED');
      expect(rest.body.error.message).to.match(/revoked/);
      // Issued in the revoking second: it may predate the revocation, so it is refused too.
      const sameSecond = await signToken(JWT_SECRET, ann.user.id, { iat: revokedFrom });
      expect((await connectError(url, '/rtc', sameSecond)).message).to.equal('UNAUTHORIZED');
      // No iat: older than any revocation.
      const noIat = await signToken(JWT_SECRET, ann.user.id, { iat: null });
      expectError(await request(url, 'GET', '/api/ice-servers', { token: noIat }), 401, 'UNAUTHORIZED', 'no iat');
      await nextSecond();
      const fresh = await server.app.tokens.issue({ ...ann.user, guest: true });
      await open(fresh);
      await open(fresh, '/rtc');
      expect((await request(url, 'GET', '/api/ice-servers', { token: fresh })).status).to.equal(200);
      // Other users are untouched.
      const bob = await guest(url, 'Bob');
      const bobOld = await signToken(JWT_SECRET, bob.user.id, { iat: null });
      expect((await request(url, 'GET', '/api/ice-servers', { token: bobOld })).status).to.equal(200);
    });

    it('counts disconnects and revocations in /metrics', async () => {
      const ann = await guest(url, 'Ann');
      await open(ann.token);
      const before = await scrapeMetrics(url);
      const value = (m: Map<string, number>, name: string) => [...m].find(([k]) => k.startsWith(name))?.[1] ?? 0;
      await admin('POST', `/api/admin/users/${ann.user.id}/disconnect`, { revoke: true });
      const after = await scrapeMetrics(url);
      expect(value(after, 'operator_disconnects_total') - value(before, 'operator_disconnects_total')).to.equal(1);
      expect(value(after, 'operator_disconnected_sockets_total') - value(before, 'operator_disconnected_sockets_total')).to.equal(1);
      expect(value(after, 'operator_token_revocations_total') - value(before, 'operator_token_revocations_total')).to.equal(1);
    });

    it('refuses bad ids and bodies with 400 VALIDATION_FAILED', async () => {
      expectError(await admin('POST', `/api/admin/users/${'u'.repeat(129)}/disconnect`), 400, 'VALIDATION_FAILED', 'long id');
      expectError(await admin('POST', '/api/admin/users/u1/disconnect', { revoke: 'yes' }), 400, 'VALIDATION_FAILED', 'string revoke');
      expectError(await admin('POST', '/api/admin/users/u1/disconnect', { revoke: true, all: true }), 400, 'VALIDATION_FAILED', 'unknown field');
      expectError(await admin('POST', '/api/admin/users/u1/disconnect', [true]), 400, 'VALIDATION_FAILED', 'array body');
    });
  });

  describe('who may call it', () => {
    const routes: Array<[string, string, unknown]> = [
      ['GET', '/api/admin/rooms/r1/participants', undefined],
      ['POST', '/api/admin/rooms/r1/messages', { text: 'hi' }],
      ['POST', '/api/admin/users/u1/disconnect', { revoke: true }],
    ];
    for (const [method, path, body] of routes) {
      it(`${method} ${path}: 401 without a token, 403 with a user's token or another token`, async () => {
        const ann = await guest(url, 'Ann');
        expectError(await request(url, method, path, { body }), 401, 'UNAUTHORIZED');
        expectError(await request(url, method, path, { body, token: ann.token }), 403, 'FORBIDDEN');
        expectError(await request(url, method, path, { body, token: `${ADMIN}x` }), 403, 'FORBIDDEN');
      });
    }
  });

  describe('the system sender', () => {
    it('a token whose subject is "system" is refused on handshakes and REST', async () => {
      const token = await signToken(JWT_SECRET, 'system');
      expect((await connectError(url, '/chat', token)).message).to.equal('UNAUTHORIZED');
      expectError(await request(url, 'GET', '/api/ice-servers', { token }), 401, 'UNAUTHORIZED');
      expectError(await request(url, 'POST', '/api/rooms', { token, body: { name: 'x' } }), 401, 'UNAUTHORIZED');
    });
  });

  describe('revocations survive a restart', () => {
    it('a token revoked before the restart is refused after it', async () => {
      const dataDir = tempDir('vcs-operator-');
      const env = { ADMIN_TOKEN: ADMIN, JWT_SECRET };
      let node = await startServer(env, { dataDir });
      try {
        const ann = await guest(node.url, 'Ann');
        expect((await request(node.url, 'POST', `/api/admin/users/${ann.user.id}/disconnect`, { token: ADMIN, body: { revoke: true } })).status).to.equal(200);
        await node.stop();
        node = await startServer(env, { dataDir });
        expectError(await request(node.url, 'GET', '/api/ice-servers', { token: ann.token }), 401, 'UNAUTHORIZED');
        expect((await connectError(node.url, '/chat', ann.token)).data?.message).to.match(/revoked/);
      } finally {
        await node.stop();
        rmSync(dataDir, { recursive: true, force: true });
      }
    });
  });
});
