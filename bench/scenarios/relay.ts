import type { Scenario } from '../lib/scenario.js';
import { ratio, round } from '../lib/stats.js';
import { RelayRig } from '../rigs/relay-rig.js';
import { measureLoad } from './load-scenario.js';

/** S1: /rtc signals between call pairs, at saturation and at 50 % of bare's rate. */
export const relayScenario: Scenario = {
  name: 'relay',
  async run(ctx) {
    const shape = ctx.knobs.relay;
    const r = await measureLoad(ctx, 'relay', (s) => RelayRig.create(s, shape.pairs), shape.window);
    return {
      absolute: { relay: { shape, ...r } },
      ratios: {
        relayThroughput: ratio(r.ours.saturation.median, r.bare.saturation.median),
        relayCpuPerMsg: ratio(r.ours.cpuUsPerMsg, r.bare.cpuUsPerMsg),
        relayP99At50: ratio(r.ours.at50pct.p99Ms, r.bare.at50pct.p99Ms),
        relayP50DeltaMsAt50: round(r.ours.at50pct.p50Ms - r.bare.at50pct.p50Ms, 3),
        eventLoopDelayP99: ratio(r.ours.at50pct.eventLoopDelayP99Ms, r.bare.at50pct.eventLoopDelayP99Ms),
      },
    };
  },
};
