import { expect } from 'chai';
import { createRoom, guest, request } from '../helpers/http-client.js';
import { ask } from '../helpers/socket-client.js';
import { useServer } from '../helpers/test-server.js';

/** `GET /api/messages/search` on one node (embedded mode, SQLite): access, ranking, input rules. */
describe('message search (GET /api/messages/search)', () => {
  const { server, open } = useServer();
  const search = (token: string | undefined, query: string) => request(server.url, 'GET', `/api/messages/search?${query}`, token === undefined ? {} : { token });
  const q = (roomId: string, words: string, extra = '') => `roomId=${encodeURIComponent(roomId)}&q=${encodeURIComponent(words)}${extra}`;

  it('finds what was sent over a socket and over REST, best match first, equal ones newest first', async () => {
    const ann = await guest(server.url, 'ann');
    const room = await createRoom(server.url, ann.token);
    const chat = await open(ann.token);
    await ask(chat, 'room:join', { roomId: room.id });
    for (const [i, text] of ['Deploy went fine', 'deploy deploy deploy!', 'lunch?'].entries()) {
      expect((await ask(chat, 'chat:send', { roomId: room.id, clientMsgId: `c${i}`, text })).ok).to.equal(true);
    }
    await request(server.url, 'POST', '/api/messages', { token: ann.token, body: { roomId: room.id, text: 'deploy went fine' } });
    const res = await search(ann.token, q(room.id, 'DEPLOY'));
    expect(res.status).to.equal(200);
    expect(res.body.messages.map((m: { text: string; seq: number }) => [m.seq, m.text])).to.deep.equal([
      [2, 'deploy deploy deploy!'],
      [4, 'deploy went fine'],
      [1, 'Deploy went fine'],
    ]);
    expect(res.body.hasMore).to.equal(false);
    expect((await search(ann.token, q(room.id, 'deploy', '&limit=1'))).body).to.deep.include({ hasMore: true });
    expect((await search(ann.token, q(room.id, 'fine went'))).body.messages).to.have.length(2);
  });

  it('keeps the access rules of history: a private room is its members’ only; an unknown room is 404; no token is 401', async () => {
    const ann = await guest(server.url, 'ann');
    const bob = await guest(server.url, 'bob');
    const room = await createRoom(server.url, ann.token, { name: 'secret', isPrivate: true });
    await request(server.url, 'POST', '/api/messages', { token: ann.token, body: { roomId: room.id, text: 'the secret plan' } });
    const outsider = await search(bob.token, q(room.id, 'secret'));
    expect([outsider.status, outsider.body.error.code]).to.deep.equal([403, 'FORBIDDEN']);
    expect(JSON.stringify(outsider.body)).to.not.contain('plan');
    const unknown = await search(ann.token, q('no-such-room', 'secret'));
    expect([unknown.status, unknown.body.error.code]).to.deep.equal([404, 'ROOM_NOT_FOUND']);
    expect((await search(undefined, q(room.id, 'secret'))).status).to.equal(401);
    await request(server.url, 'POST', `/api/rooms/${room.id}/members`, { token: ann.token, body: { userId: bob.user.id } });
    expect((await search(bob.token, q(room.id, 'secret'))).body.messages.map((m: { text: string }) => m.text)).to.deep.equal(['the secret plan']);
  });

  it('follows the history: a message sent after a search, edits and deletes over REST before and after the first search', async () => {
    const ann = await guest(server.url, 'ann');
    const room = await createRoom(server.url, ann.token);
    const post = async (text: string) => (await request(server.url, 'POST', '/api/messages', { token: ann.token, body: { roomId: room.id, text } })).body as { id: string };
    const found = async (words: string) => (await search(ann.token, q(room.id, words))).body.messages.map((m: { text: string }) => m.text);
    const early = await post('early draft');
    const gone = await post('gone soon');
    expect((await request(server.url, 'PATCH', `/api/messages/${early.id}`, { token: ann.token, body: { text: 'early final' } })).status).to.equal(200);
    expect([await found('draft'), await found('early')]).to.deep.equal([[], ['early final']]);
    const later = await post('later draft');
    expect(await found('later')).to.deep.equal(['later draft']);
    await request(server.url, 'PATCH', `/api/messages/${later.id}`, { token: ann.token, body: { text: 'later final' } });
    expect((await request(server.url, 'DELETE', `/api/messages/${gone.id}`, { token: ann.token })).status).to.equal(200);
    expect([await found('draft'), await found('final'), await found('gone')]).to.deep.equal([[], ['later final', 'early final'], []]);
  });

  it('answers as history does for whoever may not read the room: not a member, banned, an unknown or deleted room', async () => {
    const ann = await guest(server.url, 'ann');
    const bob = await guest(server.url, 'bob');
    const secret = await createRoom(server.url, ann.token, { name: 'secret', isPrivate: true });
    const open = await createRoom(server.url, ann.token, { name: 'open' });
    await request(server.url, 'POST', '/api/messages', { token: ann.token, body: { roomId: open.id, text: 'hello all' } });
    expect((await request(server.url, 'DELETE', `/api/rooms/${open.id}/members/${bob.user.id}?ban=true`, { token: ann.token })).status).to.equal(204);
    const deleted = await createRoom(server.url, ann.token, { name: 'gone' });
    await request(server.url, 'POST', '/api/messages', { token: ann.token, body: { roomId: deleted.id, text: 'hello gone' } });
    expect((await search(ann.token, q(deleted.id, 'hello'))).body.messages).to.have.length(1);
    expect((await request(server.url, 'DELETE', `/api/rooms/${deleted.id}`, { token: ann.token })).status).to.equal(204);
    const answer = (res: { status: number; body: { error?: { code: string } } }) => [res.status, res.body.error?.code];
    for (const [who, roomId] of [[bob.token, secret.id], [bob.token, open.id], [ann.token, 'no-such-room'], [ann.token, deleted.id]] as const) {
      const history = await request(server.url, 'GET', `/api/messages?roomId=${encodeURIComponent(roomId)}`, { token: who });
      const found = await search(who, q(roomId, 'hello'));
      expect(answer(found), roomId).to.deep.equal(answer(history));
      expect(found.status, roomId).to.be.oneOf([403, 404]);
    }
  });

  it('refuses a query that is not 1–200 characters of plain text with a word, and a bad limit, with 400 VALIDATION_FAILED', async () => {
    const ann = await guest(server.url, 'ann');
    const room = await createRoom(server.url, ann.token);
    const id = encodeURIComponent(room.id);
    const bad = [
      `roomId=${id}`,
      `roomId=${id}&q=`,
      `roomId=${id}&q=%20%20`,
      `roomId=${id}&q=${'a'.repeat(201)}`,
      `roomId=${id}&q=%21%3F%20%2A%22`,
      `roomId=${id}&q=a%00b`,
      `roomId=${id}&q=%ED%A0%80`,
      `roomId=${id}&q=a&q=b`,
      `roomId=${id}&q=a&limit=0`,
      `roomId=${id}&q=a&limit=51`,
      `roomId=${id}&q=a&limit=1e1`,
      `roomId=${id}&q=a&sort=new`,
      'q=a',
    ];
    for (const query of bad) {
      const res = await search(ann.token, query);
      expect([res.status, res.body.error?.code], query).to.deep.equal([400, 'VALIDATION_FAILED']);
    }
    expect((await search(ann.token, `roomId=${id}&q=${'a'.repeat(200)}&limit=50`)).status).to.equal(200);
    // Query syntax of the index is plain text here.
    for (const words of ['"a" OR b*', 'NEAR(a b)', 'a AND NOT b', 'words:a', '^a', '-a +b']) {
      expect((await search(ann.token, q(room.id, words))).status, words).to.equal(200);
    }
  });
});
