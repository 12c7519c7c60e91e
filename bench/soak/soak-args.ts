import { parseArgs } from 'node:util';

/** The command line of bench/soak/run.ts (its doc comment lists the flags). */
export interface SoakArgs {
  help: boolean;
  quick: boolean;
  /** Traffic and faults, seconds (warm-up included). */
  durationSec: number;
  /** Samples before this are not judged: start-up, JIT, first connections and caches. */
  warmupSec: number;
  /** A fault every this many seconds. */
  faultPeriodSec: number;
  rooms: number;
  tsx: boolean;
  out?: string;
}

export function parseSoakArgs(argv: string[]): SoakArgs {
  // strict: a mistyped flag must fail now, not after minutes of a run that ignored it.
  const { values } = parseArgs({
    args: argv,
    strict: true,
    allowPositionals: false,
    options: {
      help: { type: 'boolean' },
      quick: { type: 'boolean' },
      minutes: { type: 'string' },
      warmup: { type: 'string' },
      period: { type: 'string' },
      rooms: { type: 'string' },
      tsx: { type: 'boolean' },
      out: { type: 'string' },
    },
  });
  const num = (flag: string, text: string | undefined, min: number) => {
    if (text === undefined) return undefined;
    const n = Number(text);
    if (!Number.isFinite(n) || n < min) throw new Error(`--${flag} takes a number ≥ ${min}, not ${JSON.stringify(text)}`);
    return n;
  };
  const quick = values.quick ?? false;
  const durationSec = Math.round((num('minutes', values.minutes, 0.5) ?? (quick ? 1 : 5)) * 60);
  return {
    help: values.help ?? false,
    quick,
    durationSec,
    warmupSec: num('warmup', values.warmup, 0) ?? Math.max(20, Math.round(durationSec * 0.2)),
    faultPeriodSec: num('period', values.period, 5) ?? (durationSec <= 90 ? 10 : 30),
    rooms: Math.round(num('rooms', values.rooms, 1) ?? 6),
    tsx: values.tsx ?? false,
    out: values.out,
  };
}
