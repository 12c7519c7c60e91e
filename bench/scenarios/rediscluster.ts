import { QueueLayout } from '../../src/infra/redis/queue-layout.js';
import type { Pair } from '../lib/alternation.js';
import { withTargets, type ClusterTarget, type TargetSpec } from '../lib/cluster-target.js';
import { BenchRedis } from '../lib/redis.js';
import { BenchRedisCluster, type Shard } from '../lib/redis-cluster.js';
import { needingRedis, type Scenario } from '../lib/scenario.js';
import type { ServerKind } from '../lib/server-proc.js';
import { ratio } from '../lib/stats.js';
import { rigFor } from './cluster.js';
import { measureLoad, type LoadTargets } from './load-scenario.js';

/** Masters of the Redis Cluster (no replicas). */
const MASTERS = 3;
/** The adapter's one stream (src/infra/select-infra.ts) and our default QUEUE_PARTITIONS. */
const ADAPTER_STREAM = 'sio:stream';
const QUEUE_PARTITIONS = 16;

type Side = 'single' | 'cluster';
const SIDES: Pair<Side> = ['single', 'cluster'];
/** One server on both sides: on one redis-server, and on a Redis Cluster; every master with AOF, `appendfsync always`. */
const specsFor = (kind: ServerKind): Record<Side, TargetSpec> => ({
  single: { kind, redis: () => new BenchRedis({ aof: true }) },
  cluster: { kind, redis: () => new BenchRedisCluster(MASTERS) },
});

/** Ours on the cluster with each Socket.IO adapter: the streams adapter (one stream), and sharded pub/sub (a channel per room). */
type Adapter = 'streams' | 'pubsub';
const ADAPTERS: Pair<Adapter> = ['streams', 'pubsub'];
const ADAPTER_SPECS: Record<Adapter, TargetSpec> = {
  streams: specsFor('ours').cluster,
  pubsub: { ...specsFor('ours').cluster, env: { SOCKET_ADAPTER: 'pubsub' } },
};

/** Where our keys land on the cluster: each master's slots, the adapter stream's, and the queue partitions'. */
export interface Placement {
  shards: (Shard & { queuePartitions: number; adapterStream: boolean })[];
  adapterStream: { key: string; slot: number; shard: number };
}

async function placementOf(cluster: BenchRedisCluster): Promise<Placement> {
  const queues = new QueueLayout(QUEUE_PARTITIONS).partitions.map((p) => p.queue);
  const where = await cluster.shardsOf([ADAPTER_STREAM, ...queues]);
  const adapter = where[ADAPTER_STREAM]!;
  const shards = (await cluster.shards()).map((s) => ({
    ...s,
    queuePartitions: queues.filter((q) => where[q]!.shard === s.shard).length,
    adapterStream: adapter.shard === s.shard,
  }));
  return { shards, adapterStream: { key: ADAPTER_STREAM, ...adapter } };
}

/** Both sides of `specs`, fresh in every repetition; `found` hears where the keys are on the (last) cluster. */
export function targetsOf<K extends string>(sides: Pair<K>, specs: Record<K, TargetSpec>, nodeCount: number, found: (p: Placement) => void = () => {}): LoadTargets<ClusterTarget, K> {
  return {
    sides,
    // Not profiled: the profile recorder names profiles by server, and both sides are one server.
    with: (ctx, fn) =>
      withTargets(ctx, nodeCount, specs, async (targets) => {
        for (const side of sides) if (targets[side].redis instanceof BenchRedisCluster) found(await placementOf(targets[side].redis));
        await fn(targets);
      }),
    primary: (c) => c.nodes[0]!,
  };
}

/**
 * Our durable chat over two nodes (the cluster scenario's shapes), on one redis-server
 * against a Redis Cluster of three masters, alternated in the same run: throughput and
 * latency at 50 % of the one-Redis saturation, Redis's commands and CPU per send in total
 * and per master, and which master holds the adapter stream (all of a namespace's fan-out).
 * Then the same for bare Socket.IO in rooms of 4 (its streams adapter and seq INCR on a
 * cluster client): what a Redis Cluster costs Socket.IO itself, apart from ours. Last, ours
 * on the cluster with the streams adapter against sharded pub/sub (`SOCKET_ADAPTER=pubsub`,
 * a channel per room, so the fan-out spreads over the masters), rooms of 4.
 */
export const redisClusterScenario: Scenario = needingRedis('rediscluster', 'redisClusterThroughput', async (ctx) => {
  const { nodes, rooms4, rooms50 } = ctx.knobs.cluster;
  let placement: Placement | null = null;
  const targets = targetsOf(SIDES, specsFor('ours'), nodes, (p) => (placement = p));
  const c4 = await measureLoad(ctx, 'rediscluster4', rigFor(rooms4), rooms4.window, targets);
  const c50 = await measureLoad(ctx, 'rediscluster50', rigFor(rooms50), rooms50.window, targets);
  const bare4 = await measureLoad(ctx, 'rediscluster4-bare', rigFor(rooms4), rooms4.window, targetsOf(SIDES, specsFor('bare'), nodes));
  const pubsub4 = await measureLoad(ctx, 'rediscluster4-adapter', rigFor(rooms4), rooms4.window, targetsOf(ADAPTERS, ADAPTER_SPECS, nodes));
  const redisRatio = (pick: 'commandsPerSend' | 'cpuMsPer1000Sends') => ratio(c4.cluster.redisAtSaturation?.[pick] ?? NaN, c4.single.redisAtSaturation?.[pick] ?? NaN);
  const section = <T>(shape: typeof rooms4, figures: T) => ({ nodes, masters: MASTERS, shape, ...figures });
  return {
    absolute: {
      redisCluster4: section(rooms4, c4),
      redisCluster50: section(rooms50, c50),
      redisCluster4Bare: section(rooms4, bare4),
      redisCluster4Adapters: section(rooms4, pubsub4),
      redisClusterPlacement: placement,
    },
    ratios: {
      redisClusterThroughput: ratio(c4.cluster.saturation.median, c4.single.saturation.median),
      redisCluster50Throughput: ratio(c50.cluster.saturation.median, c50.single.saturation.median),
      redisClusterP99At50: ratio(c4.cluster.at50pct.p99Ms, c4.single.at50pct.p99Ms),
      redisClusterBareThroughput: ratio(bare4.cluster.saturation.median, bare4.single.saturation.median),
      redisClusterPubsubThroughput: ratio(pubsub4.pubsub.saturation.median, pubsub4.streams.saturation.median),
      redisClusterCommandsPerSend: redisRatio('commandsPerSend'),
      redisClusterCpuPerSend: redisRatio('cpuMsPer1000Sends'),
    },
  };
});
