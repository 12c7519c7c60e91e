import type { WebhookEventType } from '../ports/webhooks.js';

/**
 * One Redis (`REDIS_URL`), a Redis Cluster (`REDIS_CLUSTER_URLS`: seed nodes, the rest is
 * discovered) or a master found through Sentinels (`REDIS_SENTINELS`, `REDIS_SENTINEL_MASTER`).
 * `password` (REDIS_PASSWORD) is for the data nodes a client discovers by itself.
 */
export type RedisTopology =
  | { kind: 'single'; url: string }
  | { kind: 'cluster'; urls: string[]; password: string | null }
  | { kind: 'sentinel'; sentinels: { host: string; port: number }[]; masterName: string; password: string | null };

/** Where and what webhooks go (DESIGN §8.3); null in AppConfig: webhooks off. */
export interface WebhookConfig {
  urls: string[];
  /** `whsec_<base64>`, validated. */
  secret: string;
  events: WebhookEventType[];
  maxAttempts: number;
}

/** The parsed configuration every module receives; built only by `loadConfig`. */
export interface AppConfig {
  env: 'development' | 'production' | 'test';
  production: boolean;
  /** Identifies this process in logs, metrics and (cluster mode) Redis keys. */
  nodeId: string;
  port: number;
  host: string;
  socketPath: string;
  /** Allowed browser origins; null means same-origin plus localhost outside production. */
  corsOrigins: string[] | null;
  trustProxy: boolean | number | string;
  dataDir: string;
  mongodbUri: string | null;
  /** Where the shared state lives; null: embedded mode (no Redis). */
  redis: RedisTopology | null;
  socketAdapter: 'streams' | 'pubsub';
  /** Replicas that must hold a chat message before its ack (WAIT); 0: the master's AOF alone. */
  redisMinReplicasAck: number;
  jwtSecret: string | null;
  tokenTtlSeconds: number;
  allowGuests: boolean;
  adminToken: string | null;
  stunUrls: string[];
  turnUrls: string[];
  turnSecret: string | null;
  turnTtlSeconds: number;
  queueMaxAttempts: number;
  /** Queue length past which new sends get UNAVAILABLE (back-pressure). */
  queueHighWater: number;
  /** Streams the persistence queue is split into; fixed for the life of the Redis data. */
  queuePartitions: number;
  /** A member that acks (chat:ack) and falls behind this long gets the messages again. */
  deliveryAckTimeoutMs: number;
  /** Resends before such a member is told to resync from history (chat:resync). */
  deliveryMaxAttempts: number;
  /** Queue entries held this long by a silent consumer (a dead node) are claimed by another. */
  queueClaimIdleMs: number;
  recoveryWindowMs: number;
  /** How long a knock waits in a room's lobby before `call:denied {reason:"timeout"}`. */
  lobbyTimeoutMs: number;
  maxPayloadBytes: number;
  maxMessageLength: number;
  maxCallParticipants: number;
  rateLimits: {
    messagesPer10s: number;
    eventsPerSecond: number;
    httpPerMinute: number;
    /** Socket.IO namespace handshakes per client address per 10 s (handshake storms). */
    handshakesPer10s: number;
    connectionsPerUser: number;
    connectionsPerIp: number;
  };
  pingIntervalMs: number;
  pingTimeoutMs: number;
  shutdownTimeoutMs: number;
  /** Null without WEBHOOK_URLS: webhooks off, at no cost. */
  webhooks: WebhookConfig | null;
  logLevel: 'error' | 'warn' | 'info' | 'http' | 'verbose' | 'debug' | 'silent';
  /** Directory for the log file; null writes to the console only. */
  logDir: string | null;
}
