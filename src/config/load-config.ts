import { existsSync } from 'node:fs';
import { hostname } from 'node:os';
import { randomBytes } from 'node:crypto';
import { EnvSchema } from './env-schema.js';
import type { AppConfig, RedisTopology, WebhookConfig } from './app-config.js';
import { WEBHOOK_EVENT_TYPES } from '../ports/webhooks.js';

/** A start-up error that names the variable and what was expected. */
export class ConfigError extends Error {
  constructor(readonly problems: string[]) {
    super(`Invalid configuration:\n  ${problems.join('\n  ')}`);
    this.name = 'ConfigError';
  }
}

/** Reads `.env` into process.env when the file exists; it is never required. */
export function loadDotEnv(path = '.env'): void {
  if (existsSync(path)) process.loadEnvFile(path);
}

type Env = ReturnType<typeof EnvSchema.parse>;

/** At most one way to Redis; a Sentinel deployment needs both its variables. */
function redisTopology(e: Env, problems: string[]): RedisTopology | null {
  const password = e.REDIS_PASSWORD ?? null;
  const single = e.REDIS_URL ?? (e.REDIS_HOST ? `redis://${password ? `:${encodeURIComponent(password)}@` : ''}${e.REDIS_HOST}:${e.REDIS_PORT}` : undefined);
  const chosen = [single && 'REDIS_URL (or REDIS_HOST)', e.REDIS_CLUSTER_URLS && 'REDIS_CLUSTER_URLS', e.REDIS_SENTINELS && 'REDIS_SENTINELS'].filter(Boolean);
  if (chosen.length > 1) problems.push(`${chosen.join(', ')}: set only one of them (one Redis, a Redis Cluster, or Sentinels)`);
  if (e.REDIS_SENTINELS && !e.REDIS_SENTINEL_MASTER) problems.push('REDIS_SENTINEL_MASTER: required with REDIS_SENTINELS (the name the Sentinels monitor the master by)');
  if (e.REDIS_SENTINEL_MASTER && !e.REDIS_SENTINELS) problems.push('REDIS_SENTINELS: required with REDIS_SENTINEL_MASTER (host:port of each Sentinel)');
  if (problems.length) return null;
  if (e.REDIS_CLUSTER_URLS) return { kind: 'cluster', urls: e.REDIS_CLUSTER_URLS.map((v) => (v.includes('://') ? v : `redis://${v}`)), password };
  if (e.REDIS_SENTINELS) {
    const sentinels = e.REDIS_SENTINELS.map((v) => {
      const at = v.lastIndexOf(':');
      return { host: v.slice(0, at).replace(/^\[|\]$/g, ''), port: Number(v.slice(at + 1)) };
    });
    return { kind: 'sentinel', sentinels, masterName: e.REDIS_SENTINEL_MASTER!, password };
  }
  return single ? { kind: 'single', url: single } : null;
}

