import { expect } from 'chai';
import { createHmac } from 'node:crypto';
import { createRoom, guest, request } from '../helpers/http-client.js';
import { startServer, type TestServer } from '../helpers/test-server.js';

describe('REST API (DESIGN §4 happy paths)', () => {
  let server: TestServer;
  let url: string;
  let alice: { token: string; user: { id: string; name: string } };
  let bob: { token: string; user: { id: string; name: string } };

  before(async () => {
    server = await startServer();
    url = server.url;
    alice = await guest(url, 'Alice');
    bob = await guest(url, 'Bob');
  });
  after(async () => {
    await server?.stop();
  });

  const post = (token: string, roomId: string, text: string, clientMsgId?: string) =>
    request(url, 'POST', '/api/messages', { token, body: clientMsgId === undefined ? { roomId, text } : { roomId, text, clientMsgId } });
  const list = (token: string, query: string) => request(url, 'GET', `/api/messages?${query}`, { token });

  describe('guest login', () => {
    it('answers 201 with a token and the user', async () => {
      const res = await request(url, 'POST', '/api/auth/guest', { body: { name: 'Carol' } });
      expect(res.status).to.equal(201);
      expect(res.body.token).to.be.a('string').and.match(/^[\w-]+\.[\w-]+\.[\w-]+$/);
      expect(res.body.user).to.have.all.keys('id', 'name');
      expect(res.body.user.name).to.equal('Carol');
      expect(res.body.user.id).to.be.a('string').and.not.equal('');
    });

    it('gives a token that authenticates the next calls', async () => {
      const res = await request(url, 'GET', '/api/ice-servers', { token: alice.token });
      expect(res.status).to.equal(200);
    });
  });

  describe('rooms', () => {
    it('creates a room (201) with every field and lastSeq 0', async () => {
      const res = await request(url, 'POST', '/api/rooms', { token: alice.token, body: { name: 'Standup', isPrivate: false, maxParticipants: 4 } });
      expect(res.status).to.equal(201);
      expect(res.body).to.have.all.keys('id', 'name', 'isPrivate', 'maxParticipants', 'createdBy', 'createdAt', 'lastSeq', 'lastRev', 'locked', 'lobby');
      expect(res.body).to.include({ name: 'Standup', isPrivate: false, maxParticipants: 4, createdBy: alice.user.id, lastSeq: 0, locked: false, lobby: false });
      expect(res.body.id).to.be.a('string').and.not.equal('');
      expect(new Date(res.body.createdAt).toISOString()).to.equal(res.body.createdAt);
    });

    it('fills defaults: public, maxParticipants = MAX_CALL_PARTICIPANTS', async () => {
      const room = await createRoom(url, alice.token, { name: 'Defaults' });
      expect(room.isPrivate).to.equal(false);
      expect(room.maxParticipants).to.equal(8);
    });

    it('reads a room back with participants online now ([] with nobody connected)', async () => {
      const room = await createRoom(url, alice.token, { name: 'Readable' });
      const res = await request(url, 'GET', `/api/rooms/${room.id}`, { token: bob.token });
      expect(res.status).to.equal(200);
      // Bob has no role in Alice's public room: a visitor.
      expect(res.body).to.deep.equal({ ...room, role: null, participants: [] });
    });

    it('answers 404 ROOM_NOT_FOUND for an unknown room', async () => {
      const res = await request(url, 'GET', '/api/rooms/no-such-room', { token: alice.token });
      expect(res.status).to.equal(404);
      expect(res.body.error.code).to.equal('ROOM_NOT_FOUND');
      const members = await request(url, 'POST', '/api/rooms/no-such-room/members', { token: alice.token, body: { userId: bob.user.id } });
      expect(members.status).to.equal(404);
      expect(members.body.error.code).to.equal('ROOM_NOT_FOUND');
      const msg = await post(alice.token, 'no-such-room', 'hello?');
      expect(msg.status).to.equal(404);
      expect(msg.body.error.code).to.equal('ROOM_NOT_FOUND');
      const hist = await list(alice.token, 'roomId=no-such-room');
      expect(hist.status).to.equal(404);
      expect(hist.body.error.code).to.equal('ROOM_NOT_FOUND');
    });
  });

  describe('messages', () => {
    let roomId: string;
    const posted: any[] = [];

    before(async () => {
      roomId = (await createRoom(url, alice.token, { name: 'History' })).id;
      for (let i = 1; i <= 5; i++) {
        const res = await post(alice.token, roomId, `message ${i}`, `cm-${i}`);
        expect(res.status).to.equal(201);
        posted.push(res.body);
      }
    });

    it('stores posted messages with seq 1..5 and every field', () => {
      expect(posted.map((m) => m.seq)).to.deep.equal([1, 2, 3, 4, 5]);
      const first = posted[0];
      expect(first).to.have.all.keys('id', 'roomId', 'seq', 'senderId', 'senderName', 'text', 'clientMsgId', 'createdAt');
      expect(first).to.include({ roomId, senderId: alice.user.id, senderName: 'Alice', text: 'message 1', clientMsgId: 'cm-1' });
    });

    it("moves the room's lastSeq", async () => {
      const res = await request(url, 'GET', `/api/rooms/${roomId}`, { token: alice.token });
      expect(res.body.lastSeq).to.equal(5);
    });

    it('accepts a message without clientMsgId (clientMsgId null)', async () => {
      const room = await createRoom(url, alice.token, { name: 'NoClientId' });
      const res = await post(alice.token, room.id, 'plain');
      expect(res.status).to.equal(201);
      expect(res.body).to.include({ seq: 1, clientMsgId: null, text: 'plain' });
    });

    it('answers a repeated clientMsgId with 200 and the identical message, storing nothing new', async () => {
      const again = await post(alice.token, roomId, 'message 3 (retried, different text)', 'cm-3');
      expect(again.status).to.equal(200);
      expect(again.body).to.deep.equal(posted[2]);
      const all = await list(alice.token, `roomId=${roomId}`);
      expect(all.body.messages).to.deep.equal(posted);
    });

    it('refuses another user reusing a clientMsgId in the same room (409 CONFLICT), and keeps the original', async () => {
      const res = await post(bob.token, roomId, 'hijack', 'cm-2');
      expect(res.status).to.equal(409);
      expect(res.body.error.code).to.equal('CONFLICT');
      expect(JSON.stringify(res.body)).not.to.contain('message 2');
      const all = await list(alice.token, `roomId=${roomId}`);
      expect(all.body.messages).to.deep.equal(posted);
    });

    it('lets the same clientMsgId be used in another room', async () => {
      const other = await createRoom(url, bob.token, { name: 'Other' });
      const res = await post(bob.token, other.id, 'mine', 'cm-2');
      expect(res.status).to.equal(201);
      expect(res.body.seq).to.equal(1);
    });

    it('lists the latest page oldest first, hasMore false when all fit', async () => {
      const res = await list(bob.token, `roomId=${roomId}`);
      expect(res.status).to.equal(200);
      expect(res.body).to.deep.equal({ messages: posted, hasMore: false });
    });

    it('lists the latest page with limit=, hasMore telling that older ones exist', async () => {
      const res = await list(alice.token, `roomId=${roomId}&limit=2`);
      expect(res.body.messages.map((m: any) => m.seq)).to.deep.equal([4, 5]);
      expect(res.body.hasMore).to.equal(true);
    });

    it('pages forward with after=', async () => {
      const page = await list(alice.token, `roomId=${roomId}&after=2&limit=2`);
      expect(page.body.messages.map((m: any) => m.seq)).to.deep.equal([3, 4]);
      expect(page.body.hasMore).to.equal(true);
      const last = await list(alice.token, `roomId=${roomId}&after=3`);
      expect(last.body.messages.map((m: any) => m.seq)).to.deep.equal([4, 5]);
      expect(last.body.hasMore).to.equal(false);
      const none = await list(alice.token, `roomId=${roomId}&after=5`);
      expect(none.body).to.deep.equal({ messages: [], hasMore: false });
    });

    it('pages backward with before=', async () => {
      const page = await list(alice.token, `roomId=${roomId}&before=4&limit=2`);
      expect(page.body.messages.map((m: any) => m.seq)).to.deep.equal([2, 3]);
      expect(page.body.hasMore).to.equal(true);
      const first = await list(alice.token, `roomId=${roomId}&before=2&limit=2`);
      expect(first.body.messages.map((m: any) => m.seq)).to.deep.equal([1]);
      expect(first.body.hasMore).to.equal(false);
    });

    it('pages through the whole history with before= cursors and sees each message once', async () => {
      const seen: number[] = [];
      let query = `roomId=${roomId}&limit=2`;
      for (let i = 0; i < 10; i++) {
        const res = await list(alice.token, query);
        seen.unshift(...res.body.messages.map((m: any) => m.seq));
        if (!res.body.hasMore) break;
        query = `roomId=${roomId}&limit=2&before=${res.body.messages[0].seq}`;
      }
      expect(seen).to.deep.equal([1, 2, 3, 4, 5]);
    });

    it('gives an empty room an empty page', async () => {
      const room = await createRoom(url, alice.token, { name: 'Empty' });
      const res = await list(alice.token, `roomId=${room.id}`);
      expect(res.body).to.deep.equal({ messages: [], hasMore: false });
    });
  });

  describe('private rooms', () => {
    it('refuses a non-member with 403 FORBIDDEN on details, history and posting, storing nothing', async () => {
      const room = await createRoom(url, alice.token, { name: 'Secret', isPrivate: true });
      expect(room.isPrivate).to.equal(true);
      await post(alice.token, room.id, 'for members only', 'p-1');

      const details = await request(url, 'GET', `/api/rooms/${room.id}`, { token: bob.token });
      expect(details.status).to.equal(403);
      expect(details.body.error.code).to.equal('FORBIDDEN');
      const history = await list(bob.token, `roomId=${room.id}`);
      expect(history.status).to.equal(403);
      expect(history.body.error.code).to.equal('FORBIDDEN');
      expect(JSON.stringify(history.body)).not.to.contain('for members only');
      const posting = await post(bob.token, room.id, 'let me in', 'b-1');
      expect(posting.status).to.equal(403);
      expect(posting.body.error.code).to.equal('FORBIDDEN');

      const own = await list(alice.token, `roomId=${room.id}`);
      expect(own.body.messages.map((m: any) => m.text)).to.deep.equal(['for members only']);
    });

    it('lets the creator add a member (204), who then reads, lists and posts', async () => {
      const room = await createRoom(url, alice.token, { name: 'Team', isPrivate: true });
      await post(alice.token, room.id, 'welcome', 'w-1');
      const add = await request(url, 'POST', `/api/rooms/${room.id}/members`, { token: alice.token, body: { userId: bob.user.id } });
      expect(add.status).to.equal(204);
      expect(add.body).to.equal(undefined);

      const details = await request(url, 'GET', `/api/rooms/${room.id}`, { token: bob.token });
      expect(details.status).to.equal(200);
      expect(details.body.id).to.equal(room.id);
      const history = await list(bob.token, `roomId=${room.id}`);
      expect(history.status).to.equal(200);
      expect(history.body.messages.map((m: any) => m.text)).to.deep.equal(['welcome']);
      const posting = await post(bob.token, room.id, 'thanks', 'b-1');
      expect(posting.status).to.equal(201);
      expect(posting.body).to.include({ seq: 2, senderId: bob.user.id });
    });

    it('lets only the creator add members (403 FORBIDDEN for anyone else)', async () => {
      const room = await createRoom(url, alice.token, { name: 'Closed', isPrivate: true });
      const carol = await guest(url, 'Carol');
      const self = await request(url, 'POST', `/api/rooms/${room.id}/members`, { token: carol.token, body: { userId: carol.user.id } });
      expect(self.status).to.equal(403);
      expect(self.body.error.code).to.equal('FORBIDDEN');
      const still = await request(url, 'GET', `/api/rooms/${room.id}`, { token: carol.token });
      expect(still.status).to.equal(403);

      // A member who is not the creator cannot add others either.
      await request(url, 'POST', `/api/rooms/${room.id}/members`, { token: alice.token, body: { userId: bob.user.id } });
      const byMember = await request(url, 'POST', `/api/rooms/${room.id}/members`, { token: bob.token, body: { userId: carol.user.id } });
      expect(byMember.status).to.equal(403);
      expect(byMember.body.error.code).to.equal('FORBIDDEN');
      expect((await request(url, 'GET', `/api/rooms/${room.id}`, { token: carol.token })).status).to.equal(403);
    });

    it('keeps public rooms open to any user', async () => {
      const room = await createRoom(url, alice.token, { name: 'Lobby' });
      const res = await post(bob.token, room.id, 'hi all');
      expect(res.status).to.equal(201);
    });
  });

  describe('ICE servers', () => {
    it('needs a token (401 UNAUTHORIZED)', async () => {
      const res = await request(url, 'GET', '/api/ice-servers');
      expect(res.status).to.equal(401);
      expect(res.body.error.code).to.equal('UNAUTHORIZED');
    });

    it('returns iceServers and an ISO-8601 expiresAt, not cacheable', async () => {
      const before = Date.now();
      const res = await request(url, 'GET', '/api/ice-servers', { token: alice.token });
      expect(res.status).to.equal(200);
      expect(res.body.iceServers).to.be.an('array').with.length.greaterThan(0);
      expect(res.body.iceServers[0].urls).to.deep.equal(['stun:stun.l.google.com:19302']);
      expect(new Date(res.body.expiresAt).toISOString()).to.equal(res.body.expiresAt);
      expect(Date.parse(res.body.expiresAt) - before).to.be.within(14400 * 1000 - 2000, 14400 * 1000 + 1000);
      expect(res.headers.get('cache-control')).to.contain('no-store');
    });

    it('hands out coturn REST credentials for the caller when TURN is configured', async () => {
      const secret = 'integration-turn-secret-0123456789';
      const turnServer = await startServer({ TURN_URLS: 'turn:turn.example:3478', TURN_SECRET: secret, TURN_TTL_SECONDS: '600' });
      try {
        const me = await guest(turnServer.url, 'Turner');
        const res = await request(turnServer.url, 'GET', '/api/ice-servers', { token: me.token });
        expect(res.status).to.equal(200);
        const turn = res.body.iceServers.find((s: any) => s.username !== undefined);
        const [expiry, userId] = turn.username.split(':');
        expect(userId).to.equal(me.user.id);
        expect(Number(expiry) * 1000).to.equal(Date.parse(res.body.expiresAt));
        expect(Number(expiry) - Math.floor(Date.now() / 1000)).to.be.within(598, 600);
        expect(turn.credential).to.equal(createHmac('sha1', secret).update(turn.username).digest('base64'));
        expect(JSON.stringify(res.body)).not.to.contain(secret);
      } finally {
        await turnServer.stop();
      }
    });
  });

  describe('operations endpoints', () => {
    it('/healthz answers 200 ok', async () => {
      const res = await request(url, 'GET', '/healthz');
      expect(res.status).to.equal(200);
      expect(res.body.status).to.equal('ok');
    });

    it("/readyz answers 200 {status:'ok', dependencies:{store:'up'}}", async () => {
      const res = await request(url, 'GET', '/readyz');
      expect(res.status).to.equal(200);
      expect(res.body).to.deep.include({ status: 'ok', dependencies: { store: 'up' } });
    });

    it('/metrics serves Prometheus text with http_requests_total', async () => {
      const res = await request(url, 'GET', '/metrics');
      expect(res.status).to.equal(200);
      expect(res.headers.get('content-type')).to.contain('text/plain');
      expect(res.body).to.be.a('string').and.contain('http_requests_total');
      expect(res.body).to.match(/http_requests_total\{[^}]*route="\/api\/messages"[^}]*\} \d+/);
    });

    it('answers unknown routes with a JSON 404', async () => {
      const res = await request(url, 'GET', '/no/such/route');
      expect(res.status).to.equal(404);
      expect(res.headers.get('content-type')).to.contain('application/json');
      expect(res.body.error.code).to.be.a('string');
      expect(res.body.error.message).to.be.a('string');
      const api = await request(url, 'GET', '/api/nothing-here', { token: alice.token });
      expect(api.status).to.equal(404);
      expect(api.body.error).to.be.an('object');
    });

    it('sends security headers and hides the framework', async () => {
      for (const path of ['/healthz', '/api/ice-servers', '/no/such/route']) {
        const res = await request(url, 'GET', path, { token: alice.token });
        expect(res.headers.get('x-content-type-options'), path).to.equal('nosniff');
        expect(res.headers.get('x-powered-by'), path).to.equal(null);
        expect(res.headers.get('x-frame-options'), path).to.be.a('string');
      }
    });

    it('answers CORS for an allowed origin and not for a foreign one', async () => {
      const ok = await request(url, 'GET', '/healthz', { headers: { origin: 'http://localhost:5173' } });
      expect(ok.headers.get('access-control-allow-origin')).to.equal('http://localhost:5173');
      const foreign = await request(url, 'GET', '/healthz', { headers: { origin: 'https://evil.example' } });
      expect(foreign.headers.get('access-control-allow-origin')).to.equal(null);
    });
  });
});
