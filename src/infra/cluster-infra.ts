import { createAdapter as createPubSubAdapter, createShardedAdapter } from '@socket.io/redis-adapter';
import { createAdapter as createStreamsAdapter } from '@socket.io/redis-streams-adapter';
import type { AppConfig, RedisTopology } from '../config/app-config.js';
import type { Logger } from '../ports/logger.js';
import type { Store } from '../ports/store.js';
import type { PrometheusMetrics } from './metrics.js';
import { LEGACY_PARTITION, QUEUE_GROUP, QueueLayout, type QueuePartition } from './redis/queue-layout.js';
import { setUpQueueLayout } from './redis/queue-layout-setup.js';
import { ReplicaAcks } from './redis/replica-acks.js';
import { MemoryRateLimiter } from './memory/memory-rate-limiter.js';
import { Breaker, guardMethods, redisDriverOutage } from './breaker.js';
import { CachedRoomStore } from './cached-room-store.js';
import { publishFailureLog, withPublishDeadline } from './redis/resilient-adapter.js';
import { PublishBacklog } from './redis/publish-backlog.js';
import { ClusterMessageStore } from './redis/cluster-message-store.js';
import { NodeRegistry } from './redis/node-registry.js';
import { PersistConsumer } from './redis/persist-consumer.js';
import { RedisCallRegistry } from './redis/redis-call-registry.js';
import { connectRedis, describeRedis, type RedisClient, type RedisClusterClient } from './redis/redis-client.js';
import { RedisConnectionCounter } from './redis/redis-connection-counter.js';
import { OptimisticConnectionCounter } from './redis/optimistic-connection-counter.js';
import { RedisDeadLetters } from './redis/redis-dead-letters.js';
import { RedisWebhookOutbox } from './redis/redis-webhook-outbox.js';
import { RedisMessageLog } from './redis/redis-message-log.js';
import { RedisPresence } from './redis/redis-presence.js';
import { insuredRedisBudget } from './redis/redis-rate-limiter.js';
import { RedisLobby } from './redis/redis-lobby.js';
import { RedisCallMarks } from './redis/redis-call-marks.js';
import { RedisRoomCache } from './redis/redis-room-cache.js';
import { RedisTokenRevocations } from './redis/redis-token-revocations.js';
import { ADAPTER_PUBLISH_HIGH_WATER, ADAPTER_READ_COUNT, ADAPTER_STREAM_MAXLEN, REDIS_DEADLINE_MS, ROOM_LOG_MAXLEN, type AdapterFactory, type InfraTuning, type RealtimeInfra } from './select-infra.js';

/**
 * The shared-state half of a node in cluster mode: every piece in Redis (one server, a Redis
 * Cluster or through Sentinels), each request-path call guarded by the Redis breaker.
 */
