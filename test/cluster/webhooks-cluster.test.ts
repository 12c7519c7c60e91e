import { expect } from 'chai';
import { randomUUID } from 'node:crypto';
import { rmSync } from 'node:fs';
import type { AppOverrides } from '../../src/app.js';
import { PrometheusMetrics } from '../../src/infra/metrics.js';
import { PersistConsumer } from '../../src/infra/redis/persist-consumer.js';
import { QueueLayout } from '../../src/infra/redis/queue-layout.js';
import { RedisMessageLog } from '../../src/infra/redis/redis-message-log.js';
import { RedisWebhookOutbox } from '../../src/infra/redis/redis-webhook-outbox.js';
import { SqliteStore } from '../../src/infra/sqlite/sqlite-store.js';
import { webhookSecretKey } from '../../src/infra/webhooks/signing.js';
import { WebhookDispatcher } from '../../src/infra/webhooks/webhook-dispatcher.js';
import { OutboxWebhookPublisher } from '../../src/services/webhook-publisher.js';
import { describeWithRedis, startCluster, type TestCluster } from '../helpers/cluster.js';
import { createRoom, guest, request, scrapeMetrics } from '../helpers/http-client.js';
import { useRedis } from '../helpers/redis-server.js';
import { silentLogger } from '../helpers/silent-logger.js';
import { ask, connect, eventually } from '../helpers/socket-client.js';
import { switchableStore } from '../helpers/switchable-store.js';
import { tempDir } from '../helpers/test-server.js';
import { WEBHOOK_EVENT_TYPES } from '../../src/protocol/webhooks.js';

/** Every type but room.*: the rooms each test makes would add room.created to what it counts. */
const NOT_ROOMS = WEBHOOK_EVENT_TYPES.filter((t) => !t.startsWith('room.')).join(',');
import { WebhookReceiver, webhookSecret } from '../helpers/webhook-receiver.js';

const FAST: AppOverrides = { webhookDispatcher: { timeoutMs: 300, backoff: { baseMs: 40, factor: 2, maxMs: 200 }, pollMs: 50 } };

