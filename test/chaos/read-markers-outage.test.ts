import { expect } from 'chai';
import type { Socket } from 'socket.io-client';
import { SqliteStore } from '../../src/infra/sqlite/sqlite-store.js';
import { createRoom, guest, request } from '../helpers/http-client.js';
import { ask, collect, connect, eventually, next, quietFor } from '../helpers/socket-client.js';
import { describeWithRedis, startCluster, type TestCluster } from '../helpers/cluster.js';
import { switchableStore } from '../helpers/switchable-store.js';

/**
 * Read markers live in the store, in cluster mode too: while it is down `chat:read` answers
 * UNAVAILABLE and changes nothing, `room:join` still works without `unread`, and the markers
 * that own sends move wait on their node until the store is back.
 */
describeWithRedis('read markers in a store outage (cluster)', function () {
  this.timeout(30_000);
  let cluster: TestCluster;
  const outage = { down: false };
  const sockets: Socket[] = [];
  const open = async (url: string, token: string) => {
    const s = await connect(url, '/chat', token);
    sockets.push(s);
    return s;
  };

  before(async () => {
    cluster = await startCluster(0);
    for (let i = 0; i < 2; i++) await cluster.addNode({}, { store: switchableStore(new SqliteStore({ dataDir: cluster.dataDir }), outage) });
  });
  afterEach(() => {
    outage.down = false;
    sockets.splice(0).forEach((s) => s.close());
  });
  after(async () => {
    await cluster?.stop();
  });

  it('chat:read answers UNAVAILABLE and changes nothing; own sends move the marker once the store is back', async () => {
    const [n1, n2] = cluster.nodes;
    const ann = await guest(n1!.url, 'ann');
    const bob = await guest(n2!.url, 'bob');
    const room = await createRoom(n1!.url, ann.token, { name: 'outage' });
    const a = await open(n1!.url, ann.token);
    const b = await open(n2!.url, bob.token);
    expect((await ask(a, 'room:join', { roomId: room.id })).ok).to.equal(true);
    expect((await ask(b, 'room:join', { roomId: room.id })).ok).to.equal(true);
    for (const text of ['one', 'two']) expect((await ask(a, 'chat:send', { roomId: room.id, clientMsgId: text, text })).ok).to.equal(true);
    const first = next(a, 'chat:read');
    expect(await ask(b, 'chat:read', { roomId: room.id, seq: 1 })).to.deep.equal({ ok: true });
    expect(await first).to.deep.equal({ roomId: room.id, userId: bob.user.id, seq: 1 });
    await eventually(async () => (await request(n1!.url, 'GET', '/api/rooms', { token: ann.token })).body.rooms?.[0]?.unread === 0, 5000, "ann's own sends read");
    const receipts = collect(a, 'chat:read');

    outage.down = true;
    expect((await ask(b, 'chat:read', { roomId: room.id, seq: 2 })).error?.code).to.equal('UNAVAILABLE');
    const rejoined = await ask(b, 'room:join', { roomId: room.id });
    expect(rejoined.ok, JSON.stringify(rejoined)).to.equal(true);
    expect(rejoined).to.not.have.property('unread');
    // Sends go on (queued in Redis); Bob's marker follows his own message later.
    expect((await ask(b, 'chat:send', { roomId: room.id, clientMsgId: 'three', text: 'three' })).ok).to.equal(true);
    expect(receipts).to.deep.equal([]);
    outage.down = false;

    const unreadOf = async (url: string, token: string) => (await request(url, 'GET', '/api/rooms', { token })).body.rooms?.[0]?.unread as number | undefined;
    await eventually(async () => (await unreadOf(n1!.url, bob.token)) === 0, 15_000, "bob's own send read once the store is back");
    await eventually(async () => (await unreadOf(n2!.url, ann.token)) === 1, 15_000, "ann's unread");
    // The refused read moved nothing: reading 2 now is behind the marker (3), so no receipt.
    expect(await ask(b, 'chat:read', { roomId: room.id, seq: 2 })).to.deep.equal({ ok: true });
    expect(await quietFor(a, 'chat:read')).to.deep.equal([]);
    expect((await ask(b, 'room:join', { roomId: room.id })).unread).to.equal(0);
  });
});
