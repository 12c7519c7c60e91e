import { rmSync } from 'node:fs';
import { hasRedisServer, TestRedis } from './redis-server.js';
import type { AppOverrides } from '../../src/app.js';
import { eventually } from './socket-client.js';
import { queueFigures } from './queue-figures.js';
import { startServer, tempDir, type TestServer } from './test-server.js';

/**
 * Declares a suite that needs a real redis-server. Without one it prints why it is skipped
 * and how to get it (CI installs it, so there the suite always runs).
 */
export function describeWithRedis(title: string, body: (this: Mocha.Suite) => void): void {
  if (hasRedisServer()) describe(title, body);
  else
    describe(title, () => {
      it('is skipped: redis-server is not installed (apt-get install redis-server; .ci/run does this)');
    });
}

export interface TestCluster {
  redis: TestRedis;
  nodes: TestServer[];
  dataDir: string;
  /** Starts one more node on the same Redis and data directory. */
  addNode(env?: Record<string, string>, overrides?: AppOverrides): Promise<TestServer>;
  stop(): Promise<void>;
}

/** N nodes in this process, one Redis, one shared SQLite data directory. */
export async function startCluster(n: number, env: Record<string, string> = {}, redisOptions: { aof?: boolean } = {}): Promise<TestCluster> {
  const redis = new TestRedis(redisOptions);
  await redis.start();
  const dataDir = tempDir('vcs-cluster-');
  const nodes: TestServer[] = [];
  const addNode = async (extra: Record<string, string> = {}, overrides?: AppOverrides) => {
    const node = await startServer({ REDIS_URL: redis.url, NODE_ID: `node-${nodes.length + 1}`, ...env, ...extra }, { dataDir, overrides });
    nodes.push(node);
    return node;
  };
  for (let i = 0; i < n; i++) await addNode();
  return {
    redis,
    nodes,
    dataDir,
    addNode,
    stop: async () => {
      await Promise.all(nodes.map((node) => node.stop().catch(() => undefined)));
      await redis.stop();
      rmSync(dataDir, { recursive: true, force: true });
    },
  };
}

/** Resolves once the cluster's persistence queue is empty (every entry stored and deleted). */
export async function queueDrained(cluster: TestCluster, timeoutMs = 20_000): Promise<void> {
  await eventually(async () => (await queueFigures(cluster.redis.url)).depth === 0, timeoutMs, 'the queue drained into the store');
}
