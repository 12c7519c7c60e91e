/**
 * The benchmark: our server against bare Socket.IO (same version, transport settings and
 * adapter), each scenario alternating the two in the same run, several times; medians and
 * ratios (ours / bare) go to bench/results/<date>.json and a table on stdout.
 *
 *   npm run bench                   full run (5 repetitions, 5 s warm-up, 15 s windows; ~35 min)
 *   npm run bench -- --quick        under ten minutes (3 repetitions, short windows)
 *   npm run bench -- --only relay,chat
 *   npm run bench -- --reps 1       repetitions (--warmup MS and --measure MS: the load windows)
 *   npm run bench -- --long MS      the cluster scenario's long window (default 60 000; 0 skips it)
 *   npm run bench -- --profile      also: CPU profiles (node --cpu-prof) of both servers
 *                                   under the relay, chat and connect loads, summarised in the results
 *   npm run bench -- --tsx          run the servers through tsx instead of compiled
 *   npm run bench -- --out FILE     write the results there
 *
 * Scenarios (bench/scenarios/index.ts): relay, chat, idle, connect, cross, cluster, rediscluster,
 * replicaacks, drain, storm. rediscluster and replicaacks compare Redis set-ups rather than
 * servers: each server on one Redis against a three-master Redis Cluster, and ours there with
 * the streams adapter against sharded pub/sub (per-master commands and CPU); ours on a master
 * with a replica with REDIS_MIN_REPLICAS_ACK 0 against 1.
 * Servers are child processes pinned to CPU 0, this generator to CPU 1 (Redis and two-node
 * runs are not pinned). Loopback only; every phase is bounded in time. See docs/benchmarks.md.
 */
import { mkdirSync, readFileSync, writeFileSync } from 'node:fs';
import { dirname, join } from 'node:path';
import { buildServers } from './lib/build.js';
import { parseBenchArgs, type BenchArgs } from './lib/cli.js';
import { GENERATOR_CPU, pinGenerator } from './lib/cpu-pinning.js';
import { runKnobs } from './lib/knobs.js';
import { describeMachine, loadAverage } from './lib/machine.js';
import { ROOT } from './lib/paths.js';
import { ProfileRecorder } from './lib/profile-recorder.js';
import { absoluteTable, ratioTable, type Ratios } from './lib/report.js';
import { redisClusterTables } from './lib/report-rediscluster.js';
import type { BenchContext, Scenario } from './lib/scenario.js';
import { ServerFleet } from './lib/server-fleet.js';
import { SCENARIOS } from './scenarios/index.js';

const RESULTS_DIR = join(ROOT, 'bench', 'results');

function selectScenarios(only: string[] | null): readonly Scenario[] {
  if (!only) return SCENARIOS;
  const names = SCENARIOS.map((s) => s.name);
  for (const name of only) if (!names.includes(name)) throw new Error(`unknown scenario ${name}; pick from ${names.join(', ')}`);
  return SCENARIOS.filter((s) => only.includes(s.name));
}

async function main(argv: string[], args: BenchArgs, scenarios: readonly Scenario[], fleet: ServerFleet, profiler: ProfileRecorder | null): Promise<void> {
  const started = Date.now();
  const stamp = new Date().toISOString().slice(0, 10);
  const notes: string[] = [];
  const ctx: BenchContext = {
    knobs: runKnobs(args.quick, args),
    fleet,
    profiler,
    log: (msg) => console.log(`[${((Date.now() - started) / 1000).toFixed(0).padStart(4)} s] ${msg}`),
    note: (msg) => notes.push(msg),
  };
  const { knobs, log } = ctx;

  if (!pinGenerator()) ctx.note(`could not pin the generator to CPU ${GENERATOR_CPU}`);
  if (fleet.runtime === 'build') {
    log('compiling both servers (tsc for ours, esbuild for the baseline) into bench/.build');
    await buildServers();
  }
  const machine = { ...describeMachine(), serversRunAs: fleet.runtime === 'tsx' ? 'tsx (development loader)' : 'compiled (bench/.build: tsc for ours, esbuild for bare)' };
  log(`benchmark (${args.quick ? 'quick' : 'full'}), ${knobs.reps} repetitions, windows ${knobs.window.warmupMs}+${knobs.window.measureMs} ms; ${machine.cpus} × ${machine.cpuModel}; ${machine.pinning}`);

  const ratios: Ratios = {};
  const absolute: Record<string, unknown> = {};
  for (const scenario of scenarios) {
    const t0 = Date.now();
    try {
      const result = await scenario.run(ctx);
      Object.assign(ratios, result.ratios);
      Object.assign(absolute, result.absolute);
      log(`${scenario.name}: done in ${Math.round((Date.now() - t0) / 1000)} s`);
    } catch (err) {
      // One failed scenario must not cost the figures of the others.
      const msg = `${scenario.name} failed: ${(err as Error).stack ?? err}`;
      ctx.note(msg.split('\n').slice(0, 3).join(' '));
      console.error(msg);
    }
  }

  let profiles: Record<string, unknown> | undefined;
  if (profiler) {
    const summary = profiler.summarize(ctx.note);
    profiles = summary.profiles;
    if (summary.markdown) {
      const file = join(RESULTS_DIR, `profile-${stamp}.md`);
      writeFileSync(file, summary.markdown);
      log(`profiles: ${file}`);
    }
  }

  const out = args.out ?? join(RESULTS_DIR, `${stamp}.json`);
  const doc = {
    date: new Date().toISOString(),
    mode: args.quick ? 'quick' : 'full',
    command: `npm run bench --${argv.length ? ' ' + argv.join(' ') : ''}`,
    elapsedSec: Math.round((Date.now() - started) / 1000),
    machine: { ...machine, loadAvgAtEnd: loadAverage() },
    knobs,
    ratios,
    absolute,
    ...(profiles ? { profiles } : {}),
    notes,
  };
  mkdirSync(dirname(out), { recursive: true });
  writeFileSync(out, JSON.stringify(doc, null, 2) + '\n');
  const tables = [ratioTable(ratios), absoluteTable(absolute), redisClusterTables(absolute)].filter(Boolean);
  console.log(`\n${tables.join('\n\n')}\n`);
  if (notes.length) console.log(`notes:\n- ${notes.join('\n- ')}\n`);
  log(`results: ${out}`);
}

const argv = process.argv.slice(2);
let args: BenchArgs;
let scenarios: readonly Scenario[];
try {
  args = parseBenchArgs(argv);
  scenarios = selectScenarios(args.only);
} catch (err) {
  console.error(`${(err as Error).message}\n(npm run bench -- --help lists the flags)`);
  process.exit(2);
}
if (args.help) {
  console.log(readFileSync(new URL(import.meta.url), 'utf8').split('*/')[0]);
  process.exit(0);
}
const fleet = new ServerFleet(args.tsx ? 'tsx' : 'build');
const profiler = args.profile ? new ProfileRecorder() : null;
// Nothing outlives the benchmark, even when it fails or is interrupted.
process.once('exit', () => {
  fleet.killAll();
  profiler?.dispose();
});
process.once('SIGINT', () => process.exit(130));
main(argv, args, scenarios, fleet, profiler)
  .catch((err: unknown) => {
    console.error(err);
    process.exitCode = 1;
  })
  .finally(() => {
    fleet.killAll();
    // Sockets of the generator may still be closing: do not wait for them.
    setTimeout(() => process.exit(), 100).unref();
  });
