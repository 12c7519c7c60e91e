import { loadConfig } from '../../src/config/load-config.js';
import type { RedisTopology } from '../../src/config/app-config.js';
import { connectRedis, type RedisClient } from '../../src/infra/redis/redis-client.js';
import { TestRedisCluster } from './redis-cluster.js';
import { TestRedisSentinel } from './redis-sentinel.js';
import { TestRedis } from './redis-server.js';
import { silentLogger } from './silent-logger.js';

/** The three ways a deployment runs Redis: the cluster contract and node-failure suites run on each. */
export type TopologyKind = 'single' | 'cluster' | 'sentinel';

/**
 * A real Redis deployment of one kind, started on free loopback ports: what a node is told
 * to connect to (`env`, the same variables an operator sets) and a client of ours on it.
 */
export interface TestRedisTopology {
  readonly kind: TopologyKind;
  /** REDIS_URL, REDIS_CLUSTER_URLS, or REDIS_SENTINELS with REDIS_SENTINEL_MASTER. */
  readonly env: Record<string, string>;
  /** The same, as the server's configuration reads it. */
  readonly target: RedisTopology;
  start(): Promise<void>;
  stop(): Promise<void>;
  /** A client with the server's own settings (connectRedis); the caller closes it. */
  connect(name: string): Promise<RedisClient>;
  /** Empties every master. */
  flush(): Promise<void>;
}

/** The configuration a node reads from `env`. */
export const targetOf = (env: Record<string, string>): RedisTopology => loadConfig(env).redis!;

/** What a test starts and stops: one server, a Redis Cluster, or a Sentinel deployment. */
interface Deployment {
  start(): Promise<void>;
  stop(): Promise<void>;
}

/** A deployment, the variables that point a node at it, and how to empty it. */
class Topology<D extends Deployment> implements TestRedisTopology {
  constructor(
    readonly kind: TopologyKind,
    readonly deployment: D,
    private readonly envOf: (deployment: D) => Record<string, string>,
    private readonly empty: (deployment: D, topology: Topology<D>) => Promise<void>,
  ) {}
  get env() {
    return this.envOf(this.deployment);
  }
  get target() {
    return targetOf(this.env);
  }
  start = () => this.deployment.start();
  stop = () => this.deployment.stop();
  connect = (name: string) => connectRedis(this.target, silentLogger, name);
  flush = () => this.empty(this.deployment, this);
}

/** A single-server topology around that (not yet started) server. */
export const singleTopology = (server = new TestRedis()): TestRedisTopology =>
  new Topology('single', server, (s) => ({ REDIS_URL: s.url }), async (_, t) => {
    const c = await t.connect('flush');
    await c.flushAll().finally(() => c.destroy());
  });

/** A Redis Cluster topology around that (not yet started) cluster, whose masters a test may freeze. */
export const clusterTopology = (cluster = new TestRedisCluster()): TestRedisTopology =>
  new Topology('cluster', cluster, (c) => ({ REDIS_CLUSTER_URLS: c.masters.map((m) => `127.0.0.1:${m.port}`).join(',') }), async (cluster) => {
    const c = await cluster.connect();
    await Promise.all(c.masters.map(async (m) => (await c.nodeClient(m)).flushAll())).finally(() => c.destroy());
  });

/** A Sentinel topology around that (not yet started) deployment. */
export const sentinelTopology = (sentinel = new TestRedisSentinel()): TestRedisTopology =>
  new Topology('sentinel', sentinel, (s) => s.env, async (sentinel) => {
    const master = await sentinel.master();
    await sentinel.ask(master.port, (c) => c.flushAll());
  });

/** A topology of that kind, not yet started. */
export function redisTopology(kind: TopologyKind): TestRedisTopology {
  if (kind === 'single') return singleTopology();
  if (kind === 'cluster') return clusterTopology();
  return sentinelTopology();
}
