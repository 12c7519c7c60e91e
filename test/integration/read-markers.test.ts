import { expect } from 'chai';
import { randomUUID } from 'node:crypto';
import { io, type Socket } from 'socket.io-client';
import { createRoom, guest, request } from '../helpers/http-client.js';
import { ask, collect, connect, eventually, next, quietFor } from '../helpers/socket-client.js';
import { onOneNodeAndTwo } from '../helpers/one-and-two-nodes.js';

/**
 * Read markers and unread counts (DESIGN §8.4), end to end. The same suite runs on one node
 * and on two nodes over Redis, where the writer is on node A and the reader on node B.
 */

// On two nodes the writer is on node A and the reader on node B.
onOneNodeAndTwo('read markers and unread counts', {}, (urls) => readSuite(urls));

interface User {
  token: string;
  user: { id: string; name: string };
}

interface ReadEvent {
  roomId: string;
  userId: string;
  seq: number;
}

function readSuite(urls: () => [string, string]): void {
  const sockets: Socket[] = [];
  afterEach(() => sockets.splice(0).forEach((s) => s.close()));
  const nodeA = () => urls()[0];
  const nodeB = () => urls()[1];
  const open = async (url: string, who: User) => {
    const s = await connect(url, '/chat', who.token);
    sockets.push(s);
    return s;
  };
  /** A client as apps build it: reconnects by itself, so its session can be recovered. */
  const reconnecting = async (url: string, who: User) => {
    const s = io(`${url}/chat`, { path: '/ws', transports: ['websocket'], auth: { token: who.token }, forceNew: true, reconnectionDelay: 50, reconnectionDelayMax: 100 });
    sockets.push(s);
    await next(s, 'hello');
    return s;
  };
  const join = async (socket: Socket, roomId: string) => {
    const answer = await ask(socket, 'room:join', { roomId });
    expect(answer.ok, JSON.stringify(answer)).to.equal(true);
    return answer as { room: { lastSeq: number }; unread: number };
  };
  const send = async (socket: Socket, roomId: string, text: string) => {
    const answer = await ask(socket, 'chat:send', { roomId, clientMsgId: randomUUID(), text });
    expect(answer.ok, JSON.stringify(answer)).to.equal(true);
    return answer.message as { seq: number };
  };
  /** My unread count in the room, as GET /api/rooms lists it. */
  const listedUnread = async (url: string, who: User, roomId: string): Promise<number | undefined> => {
    const page = await request(url, 'GET', '/api/rooms?limit=100', { token: who.token });
    expect(page.status).to.equal(200);
    return (page.body.rooms as { id: string; unread: number }[]).find((r) => r.id === roomId)?.unread;
  };
  /** Ann (on A) with a room she and Bob (on B) have joined. */
  const roomOfTwo = async () => {
    const ann = await guest(nodeA(), 'ann');
    const bob = await guest(nodeB(), 'bob');
    const room = await createRoom(nodeA(), ann.token, { name: 'reading room' });
    const a = await open(nodeA(), ann);
    const b = await open(nodeB(), bob);
    await join(a, room.id);
    expect((await join(b, room.id)).unread).to.equal(0);
    return { ann, bob, room, a, b };
  };

  it('chat:read moves my marker forward only; the others get chat:read only when it moved', async () => {
    const { ann, bob, room, a, b } = await roomOfTwo();
    for (const text of ['one', 'two', 'three']) await send(a, room.id, text);
    expect(await listedUnread(nodeB(), bob, room.id)).to.equal(3);
    const receipts = collect<ReadEvent>(a, 'chat:read');

    expect(await ask(b, 'chat:read', { roomId: room.id, seq: 2 })).to.deep.equal({ ok: true });
    await eventually(() => receipts.length === 1, 5000, 'the receipt');
    expect(receipts[0]).to.deep.equal({ roomId: room.id, userId: bob.user.id, seq: 2 });
    expect(await listedUnread(nodeB(), bob, room.id)).to.equal(1);
    expect((await join(b, room.id)).unread).to.equal(1);

    // Back and in place: accepted, nothing moves, nobody hears of it.
    expect(await ask(b, 'chat:read', { roomId: room.id, seq: 1 })).to.deep.equal({ ok: true });
    expect(await ask(b, 'chat:read', { roomId: room.id, seq: 2 })).to.deep.equal({ ok: true });
    expect(await quietFor(a, 'chat:read')).to.deep.equal([]);
    expect(await listedUnread(nodeA(), bob, room.id)).to.equal(1);
    // The reader does not get its own receipt; the delivery cursor (chat:ack) moves no marker.
    expect(receipts).to.have.length(1);
    expect(await ask(b, 'chat:ack', { roomId: room.id, seq: 3 })).to.deep.equal({ ok: true });
    expect(await listedUnread(nodeB(), bob, room.id)).to.equal(1);

    await ask(b, 'chat:read', { roomId: room.id, seq: 3 });
    await eventually(() => receipts.length === 2, 5000, 'the second receipt');
    expect(receipts[1]).to.deep.equal({ roomId: room.id, userId: bob.user.id, seq: 3 });
    expect(await listedUnread(nodeB(), bob, room.id)).to.equal(0);
    // Ann sent all three: her own sends moved her marker.
    await eventually(async () => (await listedUnread(nodeB(), ann, room.id)) === 0, 5000, "ann's own sends read");
  });

  it('room:join and GET /api/rooms count what came after my marker; my own sends (socket or REST) move it', async () => {
    const { ann, bob, room, a, b } = await roomOfTwo();
    const quiet = await createRoom(nodeA(), ann.token, { name: 'quiet room' });
    await join(b, quiet.id);
    await send(a, room.id, 'one');
    await send(a, room.id, 'two');
    expect((await join(b, room.id)).unread).to.equal(2);
    // Bob answers: his marker follows his own message, past Ann's two.
    const mine = await send(b, room.id, 'three');
    expect(mine.seq).to.equal(3);
    const bobsJoin = await join(b, room.id);
    expect(bobsJoin).to.deep.include({ unread: 0 });
    expect(bobsJoin.room.lastSeq).to.equal(3);
    // Read on the other node too (the marker is written a moment after the send).
    await eventually(async () => (await listedUnread(nodeA(), bob, room.id)) === 0, 5000, "bob's own send read on the other node");
    await eventually(async () => (await listedUnread(nodeB(), ann, room.id)) === 1, 5000, "ann's unread");
    expect(await listedUnread(nodeB(), bob, quiet.id)).to.equal(0);

    const rest = await request(nodeA(), 'POST', '/api/messages', { token: bob.token, body: { roomId: room.id, text: 'by REST' } });
    expect(rest.status).to.equal(201);
    await eventually(async () => (await listedUnread(nodeB(), bob, room.id)) === 0, 5000, "bob's REST send read");
    expect(await listedUnread(nodeA(), ann, room.id)).to.equal(2);
    const annJoin = await join(a, room.id);
    expect(annJoin).to.deep.include({ unread: 2 });
    expect(annJoin.room.lastSeq).to.equal(4);
  });

  it('a marker past the room’s last seq is VALIDATION_FAILED and changes nothing; bad rooms and payloads get their codes', async () => {
    const { ann, bob, room, a, b } = await roomOfTwo();
    await send(a, room.id, 'one');
    await send(a, room.id, 'two');
    const first = next<ReadEvent>(a, 'chat:read');
    await ask(b, 'chat:read', { roomId: room.id, seq: 1 });
    expect((await first).seq).to.equal(1);
    const receipts = collect<ReadEvent>(a, 'chat:read');
    const code = async (payload: unknown) => ((await ask(b, 'chat:read', payload)) as { error?: { code: string } }).error?.code;

    expect(await code({ roomId: room.id, seq: 3 })).to.equal('VALIDATION_FAILED');
    expect(await code({ roomId: room.id, seq: Number.MAX_SAFE_INTEGER })).to.equal('VALIDATION_FAILED');
    expect(await code({ roomId: room.id, seq: -1 })).to.equal('VALIDATION_FAILED');
    expect(await code({ roomId: room.id, seq: 1.5 })).to.equal('VALIDATION_FAILED');
    expect(await code({ roomId: room.id, seq: '2' })).to.equal('VALIDATION_FAILED');
    expect(await code({ roomId: room.id })).to.equal('VALIDATION_FAILED');
    expect(await code({ roomId: room.id, seq: 2, userId: ann.user.id })).to.equal('VALIDATION_FAILED');
    expect(await code({ roomId: 'no-such-room', seq: 0 })).to.equal('ROOM_NOT_FOUND');
    const secret = await createRoom(nodeA(), ann.token, { name: 'private', isPrivate: true });
    expect(await code({ roomId: secret.id, seq: 0 })).to.equal('FORBIDDEN');

    expect(await quietFor(a, 'chat:read')).to.deep.equal([]);
    expect(receipts).to.deep.equal([]);
    expect(await listedUnread(nodeB(), bob, room.id)).to.equal(1);
    expect((await join(b, room.id)).unread).to.equal(1);
    // Reading needs access, not a join: a member who left the room may still read.
    expect(await ask(b, 'room:leave', { roomId: room.id })).to.deep.equal({ ok: true });
    expect(await ask(b, 'chat:read', { roomId: room.id, seq: 2 })).to.deep.equal({ ok: true });
    await eventually(() => receipts.length === 1, 5000, 'the receipt of a member not joined');
    expect(await listedUnread(nodeB(), bob, room.id)).to.equal(0);
  });

  it('a member reconnecting in the middle gets the receipts it missed and the right unread count', async () => {
    const { bob, room, a } = await roomOfTwo();
    const carol = await guest(nodeA(), 'carol');
    const c = await open(nodeA(), carol);
    await join(c, room.id);
    // Bob's phone (on B, reconnecting by itself) and his laptop (on A).
    const phone = await reconnecting(nodeB(), bob);
    const laptop = await open(nodeA(), bob);
    await join(phone, room.id);
    await join(laptop, room.id);
    for (const text of ['one', 'two', 'three']) await send(a, room.id, text);
    const atPhone = collect<ReadEvent>(phone, 'chat:read');
    const atAnn = collect<ReadEvent>(a, 'chat:read');
    await ask(phone, 'chat:read', { roomId: room.id, seq: 1 });
    await eventually(() => atAnn.length === 1, 5000, "ann's first receipt");
    const phoneId = phone.id;

    // The phone's transport drops; meanwhile the room moves on, Carol reads all and Bob reads on his laptop.
    phone.io.engine.close();
    await eventually(() => !phone.connected, 2000, 'the phone disconnected');
    await send(a, room.id, 'four');
    await send(a, room.id, 'five');
    await ask(c, 'chat:read', { roomId: room.id, seq: 5 });
    await ask(laptop, 'chat:read', { roomId: room.id, seq: 3 });
    await eventually(() => phone.connected, 5000, 'the phone reconnected');

    expect(phone.recovered).to.equal(true);
    expect(phone.id).to.equal(phoneId);
    await eventually(() => atPhone.length === 2, 5000, 'the receipts missed while away');
    expect(atPhone).to.deep.equal([
      { roomId: room.id, userId: carol.user.id, seq: 5 },
      { roomId: room.id, userId: bob.user.id, seq: 3 },
    ]);
    expect((await join(phone, room.id)).unread).to.equal(2);
    expect(await listedUnread(nodeB(), bob, room.id)).to.equal(2);

    // Caught up on the phone: Ann, Carol and the laptop hear of it; nothing is left unread.
    const atLaptop = collect<ReadEvent>(laptop, 'chat:read');
    await ask(phone, 'chat:read', { roomId: room.id, seq: 5 });
    await eventually(() => atAnn.some((r) => r.userId === bob.user.id && r.seq === 5) && atLaptop.length === 1, 5000, 'the last receipts');
    expect(atLaptop).to.deep.equal([{ roomId: room.id, userId: bob.user.id, seq: 5 }]);
    expect(await listedUnread(nodeA(), bob, room.id)).to.equal(0);
    expect((await join(laptop, room.id)).unread).to.equal(0);
  });
}
