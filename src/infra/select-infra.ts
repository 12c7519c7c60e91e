import { join } from 'node:path';
import type { AppConfig } from '../config/app-config.js';
import { noDeadLetters, type DeadLetterQueue } from '../ports/dead-letters.js';
import type { CallRegistry, ConnectionCounter, FanOutBacklog, Presence, RateLimiter } from '../ports/realtime.js';
import type { MessageStore, RoomStore, Store } from '../ports/store.js';
import type { Logger } from '../ports/logger.js';
import type { TokenRevocations } from '../ports/token-revocations.js';
import { FileTokenRevocations } from './file-token-revocations.js';
import type { PrometheusMetrics } from './metrics.js';
import type { DependencyProbe } from '../services/readiness.js';
import type { Lobby } from '../ports/lobby.js';
import type { WebhookOutbox } from '../ports/webhook-outbox.js';
import type { WebhookPublisher } from '../ports/webhooks.js';
import { MemoryCallRegistry } from './memory/memory-call-registry.js';
import { MemoryLobby } from './memory/memory-lobby.js';
import { MemoryCallMarks } from './memory/memory-call-marks.js';
import type { CallMarks } from '../ports/call-marks.js';
import { MemoryConnectionCounter } from './memory/memory-connection-counter.js';
import { MemoryPresence } from './memory/memory-presence.js';
import { MemoryRateLimiter } from './memory/memory-rate-limiter.js';
import { Breaker, guardMethods } from './breaker.js';
import type { DeadNodeCleanup } from './redis/node-registry.js';
import type { ServerOptions } from 'socket.io';

/** The Socket.IO adapter factory of cluster mode (null: the in-memory one). */
export type AdapterFactory = NonNullable<ServerOptions['adapter']>;

/** The shared-state half of a node: in process (embedded) or in Redis (cluster). */
export interface RealtimeInfra {
  mode: 'embedded' | 'cluster';
  /** The store behind its breaker: everything persisted, for readiness and shutdown. */
  store: Store;
  /** Rooms and members (cluster: cached in Redis, so they outlive a store outage). */
  rooms: RoomStore;
  /** Messages and each room's sequence (`lastSeq`): the store, or Redis in front of it. */
  messages: MessageStore;
  presence: Presence;
  calls: CallRegistry;
  lobby: Lobby;
  callMarks: CallMarks;
  connections: ConnectionCounter;
  limiters: { events: RateLimiter; messages: RateLimiter; http: RateLimiter; handshakes: RateLimiter };
  adapter: AdapterFactory | null;
  /** Cluster mode with the streams adapter: its publishes not taken by Redis yet (senders wait on it). */
  fanOutBacklog: FanOutBacklog | null;
  deadLetters: DeadLetterQueue;
  /**
   * Where webhook events wait for delivery (null: webhooks off): a SQLite file in DATA_DIR,
   * or Redis in cluster mode so that any node delivers what any node queued.
   */
  webhookOutbox: WebhookOutbox | null;
  /** Loaded by `start`, so every token is checked against them from the first connection. */
  revocations: TokenRevocations;
  probes: DependencyProbe[];
  /**
   * Starts background work; `onCleanup` hears of a dead node's removed participants,
   * `onPresumedDead` that the other nodes took this one for dead (see NodeRegistry), and
   * `webhooks` gets what the background work publishes (the chat queue's dead letters).
   */
  start(onCleanup: (c: DeadNodeCleanup) => void, onPresumedDead?: () => void, webhooks?: WebhookPublisher): Promise<void>;
  /** Stops background work and closes connections (after Socket.IO has closed). */
  stop(): Promise<void>;
  /** Commits what the store has in hand and closes it (after `stop`). */
  closeStore(): Promise<void>;
}

/** Deadline of any Redis call on a request path; past it the caller gets UNAVAILABLE. */
export const REDIS_DEADLINE_MS = 1500;
/**
 * Unsettled adapter publishes at which chat acks wait (PublishBacklog): half the adapter
 * connection's command queue (10,000), which session writes and restores share.
 */
