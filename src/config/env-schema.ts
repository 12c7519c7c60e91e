import { z } from 'zod';
import { WEBHOOK_EVENT_TYPES } from '../ports/webhooks.js';

/**
 * The one schema for the environment. It is the only home of defaults; everything else
 * receives the parsed `AppConfig`.
 */

const int = (min: number, max: number) =>
  z
    .string()
    .regex(/^\d+$/, `expected a whole number from ${min} to ${max}`)
    .transform(Number)
    .pipe(z.number().int().min(min, `expected at least ${min}`).max(max, `expected at most ${max}`));

const bool = z
  .enum(['true', 'false', '1', '0', 'yes', 'no'], { message: 'expected true or false' })
  .transform((v) => v === 'true' || v === '1' || v === 'yes');

const list = z.string().transform((v) =>
  v
    .split(',')
    .map((s) => s.trim())
    .filter(Boolean),
);

const url = (protocols: string[]) =>
  z.string().refine((v) => {
    try {
      return protocols.includes(new URL(v).protocol);
    } catch {
      return false;
    }
  }, `expected a URL starting with ${protocols.map((p) => p + '//').join(' or ')}`);

/** `host:port`: a port from 1 to 65535 after the last colon (an IPv6 host in brackets). */
const hostPort = /^(\[[0-9a-fA-F:]+\]|[A-Za-z0-9.-]+):(\d{1,5})$/;
const isHostPort = (v: string) => hostPort.test(v) && Number(hostPort.exec(v)![2]) >= 1 && Number(hostPort.exec(v)![2]) <= 65535;

/** Comma-separated `host:port` entries (at least one); with `urls`, `redis://…` URLs also. */
const hostPorts = (urls: boolean) =>
  list.pipe(
    z
      .array(
        z.string().refine(
          (v) => isHostPort(v) || (urls && /^rediss?:\/\/./.test(v) && URL.canParse(v) && new URL(v).port !== ''),
          urls ? 'expected host:port or a redis:// URL with a port' : 'expected host:port',
        ),
      )
      .min(1, 'expected at least one host:port'),
  );

/**
 * A MongoDB connection string: `mongodb://[user:pass@]host[:port][,host[:port]…][/db][?options]`
 * or `mongodb+srv://…`. A replica set's list of hosts is not a URL host, so each host is
 * checked on its own and the rest as a URL with the first host.
 */
