import { createAdapter as createPubSubAdapter } from '@socket.io/redis-adapter';
import { createAdapter as createStreamsAdapter } from '@socket.io/redis-streams-adapter';
import type { AppConfig } from '../config/app-config.js';
import { noDeadLetters, type DeadLetterQueue } from '../ports/dead-letters.js';
import type { Logger } from '../ports/logger.js';
import type { CallRegistry, ConnectionCounter, Presence, RateLimiter } from '../ports/realtime.js';
import type { MessageStore, RoomStore, Store } from '../ports/store.js';
import type { Metrics } from './metrics.js';
import { keys } from './redis/redis-keys.js';
import type { DependencyProbe } from '../services/readiness.js';
import { MemoryCallRegistry } from './memory/memory-call-registry.js';
import { MemoryConnectionCounter } from './memory/memory-connection-counter.js';
import { MemoryPresence } from './memory/memory-presence.js';
import { MemoryRateLimiter } from './memory/memory-rate-limiter.js';
import { anyErrorButAppErrors, Breaker, guardMethods } from './breaker.js';
import { withPublishDeadline } from './redis/resilient-adapter.js';
import { CachedRoomStore } from './redis/cached-room-store.js';
import { ClusterMessageStore } from './redis/cluster-message-store.js';
import { NodeRegistry, type DeadNodeCleanup } from './redis/node-registry.js';
import { PersistConsumer } from './redis/persist-consumer.js';
import { RedisCallRegistry } from './redis/redis-call-registry.js';
import { connectRedis, type RedisClient } from './redis/redis-client.js';
import { RedisConnectionCounter } from './redis/redis-connection-counter.js';
import { RedisDeadLetters } from './redis/redis-dead-letters.js';
import { RedisMessageLog } from './redis/redis-message-log.js';
import { RedisPresence } from './redis/redis-presence.js';
import { RedisRateLimiter } from './redis/redis-rate-limiter.js';

type AdapterFactory = ReturnType<typeof createStreamsAdapter>;

/** The shared-state half of a node: in process (embedded) or in Redis (cluster). */
export interface RealtimeInfra {
  mode: 'embedded' | 'cluster';
  /** Rooms and members (cluster: cached in Redis, so they outlive a store outage). */
  rooms: RoomStore;
  messages: MessageStore;
  presence: Presence;
  calls: CallRegistry;
  connections: ConnectionCounter;
  limiters: { events: RateLimiter; messages: RateLimiter; http: RateLimiter; handshakes: RateLimiter };
  /** The room's newest seq where it leads the store (cluster: the Redis counter). */
  liveSeq: (roomId: string) => Promise<number | null>;
  adapter: AdapterFactory | null;
  deadLetters: DeadLetterQueue;
  probes: DependencyProbe[];
  /** Starts background work; `onCleanup` hears of a dead node's removed participants. */
  start(onCleanup: (c: DeadNodeCleanup) => void): Promise<void>;
  /** Stops background work and closes connections (after Socket.IO has closed). */
  stop(): Promise<void>;
}

/** Deadline of any Redis call on a request path; past it the caller gets UNAVAILABLE. */
export const REDIS_DEADLINE_MS = 1500;
/** How many adapter stream entries Redis keeps for connection-state recovery. */
export const ADAPTER_STREAM_MAXLEN = 100_000;
/** Recent messages kept per room in Redis for fast catch-up. */
export const ROOM_LOG_MAXLEN = 1000;

export async function selectInfra(config: AppConfig, store: Store, logger: Logger, metrics: Metrics): Promise<RealtimeInfra> {
  return config.redisUrl ? clusterInfra(config, config.redisUrl, store, logger, metrics) : embeddedInfra(config, store);
}

function embeddedInfra(config: AppConfig, store: Store): RealtimeInfra {
  const limits = config.rateLimits;
  return {
    mode: 'embedded',
    rooms: store,
    messages: store,
    presence: new MemoryPresence(),
    calls: new MemoryCallRegistry(),
    connections: new MemoryConnectionCounter(limits.connectionsPerUser, limits.connectionsPerIp),
    limiters: {
      events: new MemoryRateLimiter(limits.eventsPerSecond, 1000),
      messages: new MemoryRateLimiter(limits.messagesPer10s, 10_000),
      http: new MemoryRateLimiter(limits.httpPerMinute, 60_000),
      handshakes: new MemoryRateLimiter(limits.handshakesPer10s, 10_000),
    },
    liveSeq: async () => null,
    adapter: null,
    deadLetters: noDeadLetters,
    probes: [{ name: 'store', durable: true, check: () => store.ping() }],
    start: async () => {},
    stop: async () => {},
  };
}

