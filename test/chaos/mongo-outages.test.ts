import { expect } from 'chai';
import type { Message } from '../../src/protocol/models.js';
import type { Socket } from 'socket.io-client';
import { describeWithRedis, queueDrained, startCluster, type TestCluster } from '../helpers/cluster.js';
import { describeWithMongo, needsFerret, TestFerretDb, type MongoTarget } from '../helpers/ferretdb.js';
import { createRoom, guest, request, storeUnavailableRetries } from '../helpers/http-client.js';
import { freePort } from '../../support/loopback.js';
import { ask, eventually } from '../helpers/socket-client.js';
import { startServer, type TestServer } from '../helpers/test-server.js';
import { roomOnNodes } from '../helpers/room-on-nodes.js';
import { checkHistory, expectClean } from '../../support/history-checker.js';
import { underTraffic, type ChatSender } from '../helpers/traffic.js';

/**
 * Promise 6 with MongoDB as the store, against the real server process: FerretDB killed
 * and restarted mid-traffic, paused (SIGSTOP), unreachable at start. With MONGODB_URI alone
 * MongoDB assigns seq, so sends answer UNAVAILABLE while it is down; with Redis as well
 * chat goes on and the queue drains into MongoDB once it is back. In every case nothing
 * acked is lost and nothing is stored twice.
 */

const LIMITS = { RATE_LIMIT_MESSAGES: '100000', RATE_LIMIT_EVENTS: '100000', RATE_LIMIT_HTTP: '100000' };
/** Nodes with data directories of their own still accept each other's tokens. */
const JWT_SECRET = 'mongo-outages-test-secret-0123456789abcdef';
const ADMIN = 'admin-token-for-tests-0123456789';

/** A send during the outage: refused UNAVAILABLE (never a false ack), within the store's deadline. */
async function refusedWhileDown(socket: Socket, roomId: string): Promise<void> {
  const t0 = Date.now();
  const res = await ask(socket, 'chat:send', { roomId, clientMsgId: `down-${t0}`, text: 'while down' }, 8000);
  expect([res.ok, res.error?.code]).to.deep.equal([false, 'UNAVAILABLE']);
  expect(Date.now() - t0).to.be.below(4500);
}

/** The Jepsen-style check; the test's own sends ('during', 'down-…') were attempted too. */
const expectExactlyOnce = (stored: { seq: number; clientMsgId: string | null }[], senders: ChatSender[]) => {
  // A refused send (UNAVAILABLE) may or may not be stored: it was never acked, so it is not "lost".
  const check = checkHistory({ stored, senders, sentByTest: (id) => id.startsWith('down-') || id === 'during' });
  expectClean(check);
  expect(check.acked).to.be.greaterThan(10);
};

