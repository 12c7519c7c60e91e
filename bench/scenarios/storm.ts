import { alternate } from '../lib/alternation.js';
import { SERVER_CPU } from '../lib/cpu-pinning.js';
import type { Scenario } from '../lib/scenario.js';
import { medianOf, ratio, sumOf } from '../lib/stats.js';
import type { ServerProc } from '../lib/server-proc.js';
import { reconnectStorm, type StormResult } from '../rigs/reconnect-storm.js';

function stormFigures(xs: StormResult[]) {
  return {
    clients: xs[0]?.clients,
    restartMs: medianOf(xs, (r) => r.restartMs, 0),
    reconnectP50Ms: medianOf(xs, (r) => r.reconnectMs.p50, 0),
    reconnectP99Ms: medianOf(xs, (r) => r.reconnectMs.p99, 0),
    afterReadyP99Ms: medianOf(xs, (r) => r.afterReadyMs.p99, 0),
    acked: sumOf(xs, (r) => r.acked),
    lost: sumOf(xs, (r) => r.lost),
    duplicates: sumOf(xs, (r) => r.duplicates),
    stragglers: sumOf(xs, (r) => r.stragglers),
  };
}

/** S6: kill the server under chat traffic, restart it; lost, doubled, and time back in the room. */
export const stormScenario: Scenario = {
  name: 'storm',
  async run(ctx) {
    const knobs = ctx.knobs.storm;
    const runs = await alternate(knobs.reps, async (kind, rep) => {
      // --profile: the last repetition's restarted server, from its start to its stop.
      const cpuProfDir = ctx.profiler && rep === knobs.reps - 1 ? ctx.profiler.dirFor('storm', kind) : undefined;
      const onRestarted = (server: ServerProc) => ctx.profiler?.capture('storm', server, [0, Number.MAX_SAFE_INTEGER]);
      const r = await reconnectStorm(ctx.fleet, kind, knobs.rooms, { cpu: SERVER_CPU, ...knobs, ...(cpuProfDir ? { cpuProfDir, onRestarted } : {}) });
      ctx.log(
        `storm ${kind} rep ${rep + 1}/${knobs.reps}: ${r.clients} clients, restart ${r.restartMs} ms, back p50 ${r.reconnectMs.p50} / p99 ${r.reconnectMs.p99} ms after the kill; acked ${r.acked}, lost ${r.lost}, duplicates ${r.duplicates}, stragglers ${r.stragglers}`,
      );
      return r;
    });
    const bare = stormFigures(runs.bare);
    const ours = stormFigures(runs.ours);
    return {
      absolute: { storm: { ...knobs, bare, ours } },
      ratios: {
        reconnect99: ratio(ours.reconnectP99Ms, bare.reconnectP99Ms),
        reconnect99AfterReady: ratio(ours.afterReadyP99Ms, bare.afterReadyP99Ms),
      },
    };
  },
};