function isMongoUri(v: string): boolean {
  const parts = /^(mongodb(?:\+srv)?:\/\/)([^/?#]*)(.*)$/.exec(v);
  if (!parts) return false;
  const [, scheme = '', authority = '', tail = ''] = parts;
  const at = authority.lastIndexOf('@');
  const hosts = authority.slice(at + 1).split(',');
  try {
    return hosts.every((h) => new URL(scheme + h).host !== '') && new URL(scheme + authority.slice(0, at + 1) + hosts[0] + tail).host !== '';
  } catch {
    return false;
  }
}

/**
 * A Standard Webhooks secret: `whsec_` and the base64 of 24 to 64 random bytes (what the
 * spec advises, and what `standardwebhooks` and Svix-made secrets look like).
 */
function isWebhookSecret(v: string): boolean {
  const match = /^whsec_([A-Za-z0-9+/]+={0,2})$/.exec(v);
  if (!match || match[1]!.length % 4 !== 0) return false;
  const bytes = Buffer.from(match[1]!, 'base64').length;
  return bytes >= 24 && bytes <= 64;
}

export const EnvSchema = z.object({
  NODE_ENV: z.enum(['development', 'production', 'test']).default('development'),
  NODE_ID: z.string().regex(/^[A-Za-z0-9_.-]{1,64}$/, 'expected 1–64 letters, digits, _ . -').optional(),
  PORT: int(0, 65535).default(3001),
  HOST: z.string().min(1).default('0.0.0.0'),
  SOCKET_PATH: z.string().regex(/^\/[A-Za-z0-9/_-]*$/, 'expected a path such as /ws').default('/ws'),
  CORS_ORIGINS: list.optional(),
  TRUST_PROXY: z.string().optional(),
  DATA_DIR: z.string().min(1).default('./data'),
  MONGODB_URI: z.string().refine(isMongoUri, 'expected a MongoDB connection string starting with mongodb:// or mongodb+srv://').optional(),
  REDIS_URL: url(['redis:', 'rediss:']).optional(),
  REDIS_HOST: z.string().min(1).optional(),
  REDIS_PORT: int(1, 65535).default(6379),
  REDIS_PASSWORD: z.string().optional(),
  REDIS_CLUSTER_URLS: hostPorts(true).optional(),
  REDIS_SENTINELS: hostPorts(false).optional(),
  REDIS_SENTINEL_MASTER: z.string().regex(/^[A-Za-z0-9_.-]{1,64}$/, 'expected the master name of the Sentinel configuration (letters, digits, _ . -)').optional(),
  REDIS_MIN_REPLICAS_ACK: int(0, 16).default(0),
  SOCKET_ADAPTER: z.enum(['streams', 'pubsub']).default('streams'),
  JWT_SECRET: z.string().min(32, 'expected at least 32 characters').optional(),
  TOKEN_TTL_SECONDS: int(60, 30 * 24 * 3600).default(24 * 3600),
  ALLOW_GUESTS: bool.optional(),
  ADMIN_TOKEN: z.string().min(16, 'expected at least 16 characters').optional(),
  STUN_URLS: list.default(['stun:stun.l.google.com:19302']),
  TURN_URLS: list.default([]),
  TURN_SECRET: z.string().min(16, 'expected at least 16 characters').optional(),
  TURN_TTL_SECONDS: int(60, 7 * 24 * 3600).default(14400),
  QUEUE_MAX_ATTEMPTS: int(1, 100).default(5),
  DELIVERY_ACK_TIMEOUT_MS: int(100, 600_000).default(10_000),
  DELIVERY_MAX_ATTEMPTS: int(1, 100).default(3),
  QUEUE_CLAIM_IDLE_MS: int(100, 3_600_000).default(10_000),
  QUEUE_HIGH_WATER: int(100, 100_000_000).default(100_000),
  QUEUE_PARTITIONS: int(1, 1024).default(16),
  RECOVERY_WINDOW_MS: int(0, 24 * 3600 * 1000).default(120000),
  LOBBY_TIMEOUT_MS: int(1000, 24 * 3600 * 1000).default(300000),
  MAX_PAYLOAD_BYTES: int(1024, 16 * 1024 * 1024).default(65536),
  MAX_MESSAGE_LENGTH: int(1, 100000).default(4000),
  MAX_CALL_PARTICIPANTS: int(2, 64).default(8),
  RATE_LIMIT_MESSAGES: int(1, 100000).default(30),
  RATE_LIMIT_EVENTS: int(1, 100000).default(50),
  RATE_LIMIT_HTTP: int(1, 1000000).default(300),
  RATE_LIMIT_HANDSHAKES: int(1, 1000000).default(60),
  MAX_CONNECTIONS_PER_USER: int(1, 100000).default(20),
  MAX_CONNECTIONS_PER_IP: int(1, 1000000).default(500),
  PING_INTERVAL_MS: int(1000, 600000).default(25000),
  PING_TIMEOUT_MS: int(1000, 600000).default(20000),
  SHUTDOWN_TIMEOUT_MS: int(100, 120000).default(10000),
  WEBHOOK_URLS: list.pipe(z.array(url(['http:', 'https:']))).optional(),
  WEBHOOK_SECRET: z.string().refine(isWebhookSecret, 'expected whsec_ followed by the base64 of 24 to 64 random bytes (e.g. whsec_$(openssl rand -base64 32))').optional(),
  WEBHOOK_EVENTS: list
    .pipe(z.array(z.enum(WEBHOOK_EVENT_TYPES, { error: (issue) => `unknown event type ${JSON.stringify(issue.input)}; expected a comma-separated list of ${WEBHOOK_EVENT_TYPES.join(', ')}` })).min(1, 'expected at least one event type'))
    .optional(),
  WEBHOOK_MAX_ATTEMPTS: int(1, 100).default(8),
  LOG_LEVEL: z.enum(['error', 'warn', 'info', 'http', 'verbose', 'debug', 'silent']).optional(),
  LOG_DIR: z.string().default('./logs'),
});

export type Env = z.infer<typeof EnvSchema>;
