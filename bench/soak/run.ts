/**
 * The soak: two nodes of our server over one redis-server (AOF, `appendfsync always`), steady
 * chat from real socket.io-client sockets in several rooms (every send retried with its
 * clientMsgId until acked), WebRTC signaling in calls, and churn (leave/rejoin, reconnects,
 * clients that come, send once and go), while faults rotate: Redis SIGSTOP for 4 s, Redis
 * SIGKILL and restart on its AOF, node b SIGKILL and restart, half the clients' transports
 * cut. Then faults stop, traffic stops, the queue drains, and the run is judged:
 *   - heap slope of node a after warm-up < 1 MB/min (two forced GCs per sample; node a is
 *     never killed; node b's processes are reported per lifetime)
 *   - RSS of node a flat: last-third median ≤ 1.10 × first-third median (verdict.ts says why)
 *   - queue length, pending entries and dead letters back to their baseline
 *   - every acked message stored exactly once (REST history), seqs without gaps
 *   - no presence, call peers, connection slots or open sockets left once the clients have gone
 * Exit code 1 when a criterion fails. Loopback only, every phase bounded; not part of npm test.
 *
 *   npm run soak                    5 minutes (warm-up 1 min, a fault every 30 s)
 *   npm run soak -- --quick         1 minute (warm-up 20 s, a fault every 10 s)
 *   npm run soak -- --minutes N     N minutes (warm-up: a fifth, at least 20 s)
 *   npm run soak -- --warmup SEC    --period SEC (between faults)   --rooms N (default 6)
 *   npm run soak -- --tsx           run the servers through tsx instead of compiled
 *   npm run soak -- --out FILE      write the results there (default bench/results/soak-<date>.json)
 */
import { mkdirSync, readFileSync, writeFileSync } from 'node:fs';
import { dirname, join } from 'node:path';
import { buildServers } from '../lib/build.js';
import { describeMachine, loadAverage } from '../lib/machine.js';
import { ROOT } from '../lib/paths.js';
import { BenchRedis } from '../lib/redis.js';
import { ServerFleet } from '../lib/server-fleet.js';
import { judge } from './judge.js';
import { parseSoakArgs, type SoakArgs } from './soak-args.js';
import { runSoak, SHAPE } from './soak.js';
import { table } from './verdict.js';

async function main(argv: string[], args: SoakArgs, fleet: ServerFleet): Promise<boolean> {
  const started = Date.now();
  const log = (msg: string) => console.log(`[${((Date.now() - started) / 1000).toFixed(0).padStart(4)} s] ${msg}`);
  if (!BenchRedis.available()) throw new Error('the soak needs redis-server on PATH');
  if (fleet.runtime === 'build') {
    log('compiling the server (tsc) into bench/.build');
    await buildServers();
  }
  log(`soak: ${args.durationSec} s of traffic and faults, warm-up ${args.warmupSec} s, a fault every ${args.faultPeriodSec} s`);
  const run = await runSoak(args, fleet, log);
  const { criteria, figures } = judge(run, args);
  const out = args.out ?? join(ROOT, 'bench', 'results', `soak-${new Date().toISOString().slice(0, 10)}.json`);
  const doc = {
    date: new Date().toISOString(),
    command: `npm run soak --${argv.length ? ' ' + argv.join(' ') : ''}`,
    elapsedSec: Math.round((Date.now() - started) / 1000),
    machine: { ...describeMachine(), serversRunAs: fleet.runtime, loadAvgAtEnd: loadAverage() },
    args,
    shape: SHAPE,
    passed: criteria.every((c) => c.ok),
    criteria,
    ...figures,
  };
  mkdirSync(dirname(out), { recursive: true });
  writeFileSync(out, JSON.stringify(doc, null, 2) + '\n');
  console.log(`\n${table(criteria)}\n`);
  for (const f of run.faults) console.log(`- ${f.at} s ${f.name}: ${f.tookMs} ms, acks back after ${f.acksBackMs ?? '—'} ms${f.detail ? ` (${f.detail})` : ''}`);
  log(`results: ${out}`);
  return doc.passed;
}

const argv = process.argv.slice(2);
let args: SoakArgs;
try {
  args = parseSoakArgs(argv);
} catch (err) {
  console.error(`${(err as Error).message}\n(npm run soak -- --help lists the flags)`);
  process.exit(2);
}
if (args.help) {
  console.log(readFileSync(new URL(import.meta.url), 'utf8').split('*/')[0]);
  process.exit(0);
}
const fleet = new ServerFleet(args.tsx ? 'tsx' : 'build');
// Nothing outlives the soak, even when it fails or is interrupted.
process.once('exit', () => fleet.killAll());
process.once('SIGINT', () => process.exit(130));
main(argv, args, fleet)
  .then((passed) => {
    process.exitCode = passed ? 0 : 1;
  })
  .catch((err: unknown) => {
    console.error(err);
    process.exitCode = 1;
  })
  .finally(() => {
    fleet.killAll();
    // Client sockets may still be closing: do not wait for them.
    setTimeout(() => process.exit(), 100).unref();
  });
