import type { Scenario } from '../lib/scenario.js';
import { ratio } from '../lib/stats.js';
import { FanoutRig } from '../rigs/fanout-rig.js';
import { measureLoad } from './load-scenario.js';

/** S2: durable chat fan-out in rooms of 4 and of 50; the headline ratio is the worse of the two. */
export const chatScenario: Scenario = {
  name: 'chat',
  async run(ctx) {
    const { chat4: shape4, chat50: shape50 } = ctx.knobs;
    const c4 = await measureLoad(ctx, 'chat4', (s) => FanoutRig.create([s], shape4), shape4.window);
    const c50 = await measureLoad(ctx, 'chat50', (s) => FanoutRig.create([s], shape50), shape50.window);
    const r4 = ratio(c4.ours.saturation.median, c4.bare.saturation.median);
    const r50 = ratio(c50.ours.saturation.median, c50.bare.saturation.median);
    return {
      absolute: { chat4: { shape: shape4, ...c4 }, chat50: { shape: shape50, ...c50 } },
      ratios: {
        chatFanoutThroughput: Math.min(r4, r50),
        chatFanout4Throughput: r4,
        chatFanout50Throughput: r50,
        chatP99At50: ratio(c4.ours.at50pct.p99Ms, c4.bare.at50pct.p99Ms),
        chatEventLoopDelayP99: ratio(c4.ours.at50pct.eventLoopDelayP99Ms, c4.bare.at50pct.eventLoopDelayP99Ms),
      },
    };
  },
};