async function clusterInfra(config: AppConfig, url: string, store: Store, logger: Logger, metrics: Metrics): Promise<RealtimeInfra> {
  const { nodeId, rateLimits: limits } = config;
  const main = await connectRedis(url, logger, 'main');
  const adapterClient = await connectRedis(url, logger, 'adapter', { offlineQueue: true });
  const consumerClient = await connectRedis(url, logger, 'consumer');
  const clients: RedisClient[] = [main, adapterClient, consumerClient];

  let adapter: AdapterFactory;
  if (config.socketAdapter === 'pubsub') {
    const sub = await connectRedis(url, logger, 'adapter-sub', { offlineQueue: true });
    clients.push(sub);
    adapter = createPubSubAdapter(adapterClient, sub, { key: 'sio-pubsub' }) as unknown as AdapterFactory;
    logger.warn('SOCKET_ADAPTER=pubsub: connection-state recovery does not work across nodes with this adapter; clients rejoin with lastSeq instead');
  } else {
    adapter = withPublishDeadline(
      createStreamsAdapter(adapterClient, { streamName: 'sio:stream', maxLen: ADAPTER_STREAM_MAXLEN, sessionKeyPrefix: 'sio:session:' }),
      REDIS_DEADLINE_MS,
    );
  }
  const redisBreaker = new Breaker({ name: 'redis', timeoutMs: REDIS_DEADLINE_MS, isOutage: anyErrorButAppErrors }, logger);
  // Rate limits fall back to per-node budgets quickly: they must never hold up a request.
  const limiterBreaker = new Breaker({ name: 'redis-rate-limits', timeoutMs: 250, isOutage: anyErrorButAppErrors }, logger);

  const log = guardMethods(new RedisMessageLog(main, ROOM_LOG_MAXLEN, config.queueHighWater, nodeId), redisBreaker);
  const messages = new ClusterMessageStore(log, store, logger);
  const presence = guardMethods(new RedisPresence(main, nodeId), redisBreaker);
  const calls = guardMethods(new RedisCallRegistry(main, nodeId), redisBreaker);
  const consumer = new PersistConsumer(consumerClient, store, logger, metrics.queue, {
    nodeId,
    maxAttempts: config.queueMaxAttempts,
    claimIdleMs: config.queueClaimIdleMs,
    onSeqConflict: async (roomId) => {
      const room = await store.getRoom(roomId);
      if (room) await log.raiseTo(roomId, room.lastSeq);
    },
  });
  metrics.observeQueue(() => queueDepth(main));
  metrics.observeBreaker(redisBreaker);
  let registry: NodeRegistry | null = null;
  logger.info('cluster mode: shared state in Redis', { redis: new URL(url).host, adapter: config.socketAdapter });

  return {
    mode: 'cluster',
    rooms: new CachedRoomStore(store, main),
    messages,
    presence,
    calls,
    connections: guardMethods(new RedisConnectionCounter(main, nodeId, limits.connectionsPerUser, limits.connectionsPerIp, 5000), redisBreaker),
    limiters: {
      // A connection lives on one node, so its event budget needs no Redis round trip.
      events: new MemoryRateLimiter(limits.eventsPerSecond, 1000),
      messages: new RedisRateLimiter(main, limiterBreaker, 'messages', limits.messagesPer10s, 10_000),
      http: new RedisRateLimiter(main, limiterBreaker, 'http', limits.httpPerMinute, 60_000),
      handshakes: new RedisRateLimiter(main, limiterBreaker, 'handshakes', limits.handshakesPer10s, 10_000),
    },
    liveSeq: (roomId) => messages.currentSeq(roomId),
    adapter,
    deadLetters: guardMethods(new RedisDeadLetters(main), redisBreaker),
    probes: [
      { name: 'store', durable: true, check: () => store.ping() },
      { name: 'redis', durable: true, check: async () => void (await main.ping()) },
    ],
    start: async (onCleanup) => {
      registry = new NodeRegistry(main, presence, calls, logger, { nodeId, onCleanup });
      await registry.start();
      consumer.start();
    },
    stop: async () => {
      await registry?.stop().catch((err: unknown) => logger.warn('node registry stop failed', { err: (err as Error).message }));
      await consumer.stop();
      // close() lets queued writes (e.g. the adapter's session records) finish first.
      await Promise.all(clients.map((c) => c.close().catch(() => c.destroy())));
    },
  };
}

/** Queue figures for /metrics: entries waiting, entries held by consumers, dead letters. */
async function queueDepth(redis: RedisClient): Promise<{ depth: number; pending: number; deadLetters: number }> {
  const [depth, pending, deadLetters] = await Promise.all([
    redis.xLen(keys.queue),
    redis.xPending(keys.queue, keys.queueGroup).then((p) => Number(p.pending)).catch(() => 0),
    redis.xLen(keys.deadLetters),
  ]);
  return { depth, pending, deadLetters };
}
