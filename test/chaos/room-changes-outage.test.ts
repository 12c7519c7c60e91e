import { expect } from 'chai';
import type { Socket } from 'socket.io-client';
import { AppError } from '../../src/domain/app-error.js';
import { SqliteStore } from '../../src/infra/sqlite/sqlite-store.js';
import type { Store } from '../../src/ports/store.js';
import { connectRedis } from '../../src/infra/redis/redis-client.js';
import { silentLogger } from '../helpers/silent-logger.js';
import { createRoom, guest, request, scrapeMetrics } from '../helpers/http-client.js';
import { ask, connect, eventually } from '../helpers/socket-client.js';
import { describeWithRedis, queueDrained, startCluster, type TestCluster } from '../helpers/cluster.js';
import { switchableStore } from '../helpers/switchable-store.js';

const ADMIN = 'admin-token-for-tests-0123456789';

/**
 * A store that is up but whose writes from the persistence queue wait (fail UNAVAILABLE,
 * as an outage does) while `held`: messages stay queued while the rest of the store works.
 */
function heldQueueWrites(store: Store, gate: { held: boolean }): Store {
  return new Proxy(store, {
    get(target, prop, receiver) {
      const value = Reflect.get(target, prop, receiver) as unknown;
      if (prop !== 'insertAssigned' || typeof value !== 'function') return value;
      return (...args: unknown[]) =>
        gate.held ? Promise.reject(new AppError('UNAVAILABLE', 'held by the test')) : (value as (...a: unknown[]) => unknown).apply(target, args);
    },
  });
}

describeWithRedis('room changes and outages (cluster)', function () {
  this.timeout(30_000);
  let cluster: TestCluster;
  const outage = { down: false };
  const gate = { held: false };
  const sockets: Socket[] = [];
  const open = async (url: string, token: string) => {
    const s = await connect(url, '/chat', token);
    sockets.push(s);
    return s;
  };

  before(async () => {
    cluster = await startCluster(0, { ADMIN_TOKEN: ADMIN });
    for (let i = 0; i < 2; i++) {
      await cluster.addNode({}, { store: switchableStore(heldQueueWrites(new SqliteStore({ dataDir: cluster.dataDir }), gate), outage) });
    }
  });
  afterEach(() => {
    outage.down = false;
    gate.held = false;
    sockets.splice(0).forEach((s) => s.close());
  });
  after(async () => {
    await cluster?.stop();
  });

  it('in a store outage the room cache may deny, never grant: a ban holds, an unknown user is refused, changes wait', async () => {
    const [n1, n2] = cluster.nodes;
    const ann = await guest(n1!.url, 'ann');
    const bob = await guest(n2!.url, 'bob');
    const eve = await guest(n2!.url, 'eve');
    const carl = await guest(n2!.url, 'carl');
    const room = await createRoom(n1!.url, ann.token, { name: 'cached' });
    const bobChat = await open(n2!.url, bob.token);
    const eveChat = await open(n2!.url, eve.token);
    expect((await ask(bobChat, 'room:join', { roomId: room.id })).ok).to.equal(true);
    expect((await ask(eveChat, 'room:join', { roomId: room.id })).ok).to.equal(true);
    expect((await request(n1!.url, 'DELETE', `/api/rooms/${room.id}/members/${eve.user.id}?ban=true`, { token: ann.token })).status).to.equal(204);

    outage.down = true;
    // Bob, known to the cache as a member, still gets in; Eve's ban holds; Carl is unknown: refused.
    const bobAgain = await open(n2!.url, bob.token);
    const bobJoin = await ask(bobAgain, "room:join", { roomId: room.id });
    expect(bobJoin.ok, JSON.stringify(bobJoin)).to.equal(true);
    const eveAgain = await open(n1!.url, eve.token);
    expect((await ask(eveAgain, 'room:join', { roomId: room.id })).error.code).to.equal('FORBIDDEN');
    const carlChat = await open(n2!.url, carl.token);
    expect((await ask(carlChat, 'room:join', { roomId: room.id })).error.code).to.equal('UNAVAILABLE');
    // Changes need the store: 503, and nothing changed.
    const removal = await request(n1!.url, 'DELETE', `/api/rooms/${room.id}/members/${bob.user.id}`, { token: ann.token });
    expect([removal.status, removal.body.error.code]).to.deep.equal([503, 'UNAVAILABLE']);
    expect((await request(n1!.url, 'PATCH', `/api/rooms/${room.id}`, { token: ann.token, body: { isPrivate: true } })).status).to.equal(503);

    // The failed removal took Bob out of the cache first (so that it could never grant what
    // the store might refuse): until the store is back, he too is refused. Then he is in.
    expect((await ask(bobAgain, 'room:join', { roomId: room.id })).error.code).to.equal('UNAVAILABLE');
    outage.down = false;
    const bobThird = await open(n1!.url, bob.token);
    await eventually(async () => (await ask(bobThird, 'room:join', { roomId: room.id })).ok === true, 10_000, 'bob back in once the store is');
  });

  it("a room deleted with messages still queued drops them, counted, none dead-lettered, none stored", async () => {
    const [n1, n2] = cluster.nodes;
    const ann = await guest(n1!.url, 'ann');
    // The store breaker of the previous test may still be open: wait for it to close.
    let room: { id: string } | undefined;
    await eventually(async () => (room = await createRoom(n1!.url, ann.token, { name: 'doomed' }).catch(() => undefined)) !== undefined, 10_000, 'the store back');
    room = room!;
    const chat = await open(n2!.url, ann.token);
    expect((await ask(chat, 'room:join', { roomId: room.id })).ok).to.equal(true);
    const dropped = async () => {
      let n = 0;
      for (const node of cluster.nodes) n += (await scrapeMetrics(node.url)).get(`queue_dropped_total{node="${node.app.config.nodeId}"}`) ?? 0;
      return n;
    };
    const droppedBefore = await dropped();

    gate.held = true;
    for (let i = 0; i < 5; i++) expect((await ask(chat, 'chat:send', { roomId: room.id, clientMsgId: `q${i}`, text: `queued ${i}` })).ok).to.equal(true);
    expect((await request(n1!.url, 'DELETE', `/api/rooms/${room.id}`, { token: ann.token })).status).to.equal(204);
    gate.held = false;

    await queueDrained(cluster);
    await eventually(async () => (await dropped()) === droppedBefore + 5, 10_000, 'five entries dropped');
    const deadLetters = await request(n2!.url, 'GET', '/api/admin/dead-letters', { token: ADMIN });
    expect(deadLetters.body.deadLetters).to.deep.equal([]);
    expect((await request(n2!.url, 'GET', `/api/messages?roomId=${room.id}`, { token: ann.token })).status).to.equal(404);
    // Nothing of the room is left in Redis (a test may scan keys; the server never does).
    const redis = await connectRedis(cluster.redis.url, silentLogger, 'inspect');
    try {
      expect(await redis.keys(`*${room.id}*`)).to.deep.equal([]);
    } finally {
      await redis.close();
    }
  });
});
