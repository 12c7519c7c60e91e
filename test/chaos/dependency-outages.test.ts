import { expect } from 'chai';
import { spawn } from 'node:child_process';
import { createServer, type Server, type Socket as NetSocket } from 'node:net';
import { join } from 'node:path';
import type { Socket } from 'socket.io-client';
import { createRoom, guest, request, scrapeMetrics } from '../helpers/http-client.js';
import { ask, connect, eventually, next } from '../helpers/socket-client.js';
import { describeWithRedis, queueDrained, startCluster, type TestCluster } from '../helpers/cluster.js';
import { freePort } from '../../support/loopback.js';
import { startServer } from '../helpers/test-server.js';
import { forEachStore, type StoreUnderTest } from '../helpers/stores.js';
import { checkHistory, expectClean } from '../../support/history-checker.js';
import { refusals, underTraffic } from '../helpers/traffic.js';


describeWithRedis('dependency outages: Redis killed, Redis paused, store locked', function (this: Mocha.Suite) {
  this.timeout(60_000);
  forEachStore(redisOutages);
});

function redisOutages(store: StoreUnderTest): void {
  let cluster: TestCluster;
  const sockets: Socket[] = [];

  afterEach(async () => {
    sockets.splice(0).forEach((s) => s.close());
    await cluster?.stop();
  });

  async function setup(aof: boolean) {
    const limits = { RATE_LIMIT_MESSAGES: '100000', RATE_LIMIT_EVENTS: '100000', RATE_LIMIT_HTTP: '100000' };
    cluster = await startCluster(2, { ...limits, ...store.env() }, { aof });
    const ann = await guest(cluster.nodes[0]!.url, 'ann');
    const room = await createRoom(cluster.nodes[0]!.url, ann.token);
    for (const node of [0, 1, 0, 1]) {
      const s = await connect(cluster.nodes[node]!.url, '/chat', ann.token);
      sockets.push(s);
      await ask(s, 'room:join', { roomId: room.id });
    }
    return { ann, room };
  }

  /** Waits until the persistence queue is empty (every entry acked and deleted), then reads the store. */
  async function drainedHistory(roomId: string) {
    await queueDrained(cluster);
    return (await cluster.nodes[0]!.app.store.listMessages(roomId, { after: 0, limit: 100_000 })).messages;
  }

  it('Redis SIGKILLed and restarted on its AOF under traffic: 0 acked lost, nodes recover without restart', async () => {
    const { room } = await setup(true);
    const senders = await underTraffic(sockets, room.id, async (running) => {
      const before = refusals(running);
      await cluster.redis.kill();
      // The outage reached the traffic: sends refused (or unanswered) while Redis is down.
      await eventually(() => refusals(running) >= before + 2, 10_000, 'sends refused while Redis is down');
      await cluster.redis.start();
    });
    const check = checkHistory({ stored: await drainedHistory(room.id), senders });
    expect(check.acked).to.be.greaterThan(20);
    expectClean(check);
    // Both nodes serve again, and report Redis as up.
    for (const node of cluster.nodes) {
      await eventually(async () => (await request(node.url, 'GET', '/readyz')).body.dependencies.redis === 'up', 10_000, 'redis up');
    }
    const after = await ask(sockets[1]!, 'chat:send', { roomId: room.id, clientMsgId: 'after-restart', text: 'still here' });
    expect(after.ok).to.equal(true);
  });

  it('Redis paused (SIGSTOP): sends fail fast with UNAVAILABLE, signaling between local peers goes on, all acked kept', async () => {
    const { ann, room } = await setup(false);
    const rtcA = await connect(cluster.nodes[0]!.url, '/rtc', ann.token);
    const rtcB = await connect(cluster.nodes[0]!.url, '/rtc', ann.token);
    sockets.push(rtcA, rtcB);
    const a = await ask(rtcA, 'call:join', { roomId: room.id });
    const b = await ask(rtcB, 'call:join', { roomId: room.id });
    const senders = await underTraffic(sockets.slice(0, 4), room.id, async (running) => {
      const before = refusals(running);
      cluster.redis.pause();
      try {
        const started = Date.now();
        const res = await ask(sockets[0]!, 'chat:send', { roomId: room.id, clientMsgId: 'during-pause', text: 'x' }, 5000);
        expect(res.ok).to.equal(false);
        expect(res.error.code).to.equal('UNAVAILABLE');
        expect(Date.now() - started).to.be.lessThan(3000);
        const offer = next(rtcB, 'rtc:signal');
        expect((await ask(rtcA, 'rtc:signal', { to: b.peerId, kind: 'offer', data: { type: 'offer', sdp: 'v=0' } }, 3000)).ok).to.equal(true);
        expect((await offer).from).to.equal(a.peerId);
        // A broadcast whose Redis copy cannot go out (node 0's publish waits past its deadline).
        expect((await ask(sockets[0]!, 'chat:typing', { roomId: room.id, typing: true }, 3000)).ok).to.equal(true);
        // It reached node 0's own sockets only: counted, not silent.
        const deadlineFailures = async () =>
          [...(await scrapeMetrics(cluster.nodes[0]!.url))].filter(([series]) => series.startsWith('adapter_publish_failures_total{reason="deadline"')).reduce((n, [, v]) => n + v, 0);
        await eventually(async () => (await deadlineFailures()) > 0, 5000, 'the publish past its deadline counted');
        // /metrics answers with Redis paused: the queue gauges give up their read after 1 s.
        const scrapeStarted = Date.now();
        await scrapeMetrics(cluster.nodes[1]!.url);
        expect(Date.now() - scrapeStarted, 'a scrape with Redis paused').to.be.below(3000);
        // The pause reached the traffic too, not only the one send above.
        await eventually(() => refusals(running) > before, 10_000, 'the senders refused during the pause');
      } finally {
        cluster.redis.resume();
      }
    });
    // The paused send was never acked, so it may or may not be stored: it is not "lost".
    expectClean(checkHistory({ stored: await drainedHistory(room.id), senders, sentByTest: (id) => id === 'during-pause' }));
  });

  // An SQLite lock; MongoDB paused and killed under traffic is test/chaos/mongo-outages.test.ts.
  if (store.name !== 'SQLite') return;
  it('store locked by another process: sends are still acked (queued) and persisted once after release', async () => {
    const { room } = await setup(false);
    const senders = await underTraffic(sockets, room.id, async () => {
      const locker = spawn(
        process.execPath,
        [
          '-e',
          `const D = require('better-sqlite3'); const db = new D(${JSON.stringify(join(cluster.dataDir, 'chat.db'))});
           db.exec('BEGIN EXCLUSIVE'); process.stdout.write('locked\\n'); setTimeout(() => { db.exec('COMMIT'); process.exit(0); }, 2000);`,
        ],
        { cwd: process.cwd(), stdio: ['ignore', 'pipe', 'inherit'] },
      );
      await new Promise((r) => locker.stdout!.once('data', r));
      const during = await ask(sockets[0]!, 'chat:send', { roomId: room.id, clientMsgId: 'while-locked', text: 'queued' });
      expect(during.ok).to.equal(true);
      await new Promise((r) => locker.once('exit', r));
    });
    const stored = await drainedHistory(room.id);
    expectClean(checkHistory({ stored, senders, sentByTest: (id) => id === 'while-locked' }));
    expect(stored.some((m) => m.clientMsgId === 'while-locked')).to.equal(true);
    const dead = await request(cluster.nodes[0]!.url, 'GET', '/metrics');
    expect(dead.body).to.match(/queue_dead_lettered_total\{node="node-1"\} 0/);
  });
}

