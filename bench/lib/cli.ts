import { parseArgs } from 'node:util';

/** The command line of bench/run.ts (its doc comment lists the flags). */
export interface BenchArgs {
  help: boolean;
  quick: boolean;
  /** Scenario names of --only, unchecked; null runs every scenario. */
  only: string[] | null;
  reps?: number;
  warmupMs?: number;
  measureMs?: number;
  /** The cluster scenario's long window (0: skip it). */
  longMs?: number;
  profile: boolean;
  /** Run the servers through tsx instead of compiled. */
  tsx: boolean;
  /** The results file (default bench/results/<date>.json). */
  out?: string;
}

export function parseBenchArgs(argv: string[]): BenchArgs {
  // strict: a mistyped flag must fail now, not after a 35-minute run that ignored it.
  const { values } = parseArgs({
    args: argv,
    strict: true,
    allowPositionals: false,
    options: {
      help: { type: 'boolean' },
      quick: { type: 'boolean' },
      only: { type: 'string' },
      reps: { type: 'string' },
      warmup: { type: 'string' },
      measure: { type: 'string' },
      long: { type: 'string' },
      profile: { type: 'boolean' },
      tsx: { type: 'boolean' },
      out: { type: 'string' },
    },
  });
  const count = (flag: string, text: string | undefined, min: number) => {
    if (text === undefined) return undefined;
    const n = Number(text);
    if (!Number.isInteger(n) || n < min) throw new Error(`--${flag} takes a whole number ≥ ${min}, not ${JSON.stringify(text)}`);
    return n;
  };
  return {
    help: values.help ?? false,
    quick: values.quick ?? false,
    only: values.only?.split(',') ?? null,
    reps: count('reps', values.reps, 1),
    warmupMs: count('warmup', values.warmup, 0),
    measureMs: count('measure', values.measure, 1),
    longMs: count('long', values.long, 0),
    profile: values.profile ?? false,
    tsx: values.tsx ?? false,
    out: values.out,
  };
}
