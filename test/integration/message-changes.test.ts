import { expect } from 'chai';
import { io, type Socket } from 'socket.io-client';
import { createRoom, guest, request } from '../helpers/http-client.js';
import { queueDrained } from '../helpers/cluster.js';
import { ask, collect, connect, eventually, next, quietFor } from '../helpers/socket-client.js';
import { onOneNodeAndTwo } from '../helpers/one-and-two-nodes.js';
import { startServer, type TestServer } from '../helpers/test-server.js';

/**
 * Edits, deletes, reactions and replies (DESIGN §8.4), end to end. The same suite runs on one
 * node and on two nodes over Redis, where the author is on node A and the reader on node B;
 * there, what changed is also checked in the store once the persistence queue drained.
 */

const ENV = { RECOVERY_WINDOW_MS: '60000' };

// On two nodes the author is on node A and the reader on node B.
onOneNodeAndTwo('message changes', ENV, (urls, cluster) => changesSuite(urls, async () => {
  const c = cluster();
  if (c) await queueDrained(c);
}));

interface User {
  token: string;
  user: { id: string; name: string };
}

function changesSuite(urls: () => [string, string], drained: () => Promise<void>): void {
  const sockets: Socket[] = [];
  afterEach(() => sockets.splice(0).forEach((s) => s.close()));
  const nodeA = () => urls()[0];
  const nodeB = () => urls()[1];
  const open = async (url: string, who: User) => {
    const s = await connect(url, '/chat', who.token);
    sockets.push(s);
    return s;
  };
  /** Ann (owner) on A and Bob (member) on B, both joined to Ann's room. */
  const setUp = async () => {
    const ann = await guest(nodeA(), 'ann');
    const bob = await guest(nodeB(), 'bob');
    const room = await createRoom(nodeA(), ann.token, { name: 'changes' });
    const a = await open(nodeA(), ann);
    const b = await open(nodeB(), bob);
    expect((await ask(a, 'room:join', { roomId: room.id })).ok).to.equal(true);
    expect((await ask(b, 'room:join', { roomId: room.id })).ok).to.equal(true);
    return { ann, bob, room, a, b };
  };
  const send = async (s: Socket, roomId: string, clientMsgId: string, text: string, extra: Record<string, unknown> = {}) => {
    const answer = await ask(s, 'chat:send', { roomId, clientMsgId, text, ...extra });
    expect(answer.ok, JSON.stringify(answer)).to.equal(true);
    return answer.message;
  };
  const codeOf = (answer: { ok: boolean; error?: { code: string } }) => (answer.ok ? 'ok' : answer.error!.code);

  it('edit, react and delete reach everyone as chat:message-updated with the whole message; seq stays 1, 2, 3', async () => {
    const { ann, bob, room, a, b } = await setUp();
    const updatesAtB = collect(b, 'chat:message-updated');
    const updatesAtA = collect(a, 'chat:message-updated');
    const first = await send(a, room.id, 'c1', 'helo');
    expect(first).to.not.have.any.keys('rev', 'editedAt', 'deletedAt', 'reactions');

    const edited = await ask(a, 'chat:edit', { roomId: room.id, seq: 1, text: 'hello' });
    expect(edited.ok, JSON.stringify(edited)).to.equal(true);
    expect(edited.message).to.include({ id: first.id, seq: 1, text: 'hello', rev: 1 });
    expect(edited.message.editedAt).to.be.a('string');
    await eventually(() => updatesAtB.length === 1 && updatesAtA.length === 1, 5000, 'the edit everywhere');
    expect(updatesAtB[0]).to.deep.equal({ message: edited.message });

    // A retried edit changes nothing: the same message, the same rev, no second event.
    const retried = await ask(a, 'chat:edit', { roomId: room.id, seq: 1, text: 'hello' });
    expect(retried.message).to.deep.equal(edited.message);

    const reacted = await ask(b, 'chat:react', { roomId: room.id, seq: 1, emoji: '👍', on: true });
    expect(reacted.message.reactions).to.deep.equal([{ emoji: '👍', count: 1, userIds: [bob.user.id] }]);
    const again = await ask(b, 'chat:react', { roomId: room.id, seq: 1, emoji: '👍', on: true });
    expect(again.message.rev).to.equal(2);
    await eventually(() => updatesAtA.length === 2, 5000, 'the reaction at A');
    expect(updatesAtA[1].message.reactions[0]).to.include({ emoji: '👍', count: 1 });

    const second = await send(a, room.id, 'c2', 'second');
    expect(second.seq).to.equal(2);
    const deleted = await ask(a, 'chat:delete', { roomId: room.id, seq: 1 });
    expect(deleted.message).to.include({ seq: 1, text: '', rev: 3 });
    expect(deleted.message.deletedAt).to.be.a('string');
    expect(deleted.message).to.not.have.property('reactions');
    const third = await send(a, room.id, 'c3', 'third');
    expect(third.seq).to.equal(3);
    // The delete reaches B through the adapter, on its own time: wait for it, then for nothing more.
    await eventually(() => updatesAtB.length >= 3, 5000, 'the delete at B');
    expect(await quietFor(b, 'chat:message-updated', 200)).to.have.length(0);
    expect(updatesAtB.map((u) => u.message.rev)).to.deep.equal([1, 2, 3]);

    // Every read path gives the message deleted, without its text.
    const history = await ask(b, 'chat:history', { roomId: room.id, after: 0 });
    expect(history.messages.map((m: { seq: number; text: string }) => [m.seq, m.text])).to.deep.equal([
      [1, ''],
      [2, 'second'],
      [3, 'third'],
    ]);
    expect(history.messages[0]).to.deep.equal(deleted.message);
    const joined = await ask(await open(nodeB(), ann), 'room:join', { roomId: room.id });
    expect(joined.messages[0]).to.deep.equal(deleted.message);
    expect(joined.room).to.include({ lastSeq: 3, lastRev: 3 });
    expect((await ask(a, 'chat:send', { roomId: room.id, clientMsgId: 'c1', text: 'helo' })).message).to.deep.equal(deleted.message);
    const rest = await request(nodeB(), 'GET', `/api/messages?roomId=${room.id}&after=0`, { token: ann.token });
    expect(rest.body.messages[0]).to.deep.equal(deleted.message);
    // And the store has it too, once the queue (cluster mode) drained.
    await drained();
    expect((await ask(b, 'chat:history', { roomId: room.id, after: 0 })).messages[0]).to.deep.equal(deleted.message);
    expect((await request(nodeA(), 'GET', `/api/rooms/${room.id}`, { token: ann.token })).body).to.include({ lastRev: 3, lastSeq: 3 });
  });

  it('only the author edits; the author, a moderator or the owner deletes; bad input changes nothing', async () => {
    const { ann, bob, room, a, b } = await setUp();
    await send(a, room.id, 'a1', 'from ann');
    await send(b, room.id, 'b1', 'from bob');
    const other = await createRoom(nodeA(), ann.token, { name: 'other' });
    expect(codeOf(await ask(b, 'chat:edit', { roomId: room.id, seq: 1, text: 'hijack' }))).to.equal('FORBIDDEN');
    expect(codeOf(await ask(b, 'chat:delete', { roomId: room.id, seq: 1 }))).to.equal('FORBIDDEN');
    expect(codeOf(await ask(a, 'chat:edit', { roomId: room.id, seq: 2, text: 'owner edits?' }))).to.equal('FORBIDDEN');
    expect(codeOf(await ask(a, 'chat:edit', { roomId: room.id, seq: 9, text: 'nothing there' }))).to.equal('MESSAGE_NOT_FOUND');
    expect((await ask(a, 'room:join', { roomId: other.id })).ok).to.equal(true);
    expect(codeOf(await ask(a, 'chat:edit', { roomId: other.id, seq: 1, text: 'wrong room' }))).to.equal('MESSAGE_NOT_FOUND');
    expect(codeOf(await ask(a, 'chat:react', { roomId: other.id, seq: 1, emoji: '👍', on: true }))).to.equal('MESSAGE_NOT_FOUND');
    for (const emoji of ['a', '👍👍', ':)', '', 'x'.repeat(40)]) {
      expect(codeOf(await ask(a, 'chat:react', { roomId: room.id, seq: 1, emoji, on: true })), emoji).to.equal('VALIDATION_FAILED');
    }
    expect(codeOf(await ask(a, 'chat:edit', { roomId: room.id, seq: 1, text: 'x'.repeat(4001) }))).to.equal('VALIDATION_FAILED');
    expect(codeOf(await ask(a, 'chat:edit', { roomId: room.id, seq: 0, text: 'zero' }))).to.equal('VALIDATION_FAILED');
    expect(codeOf(await ask(a, 'chat:send', { roomId: room.id, clientMsgId: 'r9', text: 'reply', replyTo: 9 }))).to.equal('MESSAGE_NOT_FOUND');
    const flags = ['🇫🇷', '👨‍👩‍👧', '👍🏽', '❤️'];
    for (const emoji of flags) expect(codeOf(await ask(a, 'chat:react', { roomId: room.id, seq: 1, emoji, on: true })), emoji).to.equal('ok');
    // Nothing refused moved the room's rev: only the four reactions did.
    let joined = await ask(b, 'room:join', { roomId: room.id });
    expect(joined.room.lastRev).to.equal(4);
    // The owner (a moderator) deletes Bob's message; an edit of a deleted message is a CONFLICT.
    expect(codeOf(await ask(a, 'chat:delete', { roomId: room.id, seq: 2 }))).to.equal('ok');
    expect(codeOf(await ask(b, 'chat:edit', { roomId: room.id, seq: 2, text: 'back' }))).to.equal('CONFLICT');
    expect(codeOf(await ask(b, 'chat:delete', { roomId: room.id, seq: 2 }))).to.equal('ok');
    joined = await ask(b, 'room:join', { roomId: room.id });
    expect(joined.room.lastRev).to.equal(5);
    expect(joined.messages[1]).to.include({ text: '', seq: 2 });
    // A reply points at a seq of the room.
    const reply = await send(b, room.id, 'b2', 'answer', { replyTo: 1 });
    expect(reply).to.include({ seq: 3, replyTo: 1 });
    expect((await ask(a, 'chat:history', { roomId: room.id, after: 2 })).messages[0]).to.include({ replyTo: 1 });
    // A non-member of a private room gets FORBIDDEN over REST.
    const secret = await createRoom(nodeA(), bob.token, { name: 'secret', isPrivate: true });
    const bs = await ask(b, 'room:join', { roomId: secret.id });
    expect(bs.ok).to.equal(true);
    const hidden = await send(b, secret.id, 's1', 'hidden');
    await drained();
    expect((await request(nodeA(), 'PATCH', `/api/messages/${hidden.id}`, { token: ann.token, body: { text: 'x' } })).status).to.equal(403);
  });

  it('REST: PATCH, DELETE and reactions by message id, delivered live', async () => {
    const { ann, bob, room, a, b } = await setUp();
    const updatesAtB = collect(b, 'chat:message-updated');
    const m = await send(a, room.id, 'r1', 'rest me');
    await drained(); // REST finds a message by id in the store
    const patched = await request(nodeA(), 'PATCH', `/api/messages/${m.id}`, { token: ann.token, body: { text: 'rested' } });
    expect(patched.status, JSON.stringify(patched.body)).to.equal(200);
    expect(patched.body).to.include({ id: m.id, text: 'rested', rev: 1 });
    const emoji = encodeURIComponent('🎉');
    const put = await request(nodeB(), 'PUT', `/api/messages/${m.id}/reactions/${emoji}`, { token: bob.token });
    expect(put.status).to.equal(200);
    expect(put.body.reactions).to.deep.equal([{ emoji: '🎉', count: 1, userIds: [bob.user.id] }]);
    const removed = await request(nodeB(), 'DELETE', `/api/messages/${m.id}/reactions/${emoji}`, { token: bob.token });
    expect(removed.body).to.include({ rev: 3 }).and.not.have.property('reactions');
    expect((await request(nodeB(), 'PUT', `/api/messages/${m.id}/reactions/abc`, { token: bob.token })).status).to.equal(400);
    expect((await request(nodeB(), 'PATCH', `/api/messages/${m.id}`, { token: bob.token, body: { text: 'mine now' } })).status).to.equal(403);
    expect((await request(nodeB(), 'PATCH', `/api/messages/${m.id}`, { token: ann.token, body: { text: 'x', extra: 1 } })).status).to.equal(400);
    const unknown = await request(nodeA(), 'DELETE', '/api/messages/no-such-message', { token: ann.token });
    expect([unknown.status, unknown.body.error.code]).to.deep.equal([404, 'MESSAGE_NOT_FOUND']);
    const deleted = await request(nodeA(), 'DELETE', `/api/messages/${m.id}`, { token: ann.token });
    expect(deleted.status).to.equal(200);
    expect(deleted.body).to.include({ text: '', rev: 4 });
    expect((await request(nodeA(), 'PATCH', `/api/messages/${m.id}`, { token: ann.token, body: { text: 'again' } })).body.error.code).to.equal('CONFLICT');
    await eventually(() => updatesAtB.length === 4, 5000, 'four updates at B');
    expect(updatesAtB.map((u) => u.message.rev)).to.deep.equal([1, 2, 3, 4]);
    const posted = await request(nodeA(), 'POST', '/api/messages', { token: ann.token, body: { roomId: room.id, text: 'reply', replyTo: 1 } });
    expect(posted.body).to.include({ seq: 2, replyTo: 1 });
  });

  it('a member away rejoins with lastSeq and lastRev: the new messages and the current state of older ones changed since', async () => {
    const { ann, bob, room, a, b } = await setUp();
    for (let i = 1; i <= 3; i++) await send(a, room.id, `m${i}`, `message ${i}`);
    await ask(a, 'chat:edit', { roomId: room.id, seq: 3, text: 'message three' });
    const seen = await ask(b, 'room:join', { roomId: room.id });
    const { lastSeq, lastRev } = seen.room;
    expect([lastSeq, lastRev]).to.deep.equal([3, 1]);
    b.close();

    await ask(a, 'chat:edit', { roomId: room.id, seq: 1, text: 'message one' });
    await ask(a, 'chat:react', { roomId: room.id, seq: 2, emoji: '👀', on: true });
    await ask(a, 'chat:edit', { roomId: room.id, seq: 1, text: 'message ONE' });
    await send(a, room.id, 'm4', 'message 4');
    await ask(a, 'chat:delete', { roomId: room.id, seq: 4 });

    const back = await open(nodeB(), bob);
    const rejoined = await ask(back, 'room:join', { roomId: room.id, lastSeq, lastRev });
    expect(rejoined.ok, JSON.stringify(rejoined)).to.equal(true);
    // The new message comes in its current state (deleted); the changes of older ones once each, by rev.
    expect(rejoined.messages.map((m: { seq: number; text: string }) => [m.seq, m.text])).to.deep.equal([[4, '']]);
    expect(rejoined.updates.map((m: { seq: number; rev: number; text: string }) => [m.seq, m.rev, m.text])).to.deep.equal([
      [2, 3, 'message 2'],
      [1, 4, 'message ONE'],
    ]);
    expect(rejoined.updatesComplete).to.equal(true);
    expect(rejoined.room).to.include({ lastSeq: 4, lastRev: 5 });
    // Nothing changed since: nothing again.
    const same = await ask(back, 'room:join', { roomId: room.id, lastSeq: 4, lastRev: 5 });
    expect([same.messages, same.updates]).to.deep.equal([[], []]);
    void ann;
  });

  it('concurrent reactions from both nodes are all kept, each change once, revs 1 … n', async () => {
    const { room, a, b } = await setUp();
    await send(a, room.id, 'p1', 'popular');
    const seenAtB = collect(b, 'chat:message-updated');
    const users = await Promise.all(Array.from({ length: 8 }, (_, i) => guest(i % 2 ? nodeB() : nodeA(), `fan${i}`)));
    const fans = await Promise.all(users.map((u, i) => open(i % 2 ? nodeB() : nodeA(), u)));
    await Promise.all(fans.map((f) => ask(f, 'room:join', { roomId: room.id })));
    const answers = await Promise.all(fans.map((f) => ask(f, 'chat:react', { roomId: room.id, seq: 1, emoji: '🔥', on: true })));
    expect(answers.every((x) => x.ok), JSON.stringify(answers.find((x) => !x.ok))).to.equal(true);
    const current = (await ask(b, 'chat:history', { roomId: room.id, after: 0 })).messages[0];
    expect(current.reactions[0].count).to.equal(8);
    expect([...current.reactions[0].userIds].sort()).to.deep.equal(users.map((u) => u.user.id).sort());
    await eventually(() => seenAtB.length === 8, 5000, 'eight updates at B');
    expect(seenAtB.map((u) => u.message.rev).sort((x, y) => x - y)).to.deep.equal([1, 2, 3, 4, 5, 6, 7, 8]);
    await drained();
    expect((await ask(a, 'chat:history', { roomId: room.id, after: 0 })).messages[0]).to.deep.equal(current);
  });

  it('a member whose connection drops recovers the changes it missed (connection-state recovery)', async () => {
    const { room, a } = await setUp();
    const bob = await guest(nodeB(), 'bob2');
    const b = io(nodeB() + '/chat', { path: '/ws', transports: ['websocket'], auth: { token: bob.token }, forceNew: true, reconnectionDelay: 50, reconnectionDelayMax: 100 });
    sockets.push(b);
    await next(b, 'hello');
    expect((await ask(b, 'room:join', { roomId: room.id })).ok).to.equal(true);
    const updates = collect(b, 'chat:message-updated');
    await send(a, room.id, 'k1', 'keep');
    b.io.engine.close();
    await eventually(() => !b.connected, 2000, 'b disconnected');
    const edited = await ask(a, 'chat:edit', { roomId: room.id, seq: 1, text: 'kept' });
    const reacted = await ask(a, 'chat:react', { roomId: room.id, seq: 1, emoji: '✅', on: true });
    await eventually(() => b.connected, 5000, 'b reconnected');
    expect(b.recovered).to.equal(true);
    await eventually(() => updates.length === 2, 5000, 'the missed changes replayed');
    expect(updates).to.deep.equal([{ message: edited.message }, { message: reacted.message }]);
  });
}