export const ADAPTER_PUBLISH_HIGH_WATER = 5000;
/** How many adapter stream entries Redis keeps for connection-state recovery. */
export const ADAPTER_STREAM_MAXLEN = 100_000;
/**
 * Adapter stream entries each node reads per round trip. The adapter's default, 100, capped
 * a node's live fan-out at 100 entries per round trip of its one read loop: on a loaded node
 * that was below the rate of acked sends, so live delivery fell behind the acks (2.05 of 3
 * deliveries per send in rooms of 4; bench cluster scenario, docs/benchmarks.md).
 */
export const ADAPTER_READ_COUNT = 1000;
/** Recent messages kept per room in Redis for fast catch-up. */
export const ROOM_LOG_MAXLEN = 1000;

/** Deadline of a store call; past it the caller gets UNAVAILABLE. */
export const STORE_DEADLINE_MS = 3000;

/** Limits a deployment has no reason to change, set otherwise only by tests. */
export interface InfraTuning {
  /** Default ADAPTER_STREAM_MAXLEN. */
  adapterStreamMaxLen?: number | undefined;
  /** Default ADAPTER_PUBLISH_HIGH_WATER. */
  adapterPublishHighWater?: number | undefined;
}

/**
 * Builds the shared-state half of a node around `rawStore`. Every dependency a request path
 * uses is guarded here, the one way: its methods run through the dependency's Breaker.
 */
export async function selectInfra(
  config: AppConfig,
  rawStore: Store,
  logger: Logger,
  metrics: PrometheusMetrics,
  tuning: InfraTuning = {},
): Promise<RealtimeInfra> {
  const storeBreaker = new Breaker({ name: 'store', timeoutMs: STORE_DEADLINE_MS }, logger);
  metrics.observeBreaker(storeBreaker);
  const store = guardMethods(rawStore, storeBreaker, ['ping', 'close']);
  const closeStore = () => {
    storeBreaker.shutdown();
    return store.close();
  };
  if (!config.redis) {
    // Loaded only with webhooks on: off, they cost nothing.
    const webhookOutbox = config.webhooks
      ? new (await import('./webhooks/sqlite-webhook-outbox.js')).SqliteWebhookOutbox({ dataDir: config.dataDir })
      : null;
    return embeddedInfra(config, store, closeStore, webhookOutbox);
  }
  // Loaded only in cluster mode: the Redis client and adapters are a third of an embedded
  // node's start-up time (measured: ~100 ms of ~480 ms), and a restart's length is what a
  // reconnect storm's clients wait for.
  const { clusterInfra } = await import('./cluster-infra.js');
  return clusterInfra(config, config.redis, store, closeStore, logger, metrics, tuning);
}

function embeddedInfra(config: AppConfig, store: Store, closeStore: () => Promise<void>, webhookOutbox: WebhookOutbox | null): RealtimeInfra {
  const limits = config.rateLimits;
  const revocations = new FileTokenRevocations(join(config.dataDir, 'token-revocations.json'));
  return {
    mode: 'embedded',
    store,
    rooms: store,
    messages: store,
    presence: new MemoryPresence(),
    calls: new MemoryCallRegistry(),
    lobby: new MemoryLobby(),
    callMarks: new MemoryCallMarks(),
    connections: new MemoryConnectionCounter(limits.connectionsPerUser, limits.connectionsPerIp),
    limiters: {
      events: new MemoryRateLimiter(limits.eventsPerSecond, 1000),
      messages: new MemoryRateLimiter(limits.messagesPer10s, 10_000),
      http: new MemoryRateLimiter(limits.httpPerMinute, 60_000),
      handshakes: new MemoryRateLimiter(limits.handshakesPer10s, 10_000),
    },
    adapter: null,
    fanOutBacklog: null,
    deadLetters: noDeadLetters,
    webhookOutbox,
    revocations,
    probes: [{ name: 'store', durable: true, check: () => store.ping() }],
    start: () => revocations.start(),
    stop: async () => {
      await revocations.stop();
      await webhookOutbox?.close();
    },
    closeStore,
  };
}

