import { execFile } from 'node:child_process';
import { promisify } from 'node:util';
import { createCluster } from 'redis';
import type { RedisClient, RedisClusterClient } from '../../src/infra/redis/redis-client.js';
import { TestRedis } from './redis-server.js';
import { keySlot } from './redis-slot.js';
import { eventually } from './socket-client.js';

const run = promisify(execFile);

/**
 * A real Redis Cluster of three masters (no replicas) on free loopback ports, each in its
 * own temporary directory: what proves that every step of ours is one slot, since a cluster
 * refuses a command, script or MULTI whose keys are in two (CROSSSLOT), even on one shard.
 */
export class TestRedisCluster {
  readonly masters = [0, 1, 2].map(() => new TestRedis({ cluster: true }));

  async start(): Promise<void> {
    await Promise.all(this.masters.map((m) => m.start()));
    const addrs = this.masters.map((m) => `127.0.0.1:${m.port}`);
    await run('redis-cli', ['--cluster', 'create', ...addrs, '--cluster-replicas', '0', '--cluster-yes']);
    // Every master must agree that all slots are served before a client maps them.
    for (const m of this.masters) {
      await eventually(async () => /cluster_state:ok/.test((await run('redis-cli', ['-p', String(m.port), 'cluster', 'info'])).stdout), 10_000, 'cluster_state:ok');
    }
  }

  async stop(): Promise<void> {
    await Promise.all(this.masters.map((m) => m.stop()));
  }

  /** The master serving `key`'s slot (from CLUSTER NODES, as the masters agree on it). */
  async masterOf(key: string): Promise<TestRedis> {
    const slot = keySlot(key);
    const owner = (await clusterMasters(this.masters[0]!.port)).find((m) => m.slots.some(([from, to]) => slot >= from && slot <= to));
    if (!owner) throw new Error(`no master serves slot ${slot} (key ${key})`);
    return this.masters.find((m) => m.port === owner.port)!;
  }

  /** A cluster client that knows every master; it follows MOVED and ASK by itself. */
  async connect(): Promise<RedisClusterClient> {
    const client = createCluster({ rootNodes: this.masters.map((m) => ({ url: m.url })) });
    client.on('error', () => {});
    await client.connect();
    return client;
  }
}

/** Each master's id, port and slot ranges, from CLUSTER NODES as the master on `port` sees it. */
export async function clusterMasters(port: number): Promise<{ id: string; port: number; slots: [number, number][] }[]> {
  const { stdout } = await run('redis-cli', ['-p', String(port), 'cluster', 'nodes']);
  return stdout
    .trim()
    .split('\n')
    .map((line) => line.split(' '))
    .filter((f) => f[2]!.includes('master'))
    .map((f) => ({
      id: f[0]!,
      port: Number(/:(\d+)@/.exec(f[1]!)![1]),
      // A range is "from-to", a single slot "n".
      slots: f.slice(8).filter((r) => /^\d/.test(r)).map((r) => { const [from, to] = r.split('-').map(Number); return [from!, to ?? from!] as [number, number]; }),
    }));
}

/**
 * The cluster client as the single-node client type our Redis classes take: the commands
 * they use have the same arguments on both, and LuaScript routes its scripts by their first
 * key. For the contract suites that run those classes on a cluster.
 */
export const clusterAsClient = (cluster: RedisClusterClient): RedisClient => cluster as unknown as RedisClient;

/** A cluster for the calling suite, emptied on every master before each test. */
export function useRedisCluster(): { readonly client: RedisClusterClient } {
  const cluster = new TestRedisCluster();
  let client: RedisClusterClient | null = null;
  before(async function () {
    this.timeout(30_000);
    await cluster.start();
    client = await cluster.connect();
  });
  beforeEach(async () => {
    await Promise.all(client!.masters.map(async (m) => (await client!.nodeClient(m)).flushAll()));
  });
  after(async () => {
    client?.destroy();
    await cluster.stop();
  });
  return {
    get client() {
      if (!client) throw new Error('useRedisCluster: the client exists once the suite has started');
      return client;
    },
  };
}
