import { alternate } from '../lib/alternation.js';
import { SERVER_CPU } from '../lib/cpu-pinning.js';
import type { Scenario } from '../lib/scenario.js';
import { medianOf, ratio, summarize, sumOf } from '../lib/stats.js';
import { idleMemory, type IdleResult } from '../rigs/idle-memory.js';

function idleFigures(xs: IdleResult[]) {
  return {
    rssKBPerConn: summarize(xs.map((r) => r.rssKBPerConn), 2),
    heapKBPerConn: summarize(xs.map((r) => r.heapKBPerConn), 2),
    held: Math.min(...xs.map((r) => r.held)),
    connectErrors: sumOf(xs, (r) => r.connectErrors),
    heartbeatCpuAtTop: xs[0]?.heartbeatCpu === null ? null : medianOf(xs, (r) => r.heartbeatCpu ?? NaN, 4),
    points: xs.at(-1)?.points,
  };
}

/** S4: memory per idle connection (post-GC slope over a ramp) and the heartbeat's CPU at the top. */
export const idleScenario: Scenario = {
  name: 'idle',
  async run(ctx) {
    const knobs = ctx.knobs.idle;
    // A fresh server per ramp: the slope must not include what an earlier ramp left behind.
    const runs = await alternate(knobs.reps, async (kind, rep) => {
      const server = await ctx.fleet.start({ kind, cpu: SERVER_CPU });
      try {
        const r = await idleMemory(server, knobs.counts, { heartbeatMs: knobs.heartbeatMs });
        ctx.log(`idle ${kind} rep ${rep + 1}/${knobs.reps}: ${r.rssKBPerConn} KB RSS/conn, ${r.heapKBPerConn} KB heap/conn (r² ${r.r2}), held ${r.held}, heartbeat CPU ${r.heartbeatCpu ?? '-'}`);
        return r;
      } finally {
        await server.stop();
      }
    });
    const bare = idleFigures(runs.bare);
    const ours = idleFigures(runs.ours);
    return {
      absolute: { idle: { counts: knobs.counts, bare, ours } },
      ratios: {
        memoryPerConnection: ratio(ours.rssKBPerConn.median, bare.rssKBPerConn.median),
        heapPerConnection: ratio(ours.heapKBPerConn.median, bare.heapKBPerConn.median),
        heartbeatCpu: bare.heartbeatCpuAtTop && ours.heartbeatCpuAtTop ? ratio(ours.heartbeatCpuAtTop, bare.heartbeatCpuAtTop) : null,
      },
    };
  },
};
