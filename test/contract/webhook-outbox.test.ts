import { rmSync } from 'node:fs';
import type { RedisClient } from '../../src/infra/redis/redis-client.js';
import { RedisWebhookOutbox } from '../../src/infra/redis/redis-webhook-outbox.js';
import { SqliteWebhookOutbox } from '../../src/infra/webhooks/sqlite-webhook-outbox.js';
import type { WebhookOutbox } from '../../src/ports/webhook-outbox.js';
import { describeWithRedis } from '../helpers/cluster.js';
import { useRedis } from '../helpers/redis-server.js';
import { assertOneSlotPerStep } from '../helpers/redis-steps.js';
import { tempDir } from '../helpers/test-server.js';
import { registerWebhookOutboxContract } from './webhook-outbox-contract.js';

// Two outboxes on one file: two connections, as two server processes sharing DATA_DIR have.
registerWebhookOutboxContract('SQLite', async () => {
  const dir = tempDir('vcs-webhooks-');
  const opened: WebhookOutbox[] = [];
  const open = () => {
    const outbox = new SqliteWebhookOutbox({ dataDir: dir });
    opened.push(outbox);
    return outbox;
  };
  return {
    outbox: open(),
    another: async () => open(),
    close: async () => {
      for (const o of opened) await o.close();
      rmSync(dir, { recursive: true, force: true });
    },
  };
});

describeWithRedis('WebhookOutbox in Redis', () => {
  const redis = useRedis();
  let second: RedisClient;
  before(async () => {
    second = await redis.connect('second-node');
  });
  registerWebhookOutboxContract('Redis', async () => ({
    outbox: new RedisWebhookOutbox(redis.client),
    another: async () => new RedisWebhookOutbox(second),
    close: async () => {},
  }));
  assertOneSlotPerStep(redis, 10);
});