export async function clusterInfra(
  config: AppConfig,
  topology: RedisTopology,
  store: Store,
  closeStore: () => Promise<void>,
  logger: Logger,
  metrics: PrometheusMetrics,
  tuning: InfraTuning,
): Promise<RealtimeInfra> {
  const { nodeId, rateLimits: limits } = config;
  // The client of every hot-path step: its calls are bounded by the breaker and by the socket.
  const main = await connectRedis(topology, logger, 'main', { socketDeadline: true });
  const layout = new QueueLayout(config.queuePartitions);
  // Before anything else is connected: a refusal (another QUEUE_PARTITIONS, a node of an
  // earlier release running) stops the start with nothing left open.
  // No release before this one ran on a Redis Cluster: there are no earlier keys to move.
  const setup = await setUpQueueLayout(main, layout, nodeId, logger, { earlierKeys: topology.kind !== 'cluster' }).catch(async (err: unknown) => {
    await main.close().catch(() => main.destroy());
    throw err;
  });
  const partitions = setup.legacyQueue ? [...layout.partitions, LEGACY_PARTITION] : layout.partitions;
  const adapterClient = await connectRedis(topology, logger, 'adapter', { offlineQueue: true });
  const consumerClient = await connectRedis(topology, logger, 'consumer');
  // Subscribing takes a connection over: the revocations' subscriber has one of its own.
  const revocationsSub = await connectRedis(topology, logger, 'revocations-sub');
  const clients: RedisClient[] = [main, adapterClient, consumerClient, revocationsSub];

  let adapter: AdapterFactory;
  let fanOutBacklog: PublishBacklog | null = null;
  if (config.socketAdapter === 'pubsub') {
    const sub = await connectRedis(topology, logger, 'adapter-sub', { offlineQueue: true });
    clients.push(sub);
    // On a cluster, classic PUBLISH is forwarded to every shard; sharded pub/sub is not.
    adapter = (
      topology.kind === 'cluster' ? createShardedAdapter(adapterClient, sub, { channelPrefix: 'sio-pubsub' }) : createPubSubAdapter(adapterClient, sub, { key: 'sio-pubsub' })
    ) as unknown as AdapterFactory;
    logger.warn('SOCKET_ADAPTER=pubsub: connection-state recovery does not work across nodes with this adapter; clients rejoin with lastSeq instead');
  } else {
    const logPublishFailure = publishFailureLog((message, meta) => logger.warn(message, meta));
    fanOutBacklog = new PublishBacklog(tuning.adapterPublishHighWater ?? ADAPTER_PUBLISH_HIGH_WATER);
    adapter = withPublishDeadline(
      createStreamsAdapter(adapterClient, { streamName: 'sio:stream', maxLen: tuning.adapterStreamMaxLen ?? ADAPTER_STREAM_MAXLEN, sessionKeyPrefix: 'sio:session:', readCount: ADAPTER_READ_COUNT }),
      REDIS_DEADLINE_MS,
      (why) => {
        metrics.adapterPublishFailed(why);
        logPublishFailure(why);
      },
      fanOutBacklog,
    );
  }
  const redisBreaker = new Breaker({ name: 'redis', timeoutMs: REDIS_DEADLINE_MS, isDriverOutage: redisDriverOutage }, logger);
  // Rate limits fall back to per-node budgets quickly: they must never hold up a request.
  const limiterBreaker = new Breaker({ name: 'redis-rate-limits', timeoutMs: 250, isDriverOutage: redisDriverOutage }, logger);
  const redisGuarded = <T extends object>(target: T) => guardMethods(target, redisBreaker);
  const clusterBudget = (name: string, points: number, durationMs: number) => insuredRedisBudget(main, limiterBreaker, name, points, durationMs);

  let replicaAcks: ReplicaAcks | null = null;
  let consumerReplicas: ReplicaAcks | null = null;
  if (config.redisMinReplicasAck > 0) {
    // The consumer stores only what the replicas hold too (see PersistConsumerOptions.replicated).
    consumerReplicas = new ReplicaAcks(consumerClient, config.redisMinReplicasAck, topology.kind === 'cluster');
    // Appends wait for replicas on a connection of their own (see ReplicaAcks).
    const appends = await connectRedis(topology, logger, 'appends', { socketDeadline: true });
    clients.push(appends);
    replicaAcks = new ReplicaAcks(appends, config.redisMinReplicasAck, topology.kind === 'cluster');
    const replicas = await fewestReplicas(main, topology);
    if (replicas < config.redisMinReplicasAck) {
      logger.warn('fewer Redis replicas connected than REDIS_MIN_REPLICAS_ACK: chat sends answer UNAVAILABLE until they are', { replicas, required: config.redisMinReplicasAck });
    }
  }
  const log = redisGuarded(new RedisMessageLog(main, layout, ROOM_LOG_MAXLEN, config.queueHighWater, nodeId, replicaAcks));
  const messages = new ClusterMessageStore(log, store, logger);
  // The node registry is a background loop: it gets the unguarded ones (see guardMethods).
  const [rawPresence, rawCalls] = [new RedisPresence(main, nodeId), new RedisCallRegistry(main, nodeId)];
  const [presence, calls] = [redisGuarded(rawPresence), redisGuarded(rawCalls)];
  const rawConnections = new RedisConnectionCounter(main, nodeId, limits.connectionsPerUser, limits.connectionsPerIp, 5000);
  const connections = new OptimisticConnectionCounter(redisGuarded(rawConnections), { perUser: limits.connectionsPerUser, perIp: limits.connectionsPerIp }, logger);
  const consumer = new PersistConsumer(consumerClient, store, logger, metrics.queue, partitions, {
    nodeId,
    maxAttempts: config.queueMaxAttempts,
    claimIdleMs: config.queueClaimIdleMs,
    onSeqConflict: (roomId) => messages.repairSequence(roomId),
    onChangeStored: (message) => messages.settled(message),
    replicated: consumerReplicas ? (key) => consumerReplicas.confirm(key) : undefined,
  });
  // Publishing is on request paths (a chat send waits for it): through the breaker, like
  // every such Redis call. The dispatcher's steps are a background loop's: unguarded.
  const webhookOutbox = config.webhooks
    ? guardMethods(new RedisWebhookOutbox(main), redisBreaker, ['claim', 'complete', 'retryLater', 'deadLetter', 'release', 'depth', 'close'])
    : null;
  metrics.observeQueue(() => queueDepth(main, partitions));
  metrics.observeBreaker(redisBreaker);
  let registry: NodeRegistry | null = null;
  // Unguarded (see its revoke): lookups are in memory, reads a start-up step or a background check.
  const revocations = new RedisTokenRevocations(main, revocationsSub, logger, { sharded: topology.kind === 'cluster' });
  logger.info('cluster mode: shared state in Redis', { redis: describeRedis(topology), adapter: config.socketAdapter });

  return {
    mode: 'cluster',
    store,
    rooms: new CachedRoomStore(store, redisGuarded(new RedisRoomCache(main)), {
      created: (room) => messages.startSequence(room.id),
      deleted: (roomId) => messages.endSequence(roomId),
    }),
    messages,
    presence,
    calls,
    lobby: redisGuarded(new RedisLobby(main)),
    callMarks: redisGuarded(new RedisCallMarks(main)),
    connections,
    limiters: {
      // A connection lives on one node, so its event budget needs no Redis round trip.
      events: new MemoryRateLimiter(limits.eventsPerSecond, 1000),
      messages: clusterBudget('messages', limits.messagesPer10s, 10_000),
      http: clusterBudget('http', limits.httpPerMinute, 60_000),
      handshakes: clusterBudget('handshakes', limits.handshakesPer10s, 10_000),
    },
    adapter,
    fanOutBacklog,
    deadLetters: redisGuarded(new RedisDeadLetters(main, layout)),
    webhookOutbox,
    revocations,
    probes: [
      { name: 'store', durable: true, check: () => store.ping() },
      { name: 'redis', durable: true, check: async () => void (await main.ping()) },
    ],
    start: async (onCleanup, onPresumedDead, webhooks) => {
      registry = new NodeRegistry(main, rawPresence, rawCalls, rawConnections, logger, { nodeId, onCleanup, onPresumedDead });
      await registry.start();
      await revocations.start();
      consumer.start(webhooks);
    },
    stop: async () => {
      await registry?.stop().catch((err: unknown) => logger.warn('node registry stop failed', { err: (err as Error).message }));
      await consumer.stop();
      await revocations.stop();
      // close() lets queued writes (e.g. the adapter's session records) finish first.
      await Promise.all(clients.map((c) => c.close().catch(() => c.destroy())));
      redisBreaker.shutdown();
      limiterBreaker.shutdown();
    },
    closeStore,
  };
}

