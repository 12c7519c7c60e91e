import { withClusters, type ClusterTarget } from '../lib/cluster-target.js';
import { serverOrder, SERVERS, type PerKind } from '../lib/alternation.js';
import { needingRedis, type BenchContext, type Scenario } from '../lib/scenario.js';
import type { ServerProc } from '../lib/server-proc.js';
import { ratio } from '../lib/stats.js';
import { FanoutRig, type FanoutShape } from '../rigs/fanout-rig.js';
import type { RunResult } from '../rigs/load-window.js';
import { measureLoad, type LoadTargets } from './load-scenario.js';

/** A fan-out shape across nodes: `senders` of each room on one node, most other members on the other. */
export interface ClusterShape {
  rooms: number;
  members: number;
  sendersPerRoom: number;
  window: number;
}

/**
 * Where member m of room r connects: rooms alternate between the nodes as "home" (so both
 * nodes send and receive); the senders sit on the home node, and of the other members one in
 * four joins them there while the rest are on the next node. In rooms of four that is the
 * sender on one node and its three receivers on the other.
 */
export function placeAcross(nodes: ServerProc[], shape: ClusterShape): FanoutShape['place'] {
  return (room, member) => {
    const home = room % nodes.length;
    const onHome = member < shape.sendersPerRoom || (shape.members > 4 && member % 4 === 0);
    return nodes[onHome ? home : (home + 1) % nodes.length]!;
  };
}

/** The fan-out rig of `shape` over a target's nodes, metering its Redis. */
export const rigFor = (shape: ClusterShape) => async (c: ClusterTarget) => {
  const rig = await FanoutRig.create(c.nodes, { ...shape, place: placeAcross(c.nodes, shape) });
  rig.meters.push(c.redis.meter());
  return rig;
};

const clusterOf = (nodeCount: number): LoadTargets<ClusterTarget> => ({
  sides: SERVERS,
  with: (ctx, fn, profileAs) => withClusters(ctx, nodeCount, fn, profileAs),
  primary: (c) => c.nodes[0]!,
});

/** Saturation held for a long window, once per server: does throughput hold over a minute? */
async function overTime(ctx: BenchContext, shape: ClusterShape, nodeCount: number) {
  const { longMs, sliceMs } = ctx.knobs.cluster;
  const runs: PerKind<RunResult> = { bare: [], ours: [] };
  await withClusters(ctx, nodeCount, async (clusters) => {
    for (const kind of serverOrder(0)) {
      const rig = await rigFor(shape)(clusters[kind]);
      try {
        const r = await rig.saturation({ warmupMs: ctx.knobs.window.warmupMs, measureMs: longMs, sliceMs, window: shape.window });
        runs[kind].push(r);
        ctx.log(`cluster over ${longMs / 1000} s, ${kind}: ${r.rate}/s; per ${sliceMs / 1000} s: ${r.sliceRates?.join(', ')}`);
      } finally {
        rig.close();
      }
    }
  });
  const figures = (r: RunResult) => {
    const slices = r.sliceRates ?? [];
    return { rate: r.rate, sliceRates: slices, lastOverFirst: slices.length > 1 ? ratio(slices.at(-1)!, slices[0]!) : null, lost: r.lost, errors: r.errors };
  };
  return { bare: figures(runs.bare[0]!), ours: figures(runs.ours[0]!) };
}

/**
 * Durable chat across a cluster: two nodes of each server on a Redis of its own (AOF,
 * `appendfsync always`), rooms of 4 and 50 spread over the nodes, against bare Socket.IO
 * over the same adapter with a shared seq counter (one INCR per message). Throughput,
 * latency at half of bare's saturation, and Redis's commands and CPU per send.
 */
export const clusterScenario: Scenario = needingRedis('cluster', 'clusterThroughput', async (ctx) => {
  const { nodes, rooms4, rooms50 } = ctx.knobs.cluster;
  const c4 = await measureLoad(ctx, 'cluster4', rigFor(rooms4), rooms4.window, clusterOf(nodes));
  const c50 = await measureLoad(ctx, 'cluster50', rigFor(rooms50), rooms50.window, clusterOf(nodes));
  const long = ctx.knobs.cluster.longMs > 0 ? await overTime(ctx, rooms4, nodes) : null;
  const r4 = ratio(c4.ours.saturation.median, c4.bare.saturation.median);
  const r50 = ratio(c50.ours.saturation.median, c50.bare.saturation.median);
  const redisRatio = (pick: 'commandsPerSend' | 'cpuMsPer1000Sends') => ratio(c4.ours.redisAtSaturation?.[pick] ?? NaN, c4.bare.redisAtSaturation?.[pick] ?? NaN);
  return {
    absolute: { cluster4: { nodes, shape: rooms4, ...c4 }, cluster50: { nodes, shape: rooms50, ...c50 }, ...(long ? { clusterOverTime: long } : {}) },
    ratios: {
      clusterThroughput: Math.min(r4, r50),
      cluster4Throughput: r4,
      cluster50Throughput: r50,
      clusterP99At50: ratio(c4.ours.at50pct.p99Ms, c4.bare.at50pct.p99Ms),
      clusterRedisCommandsPerSend: redisRatio('commandsPerSend'),
      clusterRedisCpuPerSend: redisRatio('cpuMsPer1000Sends'),
      ...(long ? { clusterLongThroughput: ratio(long.ours.rate, long.bare.rate) } : {}),
    },
  };
});
