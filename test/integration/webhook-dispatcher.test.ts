import { expect } from 'chai';
import { rmSync } from 'node:fs';
import { PrometheusMetrics } from '../../src/infra/metrics.js';
import { webhookSecretKey } from '../../src/infra/webhooks/signing.js';
import { SqliteWebhookOutbox } from '../../src/infra/webhooks/sqlite-webhook-outbox.js';
import { backoffDelay, DEFAULT_WEBHOOK_BACKOFF, WebhookDispatcher } from '../../src/infra/webhooks/webhook-dispatcher.js';
import { OutboxWebhookPublisher } from '../../src/services/webhook-publisher.js';
import { silentLogger } from '../helpers/silent-logger.js';
import { eventually } from '../helpers/socket-client.js';
import { tempDir } from '../helpers/test-server.js';
import { WebhookReceiver, webhookSecret } from '../helpers/webhook-receiver.js';

describe('webhook backoff', () => {
  it('grows by the factor from the base up to the cap, each delay between half and all of it', () => {
    const b = DEFAULT_WEBHOOK_BACKOFF;
    const full = [5000, 20_000, 80_000, 320_000, 1_280_000, 3_600_000, 3_600_000];
    full.forEach((ms, i) => {
      expect(backoffDelay(i + 1, b, () => 0), `after ${i + 1} failures, least`).to.equal(ms / 2);
      expect(backoffDelay(i + 1, b, () => 1), `after ${i + 1} failures, most`).to.equal(ms);
    });
    for (let i = 0; i < 100; i++) expect(backoffDelay(3, b)).to.be.within(40_000, 80_000);
  });
});

describe('WebhookDispatcher', () => {
  const secret = webhookSecret();
  let dir: string;
  let outbox: SqliteWebhookOutbox;
  let receiver: WebhookReceiver;
  beforeEach(async () => {
    dir = tempDir('vcs-dispatcher-');
    outbox = new SqliteWebhookOutbox({ dataDir: dir });
    receiver = await new WebhookReceiver().start();
  });
  afterEach(async () => {
    await receiver.stop();
    await outbox.close();
    rmSync(dir, { recursive: true, force: true });
  });

  it('keeps at most `concurrency` requests in flight; stop hands them back without counting an attempt', async () => {
    const dispatcher = new WebhookDispatcher(outbox, { key: webhookSecretKey(secret), maxAttempts: 3, concurrency: 4, pollMs: 20 }, silentLogger, new PrometheusMetrics('t').webhooks);
    const publisher = new OutboxWebhookPublisher({ urls: [receiver.url], events: ['call.started'] }, outbox, () => dispatcher.wake());
    receiver.otherwise = 'hang';
    dispatcher.start();
    for (let i = 0; i < 10; i++) await publisher.publish('call.started', { i });
    await eventually(() => receiver.received.length === 4, 5000, 'four requests in flight');
    await new Promise((r) => setTimeout(r, 300));
    expect(receiver.received, 'no more while four hang').to.have.length(4);
    await dispatcher.stop();
    expect(await outbox.depth()).to.deep.equal({ pending: 10, deadLetters: 0 });
    const all = await outbox.claim(100, 60_000);
    expect(all).to.have.length(10);
    expect(all.every((d) => d.attempts === 0)).to.equal(true);
  });

  it('a redirect is an answer that is not 2xx: counted as a failed attempt, never followed', async () => {
    const dispatcher = new WebhookDispatcher(
      outbox,
      { key: webhookSecretKey(secret), maxAttempts: 1, pollMs: 20 },
      silentLogger,
      new PrometheusMetrics('t').webhooks,
    );
    const publisher = new OutboxWebhookPublisher({ urls: [receiver.url], events: ['room.deleted'] }, outbox, () => dispatcher.wake());
    receiver.otherwise = 307;
    dispatcher.start();
    try {
      await publisher.publish('room.deleted', { roomId: 'r' });
      await eventually(async () => (await outbox.deadLetters.list(10)).length === 1, 5000, 'dead-lettered after its one attempt');
      expect((await outbox.deadLetters.list(10))[0]).to.deep.include({ attempts: 1, lastError: 'HTTP 307' });
      expect(receiver.received).to.have.length(1);
    } finally {
      await dispatcher.stop();
    }
  });
});