/** Replicas connected to the master (on a cluster: to the master that has fewest). */
async function fewestReplicas(main: RedisClient, topology: RedisTopology): Promise<number> {
  const count = (info: string) => Number(/connected_slaves:(\d+)/.exec(info)?.[1] ?? 0);
  if (topology.kind !== 'cluster') return count(await main.info('replication'));
  const cluster = main as unknown as RedisClusterClient;
  const infos = await Promise.all(cluster.masters.map(async (m) => (await cluster.nodeClient(m)).info('replication')));
  return Math.min(...infos.map(count));
}

/** Queue figures for /metrics, summed over the partitions: entries waiting, held by consumers, dead letters. */
async function queueDepth(redis: RedisClient, partitions: readonly QueuePartition[]): Promise<{ depth: number; pending: number; deadLetters: number }> {
  const streams = [...new Set([...partitions, LEGACY_PARTITION])];
  const figures = await Promise.all(
    streams.map((p) =>
      Promise.all([
        redis.xLen(p.queue),
        redis.xPending(p.queue, QUEUE_GROUP).then((x) => Number(x.pending)).catch(() => 0),
        redis.xLen(p.deadLetters),
      ]),
    ),
  );
  const sum = (i: number) => figures.reduce((n, f) => n + f[i]!, 0);
  return { depth: sum(0), pending: sum(1), deadLetters: sum(2) };
}
