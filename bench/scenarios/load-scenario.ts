import { bySide, orderOf, SERVERS, withBothServers, type Pair, type PerSide } from '../lib/alternation.js';
import type { RedisWindow } from '../lib/redis.js';
import type { ShardedWindow } from '../lib/redis-cluster.js';
import type { BenchContext } from '../lib/scenario.js';
import type { ServerKind, ServerProc } from '../lib/server-proc.js';
import { medianOf, summarize, sumOf } from '../lib/stats.js';
import type { LoadRig } from '../rigs/load-rig.js';
import type { RunResult } from '../rigs/load-window.js';

const redisOf = (r: RunResult) => r.meters.redis as ShardedWindow | undefined;

/**
 * Redis's work per message sent (cluster runs: the rig meters Redis as `redis`), or of one
 * master of a Redis Cluster with `pick`.
 */
function redisPerSend(runs: RunResult[], measureMs: number, pick: (r: RunResult) => RedisWindow | undefined = redisOf) {
  const metered = runs.filter((r) => pick(r));
  if (metered.length === 0) return undefined;
  const sends = (r: RunResult) => Math.max(1, (r.sentRate * measureMs) / 1000);
  const redis = (r: RunResult) => pick(r)!;
  const last = redis(metered.at(-1)!);
  return {
    commandsPerSend: medianOf(metered, (r) => redis(r).totalCommands / sends(r), 2),
    cpuMsPer1000Sends: medianOf(metered, (r) => (redis(r).cpuMs / sends(r)) * 1000, 1),
    /** Commands per send by name, in the last repetition. */
    byCommand: Object.fromEntries(
      Object.entries(last.commands)
        .map(([name, n]) => [name, Math.round((n / sends(metered.at(-1)!)) * 1000) / 1000] as const)
        .filter(([, n]) => n >= 0.005)
        .sort((a, b) => b[1] - a[1]),
    ),
  };
}

/** The same per master, on a Redis Cluster (its meter reports `shards`). */
function shardsPerSend(runs: RunResult[], measureMs: number) {
  const shards = runs.map(redisOf).find((w) => w?.shards)?.shards;
  return shards?.map((_, i) => redisPerSend(runs, measureMs, (r) => redisOf(r)?.shards?.[i])!);
}

/** The figures of one load, per side: medians over the repetitions. */
function loadFigures(sat: RunResult[], fixed: RunResult[], measureMs: number) {
  const redisAtSaturation = redisPerSend(sat, measureMs);
  const redisAt50 = redisPerSend(fixed, measureMs);
  const shardsAtSaturation = shardsPerSend(sat, measureMs);
  return {
    saturation: summarize(sat.map((r) => r.rate), 0),
    sendsPerSec: medianOf(sat, (r) => r.sentRate, 0),
    cpuUsPerMsg: medianOf(sat, (r) => r.serverCpuUsPerMsg, 2),
    ...(sat.every((r) => r.serverMainThreadCpuUsPerMsg !== undefined) ? { mainThreadCpuUsPerMsg: medianOf(sat, (r) => r.serverMainThreadCpuUsPerMsg!, 2) } : {}),
    serverCpuAtSaturation: medianOf(sat, (r) => r.serverCpu, 2),
    generatorCpuAtSaturation: medianOf(sat, (r) => r.generatorCpu, 2),
    at50pct: {
      rate: medianOf(fixed, (r) => r.rate, 0),
      p50Ms: medianOf(fixed, (r) => r.latencyMs.p50),
      p99Ms: medianOf(fixed, (r) => r.latencyMs.p99),
      p999Ms: medianOf(fixed, (r) => r.latencyMs.p999),
      eventLoopDelayP99Ms: medianOf(fixed, (r) => r.eventLoopDelayMs.p99),
      serverCpu: medianOf(fixed, (r) => r.serverCpu),
    },
    lost: sumOf([...sat, ...fixed], (r) => r.lost),
    errors: sumOf([...sat, ...fixed], (r) => r.errors),
    ...(redisAtSaturation ? { redisAtSaturation, redisAt50 } : {}),
    ...(shardsAtSaturation ? { redisShardsAtSaturation: shardsAtSaturation, redisShardsAt50: shardsPerSend(fixed, measureMs) } : {}),
  };
}

