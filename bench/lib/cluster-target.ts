import { mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import type { WindowMeter } from '../rigs/load-window.js';
import { BenchRedis } from './redis.js';
import type { BenchContext } from './scenario.js';
import type { ServerKind, ServerProc } from './server-proc.js';

/** Nodes of one server on a Redis of their own: what a cluster run measures. */
export interface ClusterTarget {
  nodes: ServerProc[];
  redis: BenchRedis;
}

/** Redis's commands and CPU over a load window. */
export function redisMeter(redis: BenchRedis): WindowMeter {
  return {
    name: 'redis',
    async begin() {
      const cpuAtStart = await redis.windowStart();
      return () => redis.windowEnd(cpuAtStart);
    },
  };
}

/**
 * Starts `nodeCount` nodes of each server, each server on its own redis-server with AOF and
 * `appendfsync always` (so Redis's figures are each server's alone), runs `fn`, and stops
 * everything. Nothing is pinned: two nodes, Redis and the generator share the cores.
 * Our nodes share one data directory, the store of the cluster.
 */
export async function withClusters(
  ctx: BenchContext,
  nodeCount: number,
  fn: (clusters: Record<ServerKind, ClusterTarget>) => Promise<void>,
  profileAs?: string,
): Promise<void> {
  const oursData = mkdtempSync(join(tmpdir(), 'vcs-bench-cluster-'));
  const redises: BenchRedis[] = [];
  const nodes: ServerProc[] = [];
  const cluster = async (kind: ServerKind): Promise<ClusterTarget> => {
    const redis = new BenchRedis({ aof: true });
    redises.push(redis);
    await redis.start();
    const own: ServerProc[] = [];
    for (let i = 0; i < nodeCount; i++) {
      const cpuProfDir = profileAs && ctx.profiler && i === 0 ? ctx.profiler.dirFor(profileAs, kind) : undefined;
      const node = await ctx.fleet.start({
        kind,
        cpu: null,
        redisUrl: redis.url,
        nodeId: `${kind}-${String.fromCharCode(97 + i)}`,
        ...(kind === 'ours' ? { dataDir: oursData } : {}),
        ...(cpuProfDir ? { cpuProfDir } : {}),
      });
      nodes.push(node);
      own.push(node);
    }
    return { nodes: own, redis };
  };
  try {
    await fn({ bare: await cluster('bare'), ours: await cluster('ours') });
  } finally {
    await Promise.all(nodes.map((n) => n.stop()));
    await Promise.all(redises.map((r) => r.stop()));
    rmSync(oursData, { recursive: true, force: true });
  }
}
