import { expect } from 'chai';
import { randomUUID } from 'node:crypto';
import { rmSync } from 'node:fs';
import type { AppOverrides } from '../../src/app.js';
import { WebhookDeadLetterListSchema } from '../../src/protocol/answers.js';
import { WEBHOOK_EVENT_TYPES, WebhookPayloadSchema } from '../../src/protocol/webhooks.js';
import { createRoom, guest, request, scrapeMetrics } from '../helpers/http-client.js';
import { ask, eventually } from '../helpers/socket-client.js';
import { startServer, tempDir, type TestServer } from '../helpers/test-server.js';
import { verify, WebhookReceiver, webhookSecret } from '../helpers/webhook-receiver.js';

const ADMIN = 'admin-token-0123456789';
/**
 * Every type but room.*: each test's room is made in beforeEach, and its room.created would
 * count among the deliveries the tests count (room events: room-webhooks.test.ts).
 */
const NOT_ROOMS = WEBHOOK_EVENT_TYPES.filter((t) => !t.startsWith('room.')).join(',');
/** Short timings for tests; production keeps the dispatcher's defaults (5 s timeout, 5 s … 1 h backoff). */
const FAST: AppOverrides = { webhookDispatcher: { timeoutMs: 300, backoff: { baseMs: 40, factor: 2, maxMs: 200 }, pollMs: 50 } };

