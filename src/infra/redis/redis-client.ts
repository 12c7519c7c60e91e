import { createClient, type RedisClusterType } from 'redis';
import type { Logger } from '../../ports/logger.js';

export type RedisClient = ReturnType<typeof createClient>;
/** A Redis Cluster client (routes each command by its key's slot). */
export type RedisClusterClient = RedisClusterType;

export interface RedisClientOptions {
  /**
   * Keep commands issued while disconnected (bounded) instead of failing them at once.
   * Only for the Socket.IO adapter: its read loop retries immediately on failure, which
   * without an offline queue would spin while Redis is down.
   */
  offlineQueue?: boolean;
  /**
   * Bound a silent connection by the socket instead of by each command: no per-command
   * timer (node-redis arms an AbortSignal.timeout for every command by default, measured at
   * ~10 % of a cluster node's CPU under chat load), a PING every second, and the socket
   * dropped after 5 s without a byte (every pending command then fails, as a command
   * timeout would have). Only for a client that never blocks (no XREAD BLOCK): a blocking
   * read would be taken for a dead connection.
   */
  socketDeadline?: boolean;
}

/** How long a connection may stay silent (with a PING every second) before it is dropped. */
export const REDIS_SILENCE_MS = 5000;

/**
 * A node-redis client with the settings every Redis connection of ours needs: reconnect
 * with capped, jittered backoff; by default no offline queue (a command while disconnected
 * fails at once, so nothing waits unboundedly and nothing is acked that Redis did not
 * take); every error logged, never unhandled.
 */
export async function connectRedis(url: string, logger: Logger, name: string, options: RedisClientOptions = {}): Promise<RedisClient> {
  const client: RedisClient = createClient({
    url,
    name: `vcs-${name}`,
    disableOfflineQueue: !options.offlineQueue,
    commandsQueueMaxLength: 10_000,
    ...(options.socketDeadline ? { commandOptions: { timeout: 0 }, pingInterval: 1000 } : {}),
    socket: {
      connectTimeout: 3000,
      ...(options.socketDeadline ? { socketTimeout: REDIS_SILENCE_MS } : {}),
      reconnectStrategy: (retries) => Math.min(50 * 2 ** retries, 2000) + Math.floor(Math.random() * 100),
    },
  });
  let down = false;
  client.on('error', (err: Error) => {
    if (!down) logger.warn('redis connection error', { client: name, err: err.message });
    down = true;
  });
  client.on('ready', () => {
    if (down) logger.info('redis connection restored', { client: name });
    down = false;
  });
  try {
    await client.connect();
  } catch (err) {
    const where = new URL(url).host;
    await client.destroy();
    throw new Error(`Redis refused at ${where} — is redis-server running? (${(err as Error).message})`, { cause: err });
  }
  return client;
}
