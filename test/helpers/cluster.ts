import { rmSync } from 'node:fs';
import { hasRedisServer, TestRedis } from './redis-server.js';
import type { AppOverrides } from '../../src/app.js';
import { eventually } from './socket-client.js';
import { queueFigures } from './queue-figures.js';
import { redisTopology, singleTopology, type TestRedisTopology, type TopologyKind } from './redis-topology.js';
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
  /** The one redis-server of a `single` topology (faults are injected on it). */
  redis: TestRedis;
  /** The Redis deployment the nodes share. */
  topology: TestRedisTopology;
  nodes: TestServer[];
  dataDir: string;
  /** Starts one more node on the same Redis and data directory. */
  addNode(env?: Record<string, string>, overrides?: AppOverrides): Promise<TestServer>;
  stop(): Promise<void>;
}

/**
 * N nodes in this process, one Redis deployment (one server unless `topology` says a Redis
 * Cluster or Sentinels, or is a deployment the caller made, not yet started, to inject
 * faults into), one shared SQLite data directory.
 */
export async function startCluster(n: number, env: Record<string, string> = {}, redisOptions: { aof?: boolean; topology?: TopologyKind | TestRedisTopology } = {}): Promise<TestCluster> {
  const given = typeof redisOptions.topology === 'object' ? redisOptions.topology : null;
  const kind = given?.kind ?? (redisOptions.topology as TopologyKind | undefined) ?? 'single';
  const single = kind === 'single' && !given ? new TestRedis({ aof: redisOptions.aof ?? false }) : null;
  const topology = given ?? (single ? singleTopology(single) : redisTopology(kind));
  await topology.start().catch(async (err: unknown) => {
    await topology.stop();
    throw err;
  });
  const dataDir = tempDir('vcs-cluster-');
  const nodes: TestServer[] = [];
  const addNode = async (extra: Record<string, string> = {}, overrides?: AppOverrides) => {
    const node = await startServer({ ...topology.env, NODE_ID: `node-${nodes.length + 1}`, ...env, ...extra }, { dataDir, overrides });
    nodes.push(node);
    return node;
  };
  try {
    for (let i = 0; i < n; i++) await addNode();
  } catch (err) {
    // Nothing a failed start made may outlive it: the nodes started so far, Redis, the data.
    await Promise.all(nodes.map((node) => node.stop().catch(() => undefined)));
    await topology.stop();
    rmSync(dataDir, { recursive: true, force: true });
    throw err;
  }
  return {
    get redis() {
      if (!single) throw new Error(`cluster.redis: this cluster runs on a ${kind} topology; use cluster.topology`);
      return single;
    },
    topology,
    nodes,
    dataDir,
    addNode,
    stop: async () => {
      await Promise.all(nodes.map((node) => node.stop().catch(() => undefined)));
      await topology.stop();
      rmSync(dataDir, { recursive: true, force: true });
    },
  };
}

/** Resolves once the cluster's persistence queue is empty (every entry stored and deleted). */
export async function queueDrained(cluster: TestCluster, timeoutMs = 20_000): Promise<void> {
  await eventually(async () => (await queueFigures(cluster.topology.target)).depth === 0, timeoutMs, 'the queue drained into the store');
}
