import { expect } from 'chai';
import { randomUUID } from 'node:crypto';
import { rmSync } from 'node:fs';
import { PrometheusMetrics } from '../../src/infra/metrics.js';
import { PersistConsumer } from '../../src/infra/redis/persist-consumer.js';
import { QueueLayout } from '../../src/infra/redis/queue-layout.js';
import type { RedisClient } from '../../src/infra/redis/redis-client.js';
import { RedisDeadLetters } from '../../src/infra/redis/redis-dead-letters.js';
import { RedisMessageLog } from '../../src/infra/redis/redis-message-log.js';
import { SqliteStore } from '../../src/infra/sqlite/sqlite-store.js';
import { noDeadLetters } from '../../src/ports/dead-letters.js';
import { describeWithRedis } from '../helpers/cluster.js';
import { useRedis } from '../helpers/redis-server.js';
import { silentLogger } from '../helpers/silent-logger.js';
import { eventually } from '../helpers/socket-client.js';
import { switchableStore } from '../helpers/switchable-store.js';
import { tempDir } from '../helpers/test-server.js';
import { registerDeadLetterContract } from './dead-letters-contract.js';

describe('DeadLetterQueue: embedded mode (noDeadLetters)', () => {
  it('has no queue, so nothing dies: an empty list, and every id is unknown', async () => {
    expect(await noDeadLetters.list(10)).to.deep.equal([]);
    expect(await noDeadLetters.retry('1-0')).to.equal(false);
    expect(await noDeadLetters.drop('1-0')).to.equal(false);
  });
});

describeWithRedis('DeadLetterQueue in Redis', () => {
  const redis = useRedis();
  const metrics = new PrometheusMetrics('node-a');
  let dir: string;
  let consumerClient: RedisClient;
  // One store for the suite (its writer thread takes a while to start); a room per test.
  let store: SqliteStore;
  before(async () => {
    // The consumer's blocking reads need a connection of their own, as on a node.
    consumerClient = await redis.connect('consumer');
    dir = tempDir('vcs-dead-letters-');
    store = new SqliteStore({ dataDir: dir });
  });
  after(async () => {
    await store?.close();
    if (dir) rmSync(dir, { recursive: true, force: true });
  });

  const layout = new QueueLayout(4);
  const REFUSAL = 'SQLITE_IOERR: disk I/O error';
  const MAX_ATTEMPTS = 2;

  /** The cluster's path: RedisMessageLog queues a message, PersistConsumer fails it MAX_ATTEMPTS times on a store that refuses. */
  registerDeadLetterContract('Redis', async () => {
    const roomId = randomUUID();
    await store.createRoom({ id: roomId, name: 'room', isPrivate: false, maxParticipants: 8, createdBy: 'u1', createdAt: new Date().toISOString() });
    const fault = { down: true };
    const consumer = new PersistConsumer(
      consumerClient,
      switchableStore(store, fault, () => new Error(REFUSAL)),
      silentLogger,
      metrics.queue,
      layout.partitions,
      { nodeId: 'node-a', maxAttempts: MAX_ATTEMPTS, idleMs: 50, lingerMs: 0 },
    );
    const log = new RedisMessageLog(redis.client, layout, 100, 10_000, 'node-a');
    await log.seed(roomId, 0);
    consumer.start();
    const deadLetters = new RedisDeadLetters(redis.client, layout);
    return {
      deadLetters,
      maxAttempts: MAX_ATTEMPTS,
      refusal: REFUSAL,
      async poison(text) {
        const now = new Date().toISOString();
        const id = randomUUID();
        expect(await log.append({ id, roomId, senderId: 'u1', senderName: 'U', text, clientMsgId: null, createdAt: now })).to.deep.include({ created: true });
        await eventually(async () => (await deadLetters.list(100)).some((d) => JSON.stringify(d.entry).includes(id)), 5000, `message ${id} dead-lettered`);
        return id;
      },
      heal: () => {
        fault.down = false;
      },
      stored: async () => (await store.listMessages(roomId, { limit: 100 })).messages.map((m) => m.id),
      close: () => consumer.stop(),
    };
  });
});