describe('MongoDB unreachable: the server starts, fails fast and says it is degraded', function (this: Mocha.Suite) {
  this.timeout(30_000);
  let blackhole: Server;
  const held: NetSocket[] = [];
  let blackholePort: number;

  before(async () => {
    // Accepts connections and never answers: a hung database.
    blackhole = createServer((sock) => held.push(sock));
    await new Promise<void>((r) => blackhole.listen(0, '127.0.0.1', r));
    blackholePort = (blackhole.address() as { port: number }).port;
  });
  after(async () => {
    held.forEach((s) => s.destroy());
    await new Promise((r) => blackhole.close(r));
  });

  for (const target of ['a closed port', 'a listener that never answers']) {
    it(`with MONGODB_URI at ${target}: starts, /readyz names the store, writes get 503 fast`, async () => {
      const port = target === 'a closed port' ? await freePort() : blackholePort;
      const started = Date.now();
      const server = await startServer({ MONGODB_URI: `mongodb://127.0.0.1:${port}/chat?serverSelectionTimeoutMS=1000&connectTimeoutMS=1000` });
      try {
        expect(Date.now() - started).to.be.lessThan(8000);
        expect((await request(server.url, 'GET', '/healthz')).status).to.equal(200);
        const t0 = Date.now();
        const ready = await request(server.url, 'GET', '/readyz');
        expect(Date.now() - t0).to.be.lessThan(2500);
        expect(ready.body.dependencies.store).to.equal('down');
        // Embedded mode: the store is the only durable dependency, so the node cannot serve writes.
        expect(ready.status).to.equal(503);
        const user = await guest(server.url, 'ann');
        const t1 = Date.now();
        const created = await request(server.url, 'POST', '/api/rooms', { token: user.token, body: { name: 'r' } });
        expect(Date.now() - t1).to.be.lessThan(5000);
        expect([created.status, created.body.error.code]).to.deep.equal([503, 'UNAVAILABLE']);
      } finally {
        await server.stop();
      }
    });
  }
});