/** Parses an environment (process.env by default) into the typed configuration. */
export function loadConfig(env: Record<string, string | undefined> = process.env): AppConfig {
  // An empty value (`MONGODB_URI=` copied from .env.example) means "not set".
  const present = Object.fromEntries(Object.entries(env).filter(([, v]) => v !== undefined && v !== ''));
  const parsed = EnvSchema.safeParse(present);
  if (!parsed.success) {
    throw new ConfigError(
      parsed.error.issues.map((issue) => {
        const name = String(issue.path[0] ?? '(environment)');
        const value = present[name];
        // Connection URLs may carry credentials (mongodb://user:password@…): hidden too.
        const secret = /SECRET|TOKEN|PASSWORD|_URI$|_URL$|^WEBHOOK_URLS$/.test(name);
        const shown = secret ? '(hidden)' : JSON.stringify(value);
        return `${name}=${shown}: ${issue.message}`;
      }),
    );
  }
  const e = parsed.data;
  const production = e.NODE_ENV === 'production';
  const problems: string[] = [];
  if (production && !e.JWT_SECRET) problems.push('JWT_SECRET: required when NODE_ENV=production (at least 32 characters)');
  if (e.TURN_URLS.length > 0 && !e.TURN_SECRET) problems.push('TURN_SECRET: required when TURN_URLS is set');
  const redis = redisTopology(e, problems);
  const webhooks = webhookConfig(e, problems);
  if (problems.length) throw new ConfigError(problems);

  return {
    env: e.NODE_ENV,
    production,
    nodeId: e.NODE_ID ?? `${hostname().slice(0, 32)}-${process.pid}-${randomBytes(3).toString('hex')}`,
    port: e.PORT,
    host: e.HOST,
    socketPath: e.SOCKET_PATH,
    corsOrigins: e.CORS_ORIGINS ?? null,
    trustProxy: parseTrustProxy(e.TRUST_PROXY),
    dataDir: e.DATA_DIR,
    mongodbUri: e.MONGODB_URI ?? null,
    redis,
    socketAdapter: e.SOCKET_ADAPTER,
    redisMinReplicasAck: e.REDIS_MIN_REPLICAS_ACK,
    jwtSecret: e.JWT_SECRET ?? null,
    tokenTtlSeconds: e.TOKEN_TTL_SECONDS,
    allowGuests: e.ALLOW_GUESTS ?? !production,
    adminToken: e.ADMIN_TOKEN ?? null,
    stunUrls: e.STUN_URLS,
    turnUrls: e.TURN_URLS,
    turnSecret: e.TURN_SECRET ?? null,
    turnTtlSeconds: e.TURN_TTL_SECONDS,
    queueMaxAttempts: e.QUEUE_MAX_ATTEMPTS,
    queueHighWater: e.QUEUE_HIGH_WATER,
    queuePartitions: e.QUEUE_PARTITIONS,
    deliveryAckTimeoutMs: e.DELIVERY_ACK_TIMEOUT_MS,
    deliveryMaxAttempts: e.DELIVERY_MAX_ATTEMPTS,
    queueClaimIdleMs: e.QUEUE_CLAIM_IDLE_MS,
    recoveryWindowMs: e.RECOVERY_WINDOW_MS,
    lobbyTimeoutMs: e.LOBBY_TIMEOUT_MS,
    maxPayloadBytes: e.MAX_PAYLOAD_BYTES,
    maxMessageLength: e.MAX_MESSAGE_LENGTH,
    maxCallParticipants: e.MAX_CALL_PARTICIPANTS,
    rateLimits: {
      messagesPer10s: e.RATE_LIMIT_MESSAGES,
      eventsPerSecond: e.RATE_LIMIT_EVENTS,
      httpPerMinute: e.RATE_LIMIT_HTTP,
      handshakesPer10s: e.RATE_LIMIT_HANDSHAKES,
      connectionsPerUser: e.MAX_CONNECTIONS_PER_USER,
      connectionsPerIp: e.MAX_CONNECTIONS_PER_IP,
    },
    pingIntervalMs: e.PING_INTERVAL_MS,
    pingTimeoutMs: e.PING_TIMEOUT_MS,
    shutdownTimeoutMs: e.SHUTDOWN_TIMEOUT_MS,
    webhooks,
    logLevel: e.LOG_LEVEL ?? (production ? 'info' : e.NODE_ENV === 'test' ? 'warn' : 'debug'),
    logDir: e.LOG_DIR === 'none' ? null : e.LOG_DIR,
  };
}

/** Webhooks are on with at least one URL, and then need their signing secret. */
function webhookConfig(e: Env, problems: string[]): WebhookConfig | null {
  const urls = [...new Set(e.WEBHOOK_URLS ?? [])];
  if (urls.length === 0) return null;
  if (!e.WEBHOOK_SECRET) {
    problems.push('WEBHOOK_SECRET: required when WEBHOOK_URLS is set (whsec_ followed by the base64 of 24 to 64 random bytes)');
    return null;
  }
  return { urls, secret: e.WEBHOOK_SECRET, events: [...new Set(e.WEBHOOK_EVENTS ?? WEBHOOK_EVENT_TYPES)], maxAttempts: e.WEBHOOK_MAX_ATTEMPTS };
}

/** `TRUST_PROXY` follows Express: a hop count, `true`, or a list of addresses/subnets. */
function parseTrustProxy(value: string | undefined): boolean | number | string {
  if (value === undefined || value === 'false' || value === '0') return false;
  if (value === 'true') return true;
  if (/^\d+$/.test(value)) return Number(value);
  return value;
}