describeWithRedis('Webhooks in cluster mode (Redis outbox)', () => {
  describe('two nodes over one Redis', () => {
    const secret = webhookSecret();
    let receiver: WebhookReceiver;
    let cluster: TestCluster;

    before(async () => {
      receiver = await new WebhookReceiver().start();
      cluster = await startCluster(0, { WEBHOOK_URLS: receiver.url, WEBHOOK_SECRET: secret, WEBHOOK_MAX_ATTEMPTS: '5', RATE_LIMIT_MESSAGES: '1000', WEBHOOK_EVENTS: NOT_ROOMS });
      await cluster.addNode({}, FAST);
      await cluster.addNode({}, FAST);
    });
    after(async () => {
      await cluster?.stop();
      await receiver?.stop();
    });
    beforeEach(() => {
      receiver.received.length = 0;
      receiver.script = [];
      receiver.otherwise = 204;
    });

    const delivered = (urls: string[]) =>
      Promise.all(urls.map(async (url) => [...(await scrapeMetrics(url))].filter(([k]) => k.startsWith('webhook_delivered_total{')).reduce((n, [, v]) => n + v, 0)));

    it('each event is delivered exactly once in the happy path, whichever node queued it and whichever delivers it', async () => {
      const [a, b] = cluster.nodes;
      const { token } = await guest(a!.url, 'ann');
      const room = await createRoom(a!.url, token);
      const before = (await delivered([a!.url, b!.url])).reduce((x, y) => x + y, 0);
      const ids: string[] = [];
      for (let i = 0; i < 30; i++) {
        const res = await request((i % 2 ? b : a)!.url, 'POST', '/api/messages', { token, body: { roomId: room.id, text: `m${i}` } });
        expect(res.status).to.equal(201);
        ids.push(res.body.id);
      }
      await eventually(() => receiver.accepted(secret).length >= 30, 10_000, '30 deliveries');
      const got = receiver.accepted(secret);
      expect(got.map((p) => p.data.id).sort()).to.deep.equal([...ids].sort());
      expect(new Set(got.map((p) => p.id)).size).to.equal(30);
      expect(receiver.received).to.have.length(30);
      const after = (await delivered([a!.url, b!.url])).reduce((x, y) => x + y, 0);
      expect(after - before).to.equal(30);
    });

    it('one occurrence published on both nodes is queued once', async () => {
      const [a, b] = cluster.nodes;
      const occurrence = randomUUID();
      await Promise.all([a!.app.webhooks.publish('participant.left', { n: 'a' }, occurrence), b!.app.webhooks.publish('participant.left', { n: 'b' }, occurrence)]);
      await a!.app.webhooks.publish('participant.joined', { marker: true });
      await eventually(() => receiver.received.some((r) => r.body.includes('participant.joined')), 5000, 'the marker');
      await eventually(async () => (await scrapeMetrics(a!.url)).get(`webhook_queue_depth{node="${a!.app.config.nodeId}"}`) === 0, 5000, 'the outbox empty');
      expect(receiver.accepted(secret).filter((p) => p.type === 'participant.left')).to.have.length(1);
    });

    it('under faults, at least once: failed attempts are retried (on any node) until each event got through', async () => {
      const [a, b] = cluster.nodes;
      receiver.script = [500, 'close', 503, 'hang', 500, 'close'];
      const published = Array.from({ length: 6 }, (_, i) => ({ i }));
      for (const [i, data] of published.entries()) await (i % 2 ? b : a)!.app.webhooks.publish('call.ended', data);
      await eventually(() => new Set(receiver.accepted(secret).map((p) => p.data.i)).size === 6, 10_000, 'all six delivered');
      const byEvent = new Map<string, number>();
      for (const r of receiver.received) byEvent.set(r.id, (byEvent.get(r.id) ?? 0) + 1);
      expect(byEvent.size, 'one webhook-id per event').to.equal(6);
      expect(receiver.received.length).to.equal(12);
    });
  });

  describe('a receiver that hangs', () => {
    const secret = webhookSecret();
    let receiver: WebhookReceiver;
    let cluster: TestCluster;
    before(async () => {
      receiver = await new WebhookReceiver().start();
      receiver.otherwise = 'hang';
      cluster = await startCluster(0, { WEBHOOK_URLS: receiver.url, WEBHOOK_SECRET: secret, RATE_LIMIT_MESSAGES: '1000', WEBHOOK_EVENTS: NOT_ROOMS });
      await cluster.addNode();
    });
    after(async () => {
      await cluster?.stop();
      await receiver?.stop();
    });

    it('slows no chat send: every send is acked while the dispatcher requests wait (production timings)', async () => {
      const [a] = cluster.nodes;
      const { token } = await guest(a!.url, 'ann');
      const room = await createRoom(a!.url, token);
      const socket = await connect(a!.url, '/chat', token);
      try {
        expect((await ask(socket, 'room:join', { roomId: room.id })).ok).to.equal(true);
        for (let i = 0; i < 40; i++) {
          const ack = await ask(socket, 'chat:send', { roomId: room.id, clientMsgId: randomUUID(), text: `m${i}` }, 2000);
          expect(ack.ok, JSON.stringify(ack)).to.equal(true);
        }
        await eventually(() => receiver.received.length >= 16, 5000, 'the receiver holding a full window of requests');
      } finally {
        socket.close();
      }
    });
  });

  describe('a node that dies mid-delivery', () => {
    const redis = useRedis();
    const secret = webhookSecret();
    let receiver: WebhookReceiver;
    beforeEach(async () => {
      receiver = await new WebhookReceiver().start();
    });
    afterEach(async () => {
      await receiver.stop();
    });

    it('loses the delivery to another node once its lease runs out; the other delivers it under the same webhook-id', async () => {
      const metrics = new PrometheusMetrics('test');
      const options = { key: webhookSecretKey(secret), maxAttempts: 5, timeoutMs: 5000, leaseMs: 1000, pollMs: 50 };
      const clientA = await redis.connect('node-a');
      const outboxA = new RedisWebhookOutbox(clientA);
      const dying = new WebhookDispatcher(outboxA, { ...options, timeoutMs: 500 }, silentLogger, metrics.webhooks);
      const publisher = new OutboxWebhookPublisher({ urls: [receiver.url], events: ['call.started'] }, outboxA, () => dying.wake());
      receiver.script = ['hang'];
      dying.start();
      await publisher.publish('call.started', { roomId: 'r1' });
      await eventually(() => receiver.received.length === 1, 5000, 'node A sending the request');
      // Node A dies: its connection to Redis is gone, so it can neither finish nor hand anything back.
      clientA.destroy();
      await dying.stop();

      const survivor = new WebhookDispatcher(new RedisWebhookOutbox(await redis.connect('node-b')), options, silentLogger, metrics.webhooks);
      survivor.start();
      try {
        expect(receiver.received).to.have.length(1);
        await eventually(() => receiver.accepted(secret).length === 1, 15_000, 'node B delivering it after the lease');
        expect(receiver.received.map((r) => r.id)).to.deep.equal([receiver.received[0]!.id, receiver.received[0]!.id]);
      } finally {
        await survivor.stop();
      }
    });
  });

  describe('message.dead_lettered', () => {
    const redis = useRedis();
    const secret = webhookSecret();
    let dir: string;
    let store: SqliteStore;
    let receiver: WebhookReceiver;
    before(async () => {
      dir = tempDir('vcs-webhooks-dead-');
      store = new SqliteStore({ dataDir: dir });
      receiver = await new WebhookReceiver().start();
    });
    after(async () => {
      await receiver?.stop();
      await store?.close();
      if (dir) rmSync(dir, { recursive: true, force: true });
    });

    it('a chat message the store keeps refusing is announced once when the queue dead-letters it', async () => {
      const layout = new QueueLayout(2);
      const roomId = randomUUID();
      await store.createRoom({ id: roomId, name: 'room', isPrivate: false, maxParticipants: 8, createdBy: 'u1', createdAt: new Date().toISOString() });
      const metrics = new PrometheusMetrics('test');
      const outbox = new RedisWebhookOutbox(redis.client);
      const dispatcher = new WebhookDispatcher(outbox, { key: webhookSecretKey(secret), maxAttempts: 3, pollMs: 50 }, silentLogger, metrics.webhooks);
      const webhooks = new OutboxWebhookPublisher({ urls: [receiver.url], events: ['message.dead_lettered'] }, outbox, () => dispatcher.wake());
      const refusing = switchableStore(store, { down: true }, () => new Error('SQLITE_IOERR: disk I/O error'));
      const consumer = new PersistConsumer(await redis.connect('consumer'), refusing, silentLogger, metrics.queue, layout.partitions, {
        nodeId: 'node-a',
        maxAttempts: 2,
        idleMs: 50,
        lingerMs: 0,
      });
      const log = new RedisMessageLog(redis.client, layout, 100, 10_000, 'node-a');
      await log.seed(roomId, 0);
      consumer.start(webhooks);
      dispatcher.start();
      try {
        const id = randomUUID();
        await log.append({ id, roomId, senderId: 'u1', senderName: 'U', text: 'doomed', clientMsgId: null, createdAt: new Date().toISOString() });
        await eventually(() => receiver.accepted(secret).length === 1, 10_000, 'message.dead_lettered delivered');
        const [event] = receiver.accepted(secret);
        expect(event!.type).to.equal('message.dead_lettered');
        expect(event!.data).to.deep.include({ roomId, attempts: 2 });
        expect(event!.data.reason).to.include('SQLITE_IOERR');
        expect(event!.data.message).to.deep.include({ id, roomId, text: 'doomed', seq: 1 });
        expect(event!.data.entryId).to.be.a('string');
      } finally {
        await consumer.stop();
        await dispatcher.stop();
      }
    });
  });
});
