import type { Pair } from '../lib/alternation.js';
import type { TargetSpec } from '../lib/cluster-target.js';
import { BenchReplicatedRedis } from '../lib/replicated-redis.js';
import { needingRedis, type Scenario } from '../lib/scenario.js';
import { ratio } from '../lib/stats.js';
import { rigFor } from './cluster.js';
import { measureLoad } from './load-scenario.js';
import { targetsOf } from './rediscluster.js';

type Side = 'acks0' | 'acks1';
const SIDES: Pair<Side> = ['acks0', 'acks1'];
/** Ours on a master with one replica, acking on the master's AOF alone or once the replica holds the message too. */
const SPECS: Record<Side, TargetSpec> = {
  acks0: { kind: 'ours', redis: () => new BenchReplicatedRedis(), env: { REDIS_MIN_REPLICAS_ACK: '0' } },
  acks1: { kind: 'ours', redis: () => new BenchReplicatedRedis(), env: { REDIS_MIN_REPLICAS_ACK: '1' } },
};

/**
 * What `REDIS_MIN_REPLICAS_ACK=1` costs: the cluster scenario's rooms of 4 over two nodes of
 * ours, each side on a master with one replica (both AOF, `appendfsync always`), the
 * appends of one event-loop turn sharing one `WAIT 1 1000` on 1 against no wait on 0,
 * alternated in the same run. Throughput, latency at 50 % of the 0 side's saturation, and
 * the master's commands per send (how many sends one WAIT covers).
 */
export const replicaAcksScenario: Scenario = needingRedis('replicaacks', 'replicaAcksThroughput', async (ctx) => {
  const { nodes, rooms4 } = ctx.knobs.cluster;
  const r4 = await measureLoad(ctx, 'replicaacks4', rigFor(rooms4), rooms4.window, targetsOf(SIDES, SPECS, nodes));
  return {
    // WAITs per send: r4.acks1.redisAtSaturation.byCommand.wait.
    absolute: { replicaAcks4: { nodes, shape: rooms4, ...r4 } },
    ratios: {
      replicaAcksThroughput: ratio(r4.acks1.saturation.median, r4.acks0.saturation.median),
      replicaAcksP99At50: ratio(r4.acks1.at50pct.p99Ms, r4.acks0.at50pct.p99Ms),
    },
  };
});
