/** The relay and chat loads are the same in both modes: only durations and counts differ. */
const LOAD_SHAPES = {
  relay: { pairs: 50, window: 4 },
  chat4: { rooms: 50, members: 4, sendersPerRoom: 4, window: 2 },
  chat50: { rooms: 4, members: 50, sendersPerRoom: 5, window: 4 },
};

/** Two nodes per server; one sender per room of 4 (its receivers on the other node). */
const CLUSTER_SHAPES = {
  nodes: 2,
  rooms4: { rooms: 50, members: 4, sendersPerRoom: 1, window: 8 },
  rooms50: { rooms: 4, members: 50, sendersPerRoom: 5, window: 4 },
  sliceMs: 10_000,
};

/**
 * Every knob of both modes (--quick and the full run), recorded in the results under
 * `knobs`: docs/benchmarks.md describes the scenarios with these numbers.
 */
const QUICK = {
  reps: 3,
  warmupMs: 2000,
  measureMs: 4000,
  ...LOAD_SHAPES,
  idle: { reps: 1, counts: [1000, 2000, 3500, 5000], heartbeatMs: 0 },
  connect: { count: 2000, concurrency: 200 },
  cross: { rooms: 50, pairs: 50, chatRate: 1000, relayRate: 2000, warmupMs: 1000, measureMs: 4000 },
  cluster: { ...CLUSTER_SHAPES, longMs: 60_000 },
  drain: { count: 1000 },
  storm: { reps: 1, rooms: 250, ratePerSec: 200, beforeKillMs: 3000, afterKillMs: 6000 },
};

const FULL: typeof QUICK = {
  reps: 5,
  warmupMs: 5000,
  measureMs: 15_000,
  ...LOAD_SHAPES,
  idle: { reps: 2, counts: [1000, 5000, 10_000, 15_000, 18_000], heartbeatMs: 30_000 },
  connect: { count: 5000, concurrency: 200 },
  cross: { rooms: 50, pairs: 50, chatRate: 1000, relayRate: 2000, warmupMs: 3000, measureMs: 10_000 },
  cluster: { ...CLUSTER_SHAPES, longMs: 60_000 },
  drain: { count: 1000 },
  storm: { reps: 2, rooms: 1250, ratePerSec: 500, beforeKillMs: 5000, afterKillMs: 10_000 },
};

/** Warm-up and measured window of the relay and chat loads. */
export interface LoadTiming {
  warmupMs: number;
  measureMs: number;
}

/** The knobs of one run: the mode's, with `reps` and `window` as the command line set them. */
export type RunKnobs = typeof QUICK & { window: LoadTiming };

export function runKnobs(quick: boolean, overrides: { reps?: number; warmupMs?: number; measureMs?: number; longMs?: number }): RunKnobs {
  const mode = quick ? QUICK : FULL;
  return {
    ...mode,
    cluster: { ...mode.cluster, longMs: overrides.longMs ?? mode.cluster.longMs },
    reps: overrides.reps ?? mode.reps,
    window: { warmupMs: overrides.warmupMs ?? mode.warmupMs, measureMs: overrides.measureMs ?? mode.measureMs },
  };
}
