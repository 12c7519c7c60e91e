import { createClient, createCluster, createSentinel, type RedisClusterType } from 'redis';
import type { RedisTopology } from '../../config/app-config.js';
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

/**
 * Sends a raw command (a script, WAIT, …) on any of the three client kinds, whose
 * `sendCommand` differ: a cluster client is told the key that routes the command to its
 * slot's master, a Sentinel client whether the command is read-only (ours never are: they go
 * to the master), a single client neither.
 */
export function sendRaw(client: RedisClient | RedisClusterClient, routingKey: string | undefined, args: string[]): Promise<unknown> {
  if ('getSlotMaster' in client) return (client as RedisClusterClient).sendCommand(routingKey, false, args);
  if ('getMasterNode' in client) return (client as unknown as SentinelSend).sendCommand(false, args);
  return (client as RedisClient).sendCommand(args);
}

type SentinelSend = { sendCommand(isReadonly: boolean, args: string[]): Promise<unknown> };

/** How long a connection may stay silent (with a PING every second) before it is dropped. */
export const REDIS_SILENCE_MS = 5000;

/** The reconnect backoff of every connection: capped and jittered, so nodes do not reconnect in step. */
const reconnectStrategy = (retries: number) => Math.min(50 * 2 ** retries, 2000) + Math.floor(Math.random() * 100);

/** The client settings every Redis connection of ours needs, whatever the topology. */
function clientOptions(name: string, options: RedisClientOptions) {
  return {
    name: `vcs-${name}`,
    disableOfflineQueue: !options.offlineQueue,
    commandsQueueMaxLength: 10_000,
    ...(options.socketDeadline ? { commandOptions: { timeout: 0 }, pingInterval: 1000 } : {}),
    socket: {
      connectTimeout: 3000,
      ...(options.socketDeadline ? { socketTimeout: REDIS_SILENCE_MS } : {}),
      reconnectStrategy,
    },
  };
}

/** Where a client connects, for logs and errors (never with credentials). */
export function describeRedis(target: RedisTopology | string): string {
  const t = typeof target === 'string' ? ({ kind: 'single', url: target } as const) : target;
  if (t.kind === 'single') return new URL(t.url).host;
  if (t.kind === 'cluster') return `cluster ${t.urls.map((u) => new URL(u).host).join(',')}`;
  return `sentinel master "${t.masterName}" via ${t.sentinels.map((s) => `${s.host}:${s.port}`).join(',')}`;
}

/**
 * A node-redis client with the settings every Redis connection of ours needs: reconnect
 * with capped, jittered backoff; by default no offline queue (a command while disconnected
 * fails at once, so nothing waits unboundedly and nothing is acked that Redis did not
 * take); every error logged, never unhandled.
 *
 * On a Redis Cluster it is a cluster client (each command goes to its key's master, MOVED
 * and ASK followed, the slot map refreshed on a failover or resharding); through Sentinels
 * it follows the master they name. Both are returned as the single-node client type our
 * Redis classes take: the commands they use take the same arguments on all three, raw
 * commands go through `sendRaw`, and the cluster contract and node-failure suites run on
 * each topology (test/cluster/cluster-chat.test.ts, node-failure.test.ts).
 *
 * One difference a caller must know: a Sentinel client does not fail a command while its
 * master is unreachable; it waits for the Sentinels to name a master (up to ~16 s) and sends
 * it there. So every request path bounds its Redis calls itself (the Redis breaker's
 * deadline), and a step that must not be repeated elsewhere checks for a master change
 * (ReplicaAcks). The adapters' `serverCount()` (PUBSUB NUMSUB through the client's
 * `sendCommand`) does not work on a Sentinel client: we make no cluster request that needs it
 * (fetchSockets, serverSideEmit, broadcasts with acks).
 */
export async function connectRedis(target: RedisTopology | string, logger: Logger, name: string, options: RedisClientOptions = {}): Promise<RedisClient> {
  const topology = typeof target === 'string' ? ({ kind: 'single', url: target } as const) : target;
  const client = createTopologyClient(topology, name, options);
  let down = false;
  const failed = (err: Error) => {
    if (!down) logger.warn('redis connection error', { client: name, err: String(err?.message ?? err) });
    down = true;
  };
  client.on('error', failed);
  const restored = () => {
    if (down) logger.info('redis connection restored', { client: name });
    down = false;
  };
  client.on('ready', restored);
  client.on('node-ready', restored);
  client.on('topology-change', (event: { type: string }) => {
    if (event.type === 'MASTER_CHANGE') logger.warn('redis master changed (Sentinel failover)', { client: name });
    restored();
  });
  try {
    await client.connect();
  } catch (err) {
    client.destroy();
    throw new Error(`Redis refused at ${describeRedis(topology)} — is redis-server running? (${(err as Error).message})`, { cause: err });
  }
  return client;
}

function createTopologyClient(topology: RedisTopology, name: string, options: RedisClientOptions): RedisClient {
  const settings = clientOptions(name, options);
  if (topology.kind === 'single') return createClient({ url: topology.url, ...settings });
  if (topology.kind === 'cluster') {
    const cluster = createCluster({
      rootNodes: topology.urls.map((url) => ({ url })),
      defaults: { ...settings, ...(topology.password ? { password: topology.password } : {}) },
      // A slot map goes stale in a failover or resharding: a MOVED reply refreshes it.
      maxCommandRedirections: 16,
    });
    return cluster as unknown as RedisClient;
  }
  const { commandOptions, ...nodeSettings } = settings as typeof settings & { commandOptions?: { timeout: number } };
  const sentinel = createSentinel({
    name: topology.masterName,
    sentinelRootNodes: topology.sentinels,
    nodeClientOptions: { ...nodeSettings, ...(topology.password ? { password: topology.password } : {}) },
    // The connection to a Sentinel is silent between events: no socket deadline there.
    sentinelClientOptions: { socket: { connectTimeout: settings.socket.connectTimeout, reconnectStrategy } },
    // The Sentinel client passes its own command options (a 5 s timeout by default) with
    // every command, over the node client's: socketDeadline's "no per-command timer" goes here.
    ...(commandOptions ? { commandOptions } : {}),
    // One master connection held for good. With the default lease, commands issued in one
    // tick while none is in flight wait for the in-flight count to drop back to zero, which
    // under steady load may not happen for long, while later commands overtake them.
    reserveClient: true,
    // Its connections' errors as 'error' events (otherwise kept on an internal emitter): logged
    // like any Redis connection error, and what tells ReplicaAcks that a connection changed.
    passthroughClientErrorEvents: true,
  });
  return sentinel as unknown as RedisClient;
}
