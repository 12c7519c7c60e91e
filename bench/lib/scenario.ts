import type { RunKnobs } from './knobs.js';
import type { ProfileRecorder } from './profile-recorder.js';
import { BenchRedis } from './redis.js';
import type { Ratios } from './report.js';
import type { ServerFleet } from './server-fleet.js';

/** What the run hands every scenario: nothing a scenario needs is module state. */
export interface BenchContext {
  readonly knobs: RunKnobs;
  /** Starts the servers under test (with the run's runtime) and kills leftovers on exit. */
  readonly fleet: ServerFleet;
  /** Set with --profile: scenarios that profile their servers report the measured windows here. */
  readonly profiler: ProfileRecorder | null;
  /** A progress line on stdout, stamped with the time since the run began. */
  log(message: string): void;
  /** A remark for the results' `notes`: something skipped or degraded. */
  note(message: string): void;
}

/** What a scenario adds to the results file. */
export interface ScenarioResult {
  /** Sections of `absolute`, by name (one scenario may fill several: chat4 and chat50). */
  absolute: Record<string, unknown>;
  ratios: Ratios;
}

/**
 * One scenario of bench/run.ts: it alternates bare and ours over the repetitions, takes the
 * medians and returns its figures; it writes nothing and prints only progress.
 */
export interface Scenario {
  /** Its name for `--only`. */
  readonly name: string;
  run(ctx: BenchContext): Promise<ScenarioResult>;
}

/**
 * A scenario that needs `redis-server`: runs `run` where one is installed; elsewhere notes
 * that it was skipped and answers `ratio` as null, so the table shows it was not measured.
 */
export function needingRedis(name: string, ratio: keyof Ratios, run: (ctx: BenchContext) => Promise<ScenarioResult>): Scenario {
  return {
    name,
    run: (ctx) => {
      if (BenchRedis.available()) return run(ctx);
      ctx.note(`${name}: redis-server is not installed; skipped`);
      return Promise.resolve({ absolute: {}, ratios: { [ratio]: null } });
    },
  };
}
