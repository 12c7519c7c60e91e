import { mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { alternate } from '../lib/alternation.js';
import { BenchRedis } from '../lib/redis.js';
import { needingRedis, type BenchContext, type Scenario } from '../lib/scenario.js';
import type { ServerKind, ServerProc } from '../lib/server-proc.js';
import { medianOf, ratio, round, sumOf } from '../lib/stats.js';
import { CrossNodeRigs } from '../rigs/cross-node-rigs.js';
import type { RunResult } from '../rigs/load-window.js';

/** One repetition of one server: chat and relay, each with the room on one node and split over two. */
interface CrossRun {
  chatSingle: RunResult;
  chatCross: RunResult;
  relaySingle: RunResult;
  relayCross: RunResult;
}

function latency(xs: RunResult[]) {
  return {
    p50Ms: medianOf(xs, (r) => r.latencyMs.p50),
    p99Ms: medianOf(xs, (r) => r.latencyMs.p99),
    cpuUsPerMsg: medianOf(xs, (r) => r.serverCpuUsPerMsg, 1),
    lost: sumOf(xs, (r) => r.lost),
  };
}

function crossFigures(runs: CrossRun[]) {
  const f = {
    chatSingle: latency(runs.map((r) => r.chatSingle)),
    chatCross: latency(runs.map((r) => r.chatCross)),
    relaySingle: latency(runs.map((r) => r.relaySingle)),
    relayCross: latency(runs.map((r) => r.relayCross)),
  };
  return {
    ...f,
    chatPenaltyP50: round(f.chatCross.p50Ms / f.chatSingle.p50Ms, 3),
    chatPenaltyP99: round(f.chatCross.p99Ms / f.chatSingle.p99Ms, 3),
    relayPenaltyP50: round(f.relayCross.p50Ms / f.relaySingle.p50Ms, 3),
    relayPenaltyP99: round(f.relayCross.p99Ms / f.relaySingle.p99Ms, 3),
  };
}

/** Two nodes of each server on one Redis (unpinned), rigs on both; everything is stopped after. */
async function onTwoNodes<T>(ctx: BenchContext, redis: BenchRedis, fn: (rigs: Record<ServerKind, CrossNodeRigs>) => Promise<T>): Promise<T> {
  const { rooms, pairs } = ctx.knobs.cross;
  const oursData = mkdtempSync(join(tmpdir(), 'vcs-bench-cluster-'));
  const nodes: ServerProc[] = [];
  const node = async (kind: ServerKind, nodeId: string) => {
    const s = await ctx.fleet.start({ kind, cpu: null, redisUrl: redis.url, nodeId, ...(kind === 'ours' ? { dataDir: oursData } : {}) });
    nodes.push(s);
    return s;
  };
  try {
    const rigs = {
      bare: await CrossNodeRigs.create(await node('bare', 'bare-a'), await node('bare', 'bare-b'), rooms, pairs),
      ours: await CrossNodeRigs.create(await node('ours', 'ours-a'), await node('ours', 'ours-b'), rooms, pairs),
    };
    try {
      return await fn(rigs);
    } finally {
      rigs.bare.close();
      rigs.ours.close();
    }
  } finally {
    await Promise.all(nodes.map((n) => n.stop()));
    rmSync(oursData, { recursive: true, force: true });
  }
}

/** S3: what a second node costs, as latency(cross) / latency(single), ours against bare's. */
export const crossScenario: Scenario = needingRedis('cross', 'crossNodePenalty', async (ctx) => {
  const { reps } = ctx.knobs;
  const knobs = ctx.knobs.cross;
  const timing = { warmupMs: knobs.warmupMs, measureMs: knobs.measureMs };
  const redis = new BenchRedis();
  await redis.start();
  try {
    const floor = redis.floor();
    ctx.log(`redis floor: ${JSON.stringify(floor)}`);
    const runs = await onTwoNodes(ctx, redis, (rigs) =>
      alternate(reps, async (kind, rep): Promise<CrossRun> => {
        const measure = async (layout: 'single' | 'cross') => {
          const chat = await rigs[kind].chat(layout, { ...timing, rate: knobs.chatRate });
          const relay = await rigs[kind].relay(layout, { ...timing, rate: knobs.relayRate });
          ctx.log(`cross ${kind} ${layout} rep ${rep + 1}/${reps}: chat p50 ${chat.latencyMs.p50} / p99 ${chat.latencyMs.p99} ms; relay p50 ${relay.latencyMs.p50} / p99 ${relay.latencyMs.p99} ms`);
          return { chat, relay };
        };
        const single = await measure('single');
        const cross = await measure('cross');
        return { chatSingle: single.chat, chatCross: cross.chat, relaySingle: single.relay, relayCross: cross.relay };
      }),
    );
    const bare = crossFigures(runs.bare);
    const ours = crossFigures(runs.ours);
    return {
      absolute: { crossNode: { chatRate: knobs.chatRate, relayRate: knobs.relayRate, redisFloor: floor, bare, ours } },
      ratios: {
        crossNodePenalty: ratio(ours.chatPenaltyP50, bare.chatPenaltyP50),
        crossNodePenaltyP99: ratio(ours.chatPenaltyP99, bare.chatPenaltyP99),
        crossNodeRelayPenalty: ratio(ours.relayPenaltyP50, bare.relayPenaltyP50),
        crossNodeChatP50: ratio(ours.chatCross.p50Ms, bare.chatCross.p50Ms),
      },
    };
  } finally {
    await redis.stop();
  }
});