describe('message changes: the chat budget', () => {
  let server: TestServer;
  before(async () => {
    server = await startServer({ RATE_LIMIT_MESSAGES: '3' });
  });
  after(async () => {
    await server?.stop();
  });

  it('edits and reactions count toward the per-user chat budget (RATE_LIMIT_MESSAGES)', async () => {
    const ann = await guest(server.url, 'ann');
    const room = await createRoom(server.url, ann.token);
    const a = await connect(server.url, '/chat', ann.token);
    try {
      await ask(a, 'room:join', { roomId: room.id });
      expect((await ask(a, 'chat:send', { roomId: room.id, clientMsgId: 'b1', text: 'one' })).ok).to.equal(true);
      expect((await ask(a, 'chat:edit', { roomId: room.id, seq: 1, text: 'two' })).ok).to.equal(true);
      expect((await ask(a, 'chat:react', { roomId: room.id, seq: 1, emoji: '👍', on: true })).ok).to.equal(true);
      const refused = await ask(a, 'chat:edit', { roomId: room.id, seq: 1, text: 'four' });
      expect(refused.error.code).to.equal('RATE_LIMITED');
      expect(refused.error.retryAfterMs).to.be.a('number');
      expect((await ask(a, 'chat:history', { roomId: room.id, after: 0 })).messages[0]).to.include({ text: 'two', rev: 2 });
    } finally {
      a.close();
    }
  });
});
