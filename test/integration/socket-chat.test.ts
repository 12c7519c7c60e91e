import { expect } from 'chai';
import { createRoom, guest, request, scrapeMetrics } from '../helpers/http-client.js';
import { ask, collect, eventually, next, quietFor } from '../helpers/socket-client.js';
import { useServer } from '../helpers/test-server.js';
import { roomWithTwo } from './room-with-two.js';

describe('/chat: rooms, presence and chat over Socket.IO', () => {
  // Some tests seed more messages than one user's default budget (RATE_LIMIT_MESSAGES) allows.
  const { server, open } = useServer({ RATE_LIMIT_MESSAGES: '1000' });

  const scrape = () => scrapeMetrics(server.url);

  it('joins a room, sees presence, and delivers chat to every member socket with seq', async () => {
    const ann = await guest(server.url, 'ann');
    const bob = await guest(server.url, 'bob');
    const room = await createRoom(server.url, ann.token, { name: 'lobby' });
    const annSocket = await open(ann.token);
    const annSecondTab = await open(ann.token);
    const bobSocket = await open(bob.token);

    const joined = await ask(annSocket, 'room:join', { roomId: room.id });
    expect(joined.ok).to.equal(true);
    expect(joined.room).to.include({ id: room.id, name: 'lobby', lastSeq: 0 });
    expect(joined.participants).to.deep.equal([{ userId: ann.user.id, name: 'ann' }]);
    expect(joined.messages).to.deep.equal([]);
    expect(joined.complete).to.equal(true);
    await ask(annSecondTab, 'room:join', { roomId: room.id });

    const presence = next(annSocket, 'room:presence', (p) => 'joined' in p);
    const bobJoin = await ask(bobSocket, 'room:join', { roomId: room.id });
    expect(bobJoin.participants).to.have.deep.members([
      { userId: ann.user.id, name: 'ann' },
      { userId: bob.user.id, name: 'bob' },
    ]);
    expect(await presence).to.deep.equal({ roomId: room.id, joined: { userId: bob.user.id, name: 'bob' } });

    const atBob = next(bobSocket, 'chat:message');
    const atSecondTab = next(annSecondTab, 'chat:message');
    const sent = await ask(annSocket, 'chat:send', { roomId: room.id, clientMsgId: 'm-1', text: 'hello <b>bob</b>' });
    expect(sent.ok).to.equal(true);
    expect(sent.message).to.include({ roomId: room.id, seq: 1, senderId: ann.user.id, senderName: 'ann', text: 'hello <b>bob</b>', clientMsgId: 'm-1' });
    expect(await atBob).to.deep.equal(sent.message);
    expect(await atSecondTab).to.deep.equal(sent.message);

    const second = await ask(bobSocket, 'chat:send', { roomId: room.id, clientMsgId: 'm-2', text: 'hi ann' });
    expect(second.message.seq).to.equal(2);
    const rest = await request(server.url, 'GET', `/api/messages?roomId=${room.id}`, { token: bob.token });
    expect(rest.body.messages.map((m: { seq: number }) => m.seq)).to.deep.equal([1, 2]);
  });

  it('does not store or deliver a retried clientMsgId twice, and counts it so in /metrics', async () => {
    const { ann, room, a, b } = await roomWithTwo(server.url, open);
    const received = collect(b, 'chat:message');
    const before = await scrape();

    const first = await ask(a, 'chat:send', { roomId: room.id, clientMsgId: 'same', text: 'once' });
    const retries = await Promise.all([1, 2, 3].map(() => ask(a, 'chat:send', { roomId: room.id, clientMsgId: 'same', text: 'once' })));
    for (const r of retries) expect(r.message).to.deep.equal(first.message);
    await eventually(() => received.length >= 1);
    await quietFor(b, 'chat:message', 200);
    expect(received).to.have.length(1);
    const rest = await request(server.url, 'GET', `/api/messages?roomId=${room.id}`, { token: ann.token });
    expect(rest.body.messages).to.have.length(1);
    const after = await scrape();
    /** Sum of the series of `name` (with `labels` among theirs): after minus before. */
    const delta = (name: string, labels = '') => {
      const sum = (all: Map<string, number>) =>
        [...all].filter(([k]) => (k === name || k.startsWith(`${name}{`)) && k.includes(labels)).reduce((t, [, v]) => t + v, 0);
      return sum(after) - sum(before);
    };
    expect(delta('chat_messages_accepted_total')).to.equal(1);
    expect(delta('chat_messages_delivered_total')).to.equal(1);
    expect(delta('socket_events_total', 'event="chat:send",code="OK"')).to.equal(4);
  });

  it('a send whose ack was lost (the connection dropped) and is retried after reconnecting is stored once', async () => {
    const ann = await guest(server.url, 'ann');
    const room = await createRoom(server.url, ann.token);
    const first = await open(ann.token);
    await ask(first, 'room:join', { roomId: room.id });
    // The server stores it, but the client never sees the ack: the connection goes first.
    first.emit('chat:send', { roomId: room.id, clientMsgId: 'lost-ack', text: 'did it arrive?' });
    await eventually(async () => (await request(server.url, 'GET', `/api/messages?roomId=${room.id}`, { token: ann.token })).body.messages.length === 1);
    first.close();
    const again = await open(ann.token);
    await ask(again, 'room:join', { roomId: room.id });
    const retry = await ask(again, 'chat:send', { roomId: room.id, clientMsgId: 'lost-ack', text: 'did it arrive?' });
    expect(retry.ok).to.equal(true);
    expect(retry.message).to.include({ seq: 1, clientMsgId: 'lost-ack' });
    const rest = await request(server.url, 'GET', `/api/messages?roomId=${room.id}`, { token: ann.token });
    expect(rest.body.messages).to.have.length(1);
  });

  it('delivers messages posted over REST live to the room', async () => {
    const ann = await guest(server.url, 'ann');
    const room = await createRoom(server.url, ann.token);
    const s = await open(ann.token);
    await ask(s, 'room:join', { roomId: room.id });
    const live = next(s, 'chat:message');
    const posted = await request(server.url, 'POST', '/api/messages', { token: ann.token, body: { roomId: room.id, text: 'from REST' } });
    expect(posted.status).to.equal(201);
    expect(await live).to.deep.equal(posted.body);
  });

  it('a member who was away rejoins with lastSeq and gets exactly the missed messages, in order', async () => {
    const ann = await guest(server.url, 'ann');
    const bob = await guest(server.url, 'bob');
    const room = await createRoom(server.url, ann.token);
    const a = await open(ann.token);
    await ask(a, 'room:join', { roomId: room.id });
    let b = await open(bob.token);
    const bJoin = await ask(b, 'room:join', { roomId: room.id });
    for (let i = 1; i <= 3; i++) await ask(a, 'chat:send', { roomId: room.id, clientMsgId: `x${i}`, text: `m${i}` });
    await eventually(async () => (await ask(b, 'chat:history', { roomId: room.id })).messages.length === 3);
    const lastSeq = 3;
    expect(bJoin.ok).to.equal(true);
    b.close();

    for (let i = 4; i <= 8; i++) await ask(a, 'chat:send', { roomId: room.id, clientMsgId: `x${i}`, text: `m${i}` });
    b = await open(bob.token);
    const rejoin = await ask(b, 'room:join', { roomId: room.id, lastSeq });
    expect(rejoin.messages.map((m: { seq: number; text: string }) => [m.seq, m.text])).to.deep.equal([
      [4, 'm4'],
      [5, 'm5'],
      [6, 'm6'],
      [7, 'm7'],
      [8, 'm8'],
    ]);
    expect(rejoin.complete).to.equal(true);
    expect(rejoin.room.lastSeq).to.equal(8);
  });

  it('pages a long catch-up with complete:false and chat:history after', async () => {
    const ann = await guest(server.url, 'ann');
    const room = await createRoom(server.url, ann.token);
    for (let i = 1; i <= 120; i++) {
      await request(server.url, 'POST', '/api/messages', { token: ann.token, body: { roomId: room.id, text: `m${i}`, clientMsgId: `p${i}` } });
    }
    const s = await open(ann.token);
    const join = await ask(s, 'room:join', { roomId: room.id, lastSeq: 0 });
    expect(join.complete).to.equal(false);
    expect(join.messages).to.have.length(100);
    expect(join.messages[0].seq).to.equal(1);
    const rest = await ask(s, 'chat:history', { roomId: room.id, after: 100 });
    expect(rest.messages.map((m: { seq: number }) => m.seq)).to.deep.equal(Array.from({ length: 20 }, (_, i) => 101 + i));
    expect(rest.hasMore).to.equal(false);
    const older = await ask(s, 'chat:history', { roomId: room.id, before: 11, limit: 5 });
    expect(older.messages.map((m: { seq: number }) => m.seq)).to.deep.equal([6, 7, 8, 9, 10]);
    expect(older.hasMore).to.equal(true);
  });

  it('relays typing to the others only, and announces a leave', async () => {
    const { ann, room, a, b } = await roomWithTwo(server.url, open);
    const typing = next(b, 'chat:typing');
    const ownTyping = quietFor(a, 'chat:typing', 300);
    expect((await ask(a, 'chat:typing', { roomId: room.id, typing: true })).ok).to.equal(true);
    expect(await typing).to.deep.equal({ roomId: room.id, userId: ann.user.id, typing: true });
    expect(await ownTyping).to.deep.equal([]);

    const left = next(b, 'room:presence', (p) => 'left' in p);
    expect((await ask(a, 'room:leave', { roomId: room.id })).ok).to.equal(true);
    expect(await left).to.deep.equal({ roomId: room.id, left: { userId: ann.user.id, name: 'ann' } });
    const notIn = await ask(a, 'chat:send', { roomId: room.id, clientMsgId: 'z', text: 'x' });
    expect(notIn.error.code).to.equal('NOT_IN_ROOM');

    const gone = next(b, 'room:presence', (p) => 'left' in p);
    await ask(a, 'room:join', { roomId: room.id });
    a.close();
    expect((await gone).left.userId).to.equal(ann.user.id);
  });

  it('keeps private rooms to their members and records delivery cursors', async () => {
    const owner = await guest(server.url, 'owner');
    const outsider = await guest(server.url, 'outsider');
    const room = await createRoom(server.url, owner.token, { name: 'secret', isPrivate: true });
    const o = await open(owner.token);
    const x = await open(outsider.token);
    await ask(o, 'room:join', { roomId: room.id });
    const listening = quietFor(x, 'chat:message', 300);
    expect((await ask(x, 'room:join', { roomId: room.id })).error.code).to.equal('FORBIDDEN');
    expect((await ask(x, 'chat:history', { roomId: room.id })).error.code).to.equal('FORBIDDEN');
    expect((await ask(x, 'chat:send', { roomId: room.id, clientMsgId: 'a', text: 'x' })).error.code).to.equal('NOT_IN_ROOM');
    await ask(o, 'chat:send', { roomId: room.id, clientMsgId: 'a', text: 'members only' });
    expect(await listening).to.deep.equal([]);
    expect((await ask(x, 'room:join', { roomId: 'no-such-room' })).error.code).to.equal('ROOM_NOT_FOUND');

    expect((await ask(o, 'chat:ack', { roomId: room.id, seq: 1 })).ok).to.equal(true);
    expect(await server.app.store.getCursor(room.id, owner.user.id)).to.equal(1);
  });
});
