import type { BenchContext } from './scenario.js';
import { SERVER_CPU } from './cpu-pinning.js';
import type { ServerKind, ServerProc } from './server-proc.js';

/** Results of the repetitions, per side (per server, in most scenarios). */
export type PerSide<K extends string, T> = Record<K, T[]>;
export type PerKind<T> = PerSide<ServerKind, T>;

/** The two sides a scenario alternates: the baseline, then what is measured against it. */
export type Pair<K extends string> = readonly [baseline: K, measured: K];
export const SERVERS: Pair<ServerKind> = ['bare', 'ours'];

/** The baseline first on even repetitions, the other side first on odd ones: drift over a run hits both alike. */
export const orderOf = <K extends string>(pair: Pair<K>, rep: number): K[] => (rep % 2 === 0 ? [pair[0], pair[1]] : [pair[1], pair[0]]);
export const serverOrder = (rep: number): ServerKind[] => orderOf(SERVERS, rep);

/** `make(side)` for both sides of the pair, by side. */
export const bySide = <K extends string, V>(pair: Pair<K>, make: (side: K) => V): Record<K, V> => Object.fromEntries(pair.map((side) => [side, make(side)])) as Record<K, V>;

/** Runs `measure` for both servers in every repetition, in alternating order, and collects the results. */
export async function alternate<T>(reps: number, measure: (kind: ServerKind, rep: number) => Promise<T>): Promise<PerKind<T>> {
  const runs: PerKind<T> = { bare: [], ours: [] };
  for (let rep = 0; rep < reps; rep++) for (const kind of serverOrder(rep)) runs[kind].push(await measure(kind, rep));
  return runs;
}

/**
 * Starts a bare and an ours server, both pinned to the server CPU, runs `fn`, and stops
 * both whatever happens. With `profileAs` (and --profile) each writes a CPU profile.
 */
export async function withBothServers<T>(ctx: BenchContext, fn: (servers: Record<ServerKind, ServerProc>) => Promise<T>, profileAs?: string): Promise<T> {
  const start = (kind: ServerKind) => {
    const cpuProfDir = profileAs && ctx.profiler ? ctx.profiler.dirFor(profileAs, kind) : undefined;
    return ctx.fleet.start({ kind, cpu: SERVER_CPU, ...(cpuProfDir ? { cpuProfDir } : {}) });
  };
  const servers = { bare: await start('bare'), ours: await start('ours') };
  try {
    return await fn(servers);
  } finally {
    await Promise.all([servers.bare.stop(), servers.ours.stop()]);
  }
}