/**
 * Where a load runs: `with` starts a target per side (one process per server, or a cluster
 * of them) and hands both to `fn`, stopping them after; `sides` are the two, the baseline
 * first (bare and ours, unless a scenario compares two set-ups of one server); `primary` is
 * the process to profile.
 */
export interface LoadTargets<T, K extends string = ServerKind> {
  sides: Pair<K>;
  with(ctx: BenchContext, fn: (targets: Record<K, T>) => Promise<void>, profileAs?: string): Promise<void>;
  primary(target: T): ServerProc;
}

/** One process per server, pinned (S1, S2). */
export const singleNode: LoadTargets<ServerProc> = { sides: SERVERS, with: withBothServers, primary: (s) => s };

export type LoadFigures = ReturnType<typeof loadFigures>;

/**
 * S1 and S2 in every repetition, on fresh servers: saturation (closed loop, `windowSize`
 * in flight per source) for both sides, then latency (open loop) for both at 50 % of the
 * rate the baseline (bare) saturated at in that repetition. With --profile, the last
 * repetition is profiled.
 */
export async function measureLoad<T = ServerProc, K extends string = ServerKind>(
  ctx: BenchContext,
  name: string,
  makeRig: (target: T) => Promise<LoadRig<unknown>>,
  windowSize: number,
  targets: LoadTargets<T, K> = singleNode as unknown as LoadTargets<T, K>,
): Promise<Record<K, LoadFigures>> {
  const { reps, window } = ctx.knobs;
  const [baseline] = targets.sides;
  const sat: PerSide<K, RunResult> = bySide(targets.sides, () => []);
  const fixed: PerSide<K, RunResult> = bySide(targets.sides, () => []);
  for (let rep = 0; rep < reps; rep++) {
    const profiled = ctx.profiler !== null && rep === reps - 1;
    await targets.with(
      ctx,
      async (servers) => {
        const rigs = {} as Record<K, LoadRig<unknown>>;
        for (const side of targets.sides) rigs[side] = await makeRig(servers[side]);
        try {
          let baselineSentRate = 0;
          for (const kind of orderOf(targets.sides, rep)) {
            const r = await rigs[kind].saturation({ ...window, window: windowSize });
            if (kind === baseline) baselineSentRate = r.sentRate;
            sat[kind].push(r);
            ctx.log(`${name} ${kind} rep ${rep + 1}/${reps}: saturation ${r.rate}/s, ${r.serverCpuUsPerMsg} µs CPU/msg, server ${r.serverCpu}, generator ${r.generatorCpu}`);
            if (profiled) ctx.profiler?.capture(name, targets.primary(servers[kind]), r.windowUs);
          }
          const rate = Math.max(100, Math.round((baselineSentRate * 0.5) / 10) * 10);
          for (const kind of orderOf(targets.sides, rep)) {
            const r = await rigs[kind].fixedRate({ ...window, rate });
            fixed[kind].push(r);
            ctx.log(
              `${name} ${kind} rep ${rep + 1}/${reps}: ${rate} sends/s: p50 ${r.latencyMs.p50} ms, p99 ${r.latencyMs.p99} ms, loop delay p99 ${r.eventLoopDelayMs.p99} ms, CPU ${r.serverCpu}, heap ${r.heapMB} MB, GC ${r.gc.major} major ${r.gc.majorMs} ms / ${r.gc.minor} minor ${r.gc.minorMs} ms (max ${r.gc.maxMs} ms)`,
            );
          }
        } finally {
          for (const side of targets.sides) rigs[side].close();
        }
      },
      profiled ? name : undefined,
    );
  }
  return bySide(targets.sides, (side) => loadFigures(sat[side], fixed[side], window.measureMs));
}