describeWithMongo('MongoDB outages', (target: MongoTarget) => {
  /** Whatever a test did to the server, the next one finds it running. */
  afterEach(async () => {
    const ferret = target.ferret;
    if (!ferret) return;
    ferret.resume();
    if (ferret.pid === undefined) await ferret.start();
  });

  describe('MONGODB_URI alone: two nodes, MongoDB assigns seq', function () {
    this.timeout(60_000);
    let nodes: TestServer[] = [];
    const sockets: Socket[] = [];
    beforeEach(async () => {
      const env = { ...LIMITS, JWT_SECRET, MONGODB_URI: target.uri() };
      nodes = [await startServer({ ...env, NODE_ID: 'node-a' }), await startServer({ ...env, NODE_ID: 'node-b' })];
    });
    afterEach(async () => {
      sockets.splice(0).forEach((s) => s.close());
      await Promise.all(nodes.map((n) => n.stop()));
    });
    const stored = async (roomId: string) => (await nodes[1]!.app.store.listMessages(roomId, { after: 0, limit: 1000 })).messages;

    it('senders on both nodes at once: each ack its own seq, 1..N without gaps, each message stored once', async () => {
      const { room, chat } = await roomOnNodes(nodes, sockets);
      // No fault: the evidence is that every sender, on both nodes, got acks while the others sent.
      const senders = await underTraffic(chat, room.id, (running) => eventually(() => running.every((s) => s.acked.size >= 5), 15_000, 'acks for every sender'));
      expectExactlyOnce(await stored(room.id), senders);
    });

    it('killed and restarted mid-traffic: sends answer UNAVAILABLE while it is down, signaling goes on, nothing lost or twice', async function () {
      const ferret = needsFerret(target, this);
      const { room, chat, signal } = await roomOnNodes(nodes, sockets);
      const senders = await underTraffic(chat, room.id, async () => {
        await ferret.kill();
        await refusedWhileDown(chat[0]!, room.id);
        await signal();
        await ferret.start();
      });
      expectExactlyOnce(await stored(room.id), senders);
    });

    it('paused (SIGSTOP): sends answer UNAVAILABLE within the store deadline, signaling goes on; after SIGCONT nothing lost or twice', async function () {
      const ferret = needsFerret(target, this);
      const { room, chat, signal } = await roomOnNodes(nodes, sockets);
      const senders = await underTraffic(chat, room.id, async () => {
        ferret.pause();
        await Promise.all([refusedWhileDown(chat[1]!, room.id), signal()]);
        expect((await request(nodes[0]!.url, 'GET', '/readyz')).body.dependencies.store).to.equal('down');
        ferret.resume();
      });
      expectExactlyOnce(await stored(room.id), senders);
    });

    it('unreachable at start: the node starts and says so, then serves once MongoDB is up, with no restart', async function () {
      const later = new TestFerretDb(needsFerret(target, this).bin);
      later.port = await freePort();
      const node = await startServer({ MONGODB_URI: later.uri() });
      try {
        const user = await guest(node.url, 'ann');
        const ready = await request(node.url, 'GET', '/readyz');
        expect([ready.status, ready.body.dependencies.store]).to.deep.equal([503, 'down']);
        expect((await request(node.url, 'POST', '/api/rooms', { token: user.token, body: { name: 'r' } })).body.error.code).to.equal('UNAVAILABLE');
        await later.start();
        await eventually(async () => (await request(node.url, 'GET', '/readyz')).status === 200, 15_000, 'the store up');
        const room = await createRoom(node.url, user.token);
        const sent = await request(node.url, 'POST', '/api/messages', { token: user.token, body: { roomId: room.id, text: 'hi', clientMsgId: 'c1' } });
        expect([sent.status, sent.body.seq]).to.deep.equal([201, 1]);
      } finally {
        await node.stop();
        await later.stop();
      }
    });
  });

  describeWithRedis('with Redis: Redis assigns seq, the queue writes MongoDB', function () {
    this.timeout(60_000);
    let cluster: TestCluster;
    const sockets: Socket[] = [];
    beforeEach(async () => {
      cluster = await startCluster(2, { ...LIMITS, MONGODB_URI: target.uri(), ADMIN_TOKEN: ADMIN, QUEUE_MAX_ATTEMPTS: '2' });
    });
    afterEach(async () => {
      sockets.splice(0).forEach((s) => s.close());
      await cluster.stop();
    });

    /** Once the queue is empty: what MongoDB holds, and the dead letters (none expected). */
    const read = (roomId: string, after: number) => cluster.nodes[0]!.app.store.listMessages(roomId, { after, limit: 1000 });
    async function drained(roomId: string) {
      await queueDrained(cluster);
      const dead = await request(cluster.nodes[0]!.url, 'GET', '/api/admin/dead-letters', { token: ADMIN });
      // Every page: a long outage under traffic acks more than one page holds.
      const stored: Message[] = [];
      for (let page = await read(roomId, 0); ; page = await read(roomId, stored.at(-1)!.seq)) {
        stored.push(...page.messages);
        if (!page.hasMore) break;
      }
      return { stored, dead: dead.body.deadLetters };
    }

    for (const fault of ['paused (SIGSTOP)', 'killed and restarted'] as const) {
      it(`MongoDB ${fault} mid-traffic: chat goes on with truthful acks, /readyz degraded, the queue drains after; nothing lost, twice or dead-lettered`, async function () {
        const ferret = needsFerret(target, this);
        const { room, chat, signal } = await roomOnNodes(cluster.nodes, sockets);
        const senders = await underTraffic(chat, room.id, async () => {
          if (fault === 'paused (SIGSTOP)') ferret.pause();
          else await ferret.kill();
          const during = await ask(chat[0]!, 'chat:send', { roomId: room.id, clientMsgId: 'during', text: 'queued' });
          expect(during.ok, JSON.stringify(during)).to.equal(true);
          await signal();
          const ready = await request(cluster.nodes[1]!.url, 'GET', '/readyz');
          expect([ready.status, ready.body.status, ready.body.dependencies]).to.deep.equal([200, 'degraded', { store: 'down', redis: 'up' }]);
          // The consumers fail against MongoDB more often than QUEUE_MAX_ATTEMPTS: waiting for
          // the store costs no attempt, so nothing may be dead-lettered below.
          const urls = cluster.nodes.map((n) => n.url);
          const retriesAtOutage = await storeUnavailableRetries(urls);
          await eventually(async () => (await storeUnavailableRetries(urls)) >= retriesAtOutage + 4, 15_000, 'the consumers retried against MongoDB');
          if (fault === 'paused (SIGSTOP)') ferret.resume();
          else await ferret.start();
        });
        const { stored, dead } = await drained(room.id);
        expectExactlyOnce(stored, senders);
        expect(stored.some((m) => m.clientMsgId === 'during')).to.equal(true);
        expect(dead).to.deep.equal([]);
      });
    }
  });
});
