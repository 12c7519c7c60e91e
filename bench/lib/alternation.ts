import type { BenchContext } from './scenario.js';
import { SERVER_CPU } from './cpu-pinning.js';
import type { ServerKind, ServerProc } from './server-proc.js';

/** Results of the repetitions, per server. */
export type PerKind<T> = Record<ServerKind, T[]>;

/** Bare first on even repetitions, ours first on odd ones: drift over a run hits both servers alike. */
export const serverOrder = (rep: number): ServerKind[] => (rep % 2 === 0 ? ['bare', 'ours'] : ['ours', 'bare']);

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
