import { mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { BenchRedis, type SharedRedis } from './redis.js';
import type { BenchContext } from './scenario.js';
import type { ServerKind, ServerProc } from './server-proc.js';

/** Nodes of one server on a Redis of their own: what a cluster run measures. */
export interface ClusterTarget {
  nodes: ServerProc[];
  redis: SharedRedis;
}

/** One side of a two-node run: which server, on which (fresh) Redis, with what settings besides. */
export interface TargetSpec {
  kind: ServerKind;
  redis: () => SharedRedis;
  env?: Record<string, string>;
}

/** The cluster scenario's sides: each server on a redis-server of its own, AOF and `appendfsync always`. */
const EACH_SERVER_ON_ITS_REDIS: Record<ServerKind, TargetSpec> = {
  bare: { kind: 'bare', redis: () => new BenchRedis({ aof: true }) },
  ours: { kind: 'ours', redis: () => new BenchRedis({ aof: true }) },
};

/**
 * Starts, for every side of `specs` in turn, its Redis and `nodeCount` nodes over it, runs
 * `fn`, and stops everything (each Redis's figures are then its side's alone). Nothing is
 * pinned: the nodes, Redis and the generator share the cores. The nodes of one side of ours
 * share one data directory, the store of their cluster.
 */
export async function withTargets<K extends string>(
  ctx: BenchContext,
  nodeCount: number,
  specs: Record<K, TargetSpec>,
  fn: (targets: Record<K, ClusterTarget>) => Promise<void>,
  profileAs?: string,
): Promise<void> {
  const dataDirs: string[] = [];
  const redises: SharedRedis[] = [];
  const nodes: ServerProc[] = [];
  const target = async ({ kind, redis: make, env }: TargetSpec): Promise<ClusterTarget> => {
    const redis = make();
    redises.push(redis);
    await redis.start();
    const connection = redis.connection();
    const dataDir = kind === 'ours' ? mkdtempSync(join(tmpdir(), 'vcs-bench-cluster-')) : undefined;
    if (dataDir) dataDirs.push(dataDir);
    const own: ServerProc[] = [];
    for (let i = 0; i < nodeCount; i++) {
      const cpuProfDir = profileAs && ctx.profiler && i === 0 ? ctx.profiler.dirFor(profileAs, kind) : undefined;
      const node = await ctx.fleet.start({
        kind,
        cpu: null,
        ...connection,
        ...(env ? { env: { ...connection.env, ...env } } : {}),
        nodeId: `${kind}-${String.fromCharCode(97 + i)}`,
        ...(dataDir ? { dataDir } : {}),
        ...(cpuProfDir ? { cpuProfDir } : {}),
      });
      nodes.push(node);
      own.push(node);
    }
    return { nodes: own, redis };
  };
  try {
    const targets = {} as Record<K, ClusterTarget>;
    for (const side of Object.keys(specs) as K[]) targets[side] = await target(specs[side]);
    await fn(targets);
  } finally {
    await Promise.all(nodes.map((n) => n.stop()));
    await Promise.all(redises.map((r) => r.stop()));
    for (const dir of dataDirs) rmSync(dir, { recursive: true, force: true });
  }
}

/** Two nodes (`nodeCount`) of each server, each server on its own Redis: the cluster scenario. */
export function withClusters(ctx: BenchContext, nodeCount: number, fn: (clusters: Record<ServerKind, ClusterTarget>) => Promise<void>, profileAs?: string): Promise<void> {
  return withTargets(ctx, nodeCount, EACH_SERVER_ON_ITS_REDIS, fn, profileAs);
}
