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

class SingleTopology implements TestRedisTopology {
  readonly kind = 'single';
  constructor(readonly server = new TestRedis()) {}
  get env() {
    return { REDIS_URL: this.server.url };
  }
  get target() {
    return targetOf(this.env);
  }
  start = () => this.server.start();
  stop = () => this.server.stop();
  connect = (name: string) => connectRedis(this.target, silentLogger, name);
  async flush() {
    const c = await this.connect('flush');
    await c.flushAll().finally(() => c.destroy());
  }
}

class ClusterTopology implements TestRedisTopology {
  readonly kind = 'cluster';
  constructor(readonly cluster = new TestRedisCluster()) {}
  get env() {
    return { REDIS_CLUSTER_URLS: this.cluster.masters.map((m) => `127.0.0.1:${m.port}`).join(',') };
  }
  get target() {
    return targetOf(this.env);
  }
  start = () => this.cluster.start();
  stop = () => this.cluster.stop();
  connect = (name: string) => connectRedis(this.target, silentLogger, name);
  async flush() {
    const c = await this.cluster.connect();
    await Promise.all(c.masters.map(async (m) => (await c.nodeClient(m)).flushAll())).finally(() => c.destroy());
  }
}

class SentinelTopology implements TestRedisTopology {
  readonly kind = 'sentinel';
  constructor(readonly sentinel = new TestRedisSentinel()) {}
  get env() {
    return this.sentinel.env;
  }
  get target() {
    return targetOf(this.env);
  }
  start = () => this.sentinel.start();
  stop = () => this.sentinel.stop();
  connect = (name: string) => connectRedis(this.target, silentLogger, name);
  async flush() {
    const master = await this.sentinel.master();
    await this.sentinel.ask(master.port, (c) => c.flushAll());
  }
}

/** A single-server topology around that (not yet started) server. */
export const singleTopology = (server: TestRedis): TestRedisTopology => new SingleTopology(server);

/** A Sentinel topology around that (not yet started) deployment. */
export const sentinelTopology = (sentinel: TestRedisSentinel): TestRedisTopology => new SentinelTopology(sentinel);

/** A topology of that kind, not yet started. */
export function redisTopology(kind: TopologyKind): TestRedisTopology {
  if (kind === 'single') return new SingleTopology();
  if (kind === 'cluster') return new ClusterTopology();
  return new SentinelTopology();
}
