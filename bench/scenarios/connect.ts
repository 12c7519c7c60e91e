import { alternate, withBothServers } from '../lib/alternation.js';
import type { Scenario } from '../lib/scenario.js';
import { guests, rooms } from '../lib/setup.js';
import { medianOf, ratio, summarize, sumOf } from '../lib/stats.js';
import { connectStorm, type ConnectResult } from '../rigs/connect-storm.js';

function connectFigures(xs: ConnectResult[]) {
  return {
    rate: summarize(xs.map((r) => r.rate), 0),
    p99Ms: medianOf(xs, (r) => r.connectMs.p99, 1),
    cpuUsPerConn: medianOf(xs, (r) => r.serverCpuUsPerConn, 1),
    generatorCpu: medianOf(xs, (r) => r.generatorCpu, 2),
    errors: sumOf(xs, (r) => r.errors),
  };
}

/** S5: handshakes per second, each a WebSocket, a /rtc CONNECT with the token and a call:join. */
export const connectScenario: Scenario = {
  name: 'connect',
  async run(ctx) {
    const { reps } = ctx.knobs;
    const { count, concurrency } = ctx.knobs.connect;
    const runs = await withBothServers(
      ctx,
      async (servers) => {
        const callRooms = Math.ceil(count / 4);
        const bareUsers = await guests(servers.bare, 100);
        // Bare checks no token: any owner will do.
        const bareRooms = await rooms(servers.bare, { token: 'x', id: 'x', name: 'x' }, callRooms);
        const oursUsers = await guests(servers.ours, 100);
        const setup = {
          bare: { users: bareUsers, rooms: bareRooms },
          ours: { users: oursUsers, rooms: await rooms(servers.ours, oursUsers[0]!, callRooms) },
        };
        // Unrecorded warm-up storms: handshake rates here keep rising for the first ~8,000
        // connections (JIT), on both servers.
        for (let i = 0; i < 4; i++) for (const kind of ['bare', 'ours'] as const) await connectStorm(servers[kind], setup[kind].users, setup[kind].rooms, 2000, concurrency);
        return alternate(reps, async (kind, rep) => {
          const r = await connectStorm(servers[kind], setup[kind].users, setup[kind].rooms, count, concurrency);
          ctx.log(`connect ${kind} rep ${rep + 1}/${reps}: ${r.rate} conn/s, p99 ${r.connectMs.p99} ms, ${r.serverCpuUsPerConn} µs CPU/conn, generator ${r.generatorCpu}, errors ${r.errors}`);
          if (rep === reps - 1) ctx.profiler?.capture('connect', servers[kind], r.windowUs);
          return r;
        });
      },
      'connect',
    );
    const bare = connectFigures(runs.bare);
    const ours = connectFigures(runs.ours);
    return {
      absolute: { connect: { count, concurrency, bare, ours } },
      ratios: { connectRate: ratio(ours.rate.median, bare.rate.median) },
    };
  },
};
