import { alternate, withBothServers } from '../lib/alternation.js';
import type { Scenario } from '../lib/scenario.js';
import { guests } from '../lib/setup.js';
import { medianOf, ratio } from '../lib/stats.js';
import { drainRun, type DrainResult } from '../rigs/drain-run.js';

function drainFigures(xs: DrainResult[]) {
  return {
    recoveryReplayMs: medianOf(xs, (r) => r.csrMs, 1),
    recovered: xs.every((r) => r.csrRecovered),
    lastSeqDrainMs: xs[0]?.lastSeqMs === null ? null : medianOf(xs, (r) => r.lastSeqMs ?? NaN, 1),
    liveDeliveryMs: medianOf(xs, (r) => r.liveMs, 1),
  };
}

/** S7: how fast a member that missed 1,000 messages holds them all again. */
export const drainScenario: Scenario = {
  name: 'drain',
  async run(ctx) {
    const { reps } = ctx.knobs;
    const { count } = ctx.knobs.drain;
    const runs = await withBothServers(ctx, async (servers) => {
      const users = { bare: await guests(servers.bare, 8), ours: await guests(servers.ours, 8) };
      return alternate(reps, async (kind, rep) => {
        // Only ours has the durable path (room:join with lastSeq, then chat:history).
        const r = await drainRun(servers[kind], users[kind], count, kind === 'ours');
        ctx.log(`drain ${kind} rep ${rep + 1}/${reps}: recovery ${r.csrMs} ms${r.csrRecovered ? '' : ' (not recovered)'}, lastSeq ${r.lastSeqMs ?? '-'} ms, live ${r.liveMs} ms`);
        return r;
      });
    });
    const bare = drainFigures(runs.bare);
    const ours = drainFigures(runs.ours);
    return {
      absolute: { drain: { count, bare, ours } },
      ratios: {
        queueDrain: ours.lastSeqDrainMs === null ? null : ratio(ours.lastSeqDrainMs, bare.recoveryReplayMs),
        recoveryReplay: ratio(ours.recoveryReplayMs, bare.recoveryReplayMs),
      },
    };
  },
};