describe('Webhooks (embedded mode: SQLite outbox)', () => {
  const secret = webhookSecret();
  let receiver: WebhookReceiver;
  let other: WebhookReceiver;
  let server: TestServer;
  let token: string;
  let roomId: string;
  const started: TestServer[] = [];

  const start = async (env: Record<string, string> = {}, dataDir?: string) => {
    const s = await startServer(
      { WEBHOOK_URLS: receiver.url, WEBHOOK_SECRET: secret, WEBHOOK_MAX_ATTEMPTS: '4', ADMIN_TOKEN: ADMIN, WEBHOOK_EVENTS: NOT_ROOMS, ...env },
      { overrides: FAST, ...(dataDir ? { dataDir } : {}) },
    );
    started.push(s);
    return s;
  };

  beforeEach(async () => {
    receiver = await new WebhookReceiver().start();
    other = await new WebhookReceiver().start();
    server = await start();
    ({ token } = await guest(server.url, 'ann'));
    roomId = (await createRoom(server.url, token)).id;
  });
  afterEach(async () => {
    for (const s of started.splice(0)) await s.stop().catch(() => undefined);
    await receiver.stop();
    await other.stop();
  });

  const send = async (text: string, clientMsgId?: string) => {
    const res = await request(server.url, 'POST', '/api/messages', { token, body: { roomId, text, ...(clientMsgId ? { clientMsgId } : {}) } });
    expect(res.status, JSON.stringify(res.body)).to.be.oneOf([200, 201]);
    return res.body as { id: string; seq: number; text: string };
  };
  const deliveredOf = (type: string) => receiver.accepted(secret).filter((p) => p.type === type);

  it('a chat message becomes message.created: signed per Standard Webhooks, body {type, timestamp, data: the message}', async () => {
    const message = await send('hello hooks');
    await eventually(() => deliveredOf('message.created').length === 1, 5000, 'message.created delivered');
    const [r] = receiver.received;
    expect(r!.headers['content-type']).to.equal('application/json');
    expect(Number(r!.headers['webhook-timestamp'])).to.be.closeTo(Date.now() / 1000, 10);
    expect(String(r!.headers['webhook-signature'])).to.match(/^v1,[A-Za-z0-9+/]+=*$/);
    const payload = verify(secret, r!) as any;
    expect(Object.keys(payload).sort()).to.deep.equal(['data', 'timestamp', 'type']);
    WebhookPayloadSchema.parse(payload);
    expect(payload.type).to.equal('message.created');
    expect(new Date(payload.timestamp).toISOString()).to.equal(payload.timestamp);
    expect(payload.data).to.deep.equal(message);
    // Another secret does not verify it.
    expect(() => verify(webhookSecret(), r!)).to.throw();
  });

  it('retries a 500, a hang past the timeout and a closed connection with backoff, under one webhook-id, then delivers once', async () => {
    receiver.script = [500, 'hang', 'close'];
    await send('persistent');
    await eventually(() => deliveredOf('message.created').length === 1, 10_000, 'delivered after three failures');
    const attempts = receiver.received;
    expect(attempts.map((a) => a.answer)).to.deep.equal([500, 'hang', 'close', 204]);
    expect(new Set(attempts.map((a) => a.id)).size, 'one webhook-id on every attempt').to.equal(1);
    for (const a of attempts) verify(secret, a);
    // Backoff: at least half of 40, 80, 160 ms after each failure (the hang adds its 300 ms timeout).
    const gaps = attempts.slice(1).map((a, i) => a.at - attempts[i]!.at);
    expect(gaps[0]).to.be.at.least(20);
    expect(gaps[1]).to.be.at.least(300 + 40);
    expect(gaps[2]).to.be.at.least(80);
    const m = await scrapeMetrics(server.url);
    const series = (name: string) => [...m].filter(([k]) => k.startsWith(name)).reduce((n, [, v]) => n + v, 0);
    expect(series('webhook_failed_attempts_total{reason="status"')).to.equal(1);
    expect(series('webhook_failed_attempts_total{reason="timeout"')).to.equal(1);
    expect(series('webhook_failed_attempts_total{reason="network"')).to.equal(1);
    expect(series('webhook_delivered_total{type="message.created"')).to.equal(1);
    expect(series('webhook_delivery_seconds_count')).to.equal(4);
    expect(series('webhook_queue_depth')).to.equal(0);
  });

  it('after WEBHOOK_MAX_ATTEMPTS a dead letter for that URL only; the admin API lists, retries (same webhook-id) and deletes', async () => {
    await started.pop()!.stop();
    server = await start({ WEBHOOK_URLS: `${receiver.url},${other.url}` });
    ({ token } = await guest(server.url, 'ann'));
    roomId = (await createRoom(server.url, token)).id;
    other.otherwise = 503;
    const message = await send('to two receivers');
    const admin = (method: string, path: string, t: string | null = ADMIN) => request(server.url, method, `/api/admin/webhooks${path}`, t ? { token: t } : {});
    await server.app.webhooks.publish('call.started', { roomId });
    let list: any[] = [];
    await eventually(async () => (list = (await admin('GET', '/dead-letters')).body.deadLetters ?? []).length === 2, 10_000, 'dead letters of the failing URL');
    // Each event delivered to the healthy receiver once.
    expect(receiver.accepted(secret).map((p) => p.type).sort()).to.deep.equal(['call.started', 'message.created']);
    WebhookDeadLetterListSchema.parse({ deadLetters: list });
    const letter = list.find((d) => d.type === 'message.created');
    expect(letter).to.deep.include({ url: other.url, type: 'message.created', attempts: 4, lastError: 'HTTP 503' });
    expect(letter.event).to.deep.include({ id: letter.eventId, type: 'message.created', data: message });
    expect(Object.keys(letter).sort()).to.deep.equal(['attempts', 'event', 'eventId', 'firstSeenAt', 'id', 'lastError', 'type', 'url']);
    expect(other.deliveriesOf(letter.eventId)).to.have.length(4);

    expect((await admin('GET', '/dead-letters', null)).status).to.equal(401);
    expect((await admin('GET', '/dead-letters', 'not-the-admin-token-at-all')).status).to.equal(403);
    expect((await admin('GET', '/dead-letters?limit=1')).body.deadLetters).to.have.length(1);

    other.otherwise = 200;
    expect((await admin('POST', `/dead-letters/${letter.id}/retry`)).status).to.equal(202);
    await eventually(() => other.accepted(secret).length === 1, 5000, 'the retried dead letter delivered');
    expect(other.accepted(secret)[0]).to.deep.include({ id: letter.eventId, type: 'message.created' });

    const rest = (await admin('GET', '/dead-letters')).body.deadLetters;
    expect(rest.map((d: any) => d.type)).to.deep.equal(['call.started']);
    expect((await admin('DELETE', `/dead-letters/${rest[0].id}`)).status).to.equal(204);
    expect((await admin('GET', '/dead-letters')).body.deadLetters).to.deep.equal([]);
    for (const [method, path] of [
      ['DELETE', `/dead-letters/${rest[0].id}`],
      ['POST', `/dead-letters/${letter.id}/retry`],
      ['POST', '/dead-letters/nope/retry'],
    ] as const) {
      const res = await admin(method, path);
      expect(res.status, `${method} ${path}`).to.equal(404);
      expect(res.body.error.code).to.equal('WEBHOOK_DEAD_LETTER_NOT_FOUND');
    }
  });

  it('one occurrence is one event: a repeated occurrenceId or a retried clientMsgId publishes once', async () => {
    const clientMsgId = randomUUID();
    const first = await send('once', clientMsgId);
    const again = await send('once', clientMsgId);
    expect(again.id).to.equal(first.id);
    await server.app.webhooks.publish('call.ended', { roomId, n: 1 }, 'occurrence-1');
    await server.app.webhooks.publish('call.ended', { roomId, n: 2 }, 'occurrence-1');
    await server.app.webhooks.publish('call.ended', { roomId, n: 3 });
    await eventually(async () => deliveredOf('call.ended').length === 2 && (await scrapeMetrics(server.url)).get('webhook_queue_depth{node="' + server.app.config.nodeId + '"}') === 0, 5000, 'the outbox emptied');
    expect(deliveredOf('message.created').map((p) => p.data.id)).to.deep.equal([first.id]);
    expect(deliveredOf('call.ended').map((p) => p.data.n).sort()).to.deep.equal([1, 3]);
  });

  it('a receiver that hangs slows no chat send: every send is acked while its webhooks wait', async () => {
    receiver.otherwise = 'hang';
    const socket = await (await import('../helpers/socket-client.js')).connect(server.url, '/chat', token);
    try {
      expect((await ask(socket, 'room:join', { roomId })).ok).to.equal(true);
      for (let i = 0; i < 25; i++) {
        const ack = await ask(socket, 'chat:send', { roomId, clientMsgId: randomUUID(), text: `m${i}` }, 2000);
        expect(ack.ok, JSON.stringify(ack)).to.equal(true);
      }
      await eventually(() => receiver.received.length >= 16, 5000, 'the receiver holding requests');
    } finally {
      socket.close();
    }
  });

  it('WEBHOOK_EVENTS filters: a type left out is not wanted and never delivered', async () => {
    await started.pop()!.stop();
    server = await start({ WEBHOOK_EVENTS: 'room.created' });
    ({ token } = await guest(server.url, 'ann'));
    expect(server.app.webhooks.wants('message.created')).to.equal(false);
    expect(server.app.webhooks.wants('room.created')).to.equal(true);
    await server.app.webhooks.publish('message.created', { not: 'wanted' });
    await server.app.webhooks.publish('room.created', { roomId: 'r-1' });
    await eventually(() => receiver.received.length === 1, 5000, 'the wanted event');
    expect(receiver.accepted(secret).map((p) => p.type)).to.deep.equal(['room.created']);
  });

  it('stop hands deliveries in flight back: nothing is lost, the next start delivers them with the same webhook-id', async () => {
    const dataDir = tempDir('vcs-webhooks-stop-');
    try {
      await started.pop()!.stop();
      server = await start({}, dataDir);
      receiver.otherwise = 'hang';
      await server.app.webhooks.publish('call.started', { roomId: 'r-9' });
      await eventually(() => receiver.received.length === 1, 5000, 'the request in flight');
      const stopping = Date.now();
      await started.pop()!.stop();
      expect(Date.now() - stopping, 'stop does not wait out the receiver').to.be.below(2000);
      receiver.otherwise = 200;
      server = await start({}, dataDir);
      await eventually(() => receiver.accepted(secret).length === 1, 5000, 'delivered after the restart');
      expect(receiver.accepted(secret)[0]!.id).to.equal(receiver.received[0]!.id);
    } finally {
      for (const s of started.splice(0)) await s.stop().catch(() => undefined);
      rmSync(dataDir, { recursive: true, force: true });
    }
  });
});

describe('Webhooks off (no WEBHOOK_URLS)', () => {
  it('publishes nothing, wants nothing, creates no outbox file, and the admin API lists no webhook dead letters', async () => {
    const server = await startServer({ ADMIN_TOKEN: ADMIN });
    try {
      expect(server.app.webhooks.wants('message.created')).to.equal(false);
      await server.app.webhooks.publish('room.created', { roomId: 'x' });
      const { existsSync } = await import('node:fs');
      expect(existsSync(`${server.dataDir}/webhooks.db`)).to.equal(false);
      const res = await request(server.url, 'GET', '/api/admin/webhooks/dead-letters', { token: ADMIN });
      expect(res.status).to.equal(200);
      expect(res.body).to.deep.equal({ deadLetters: [] });
      expect((await request(server.url, 'DELETE', '/api/admin/webhooks/dead-letters/x', { token: ADMIN })).body.error.code).to.equal('WEBHOOK_DEAD_LETTER_NOT_FOUND');
    } finally {
      await server.stop();
    }
  });
});
