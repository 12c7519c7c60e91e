/**
 * The benchmark: our server against bare Socket.IO (same version, transport settings and
 * adapter), each scenario alternating the two in the same run, several times; medians and
 * ratios (ours / bare) go to bench/results/<date>.json and a table on stdout.
 *
 *   npm run bench                   full run (5 repetitions, 5 s warm-up, 15 s windows; ~45 min)
 *   npm run bench -- --quick        under ten minutes (3 repetitions, short windows)
 *   npm run bench -- --only relay,chat
 *   npm run bench -- --profile      also: CPU profiles (node --cpu-prof) of both servers
 *                                   under the relay and chat loads, summarised in the results
 *   npm run bench -- --tsx          run the servers through tsx instead of compiled
 *
 * Scenarios: relay, chat, idle, connect, cross, drain, storm. Servers are child processes
 * pinned to CPU 0, this generator to CPU 1 (Redis and two-node runs are not pinned). Loopback
 * only; every phase is bounded in time. See docs/benchmarks.md.
 */
import { execFileSync, spawnSync } from 'node:child_process';
import { mkdirSync, mkdtempSync, readFileSync, rmSync, writeFileSync } from 'node:fs';
import { cpus, loadavg, release, totalmem, tmpdir } from 'node:os';
import { join } from 'node:path';
import { formatSummary, mainProfile, summarize as summarizeProfile, type ProfileSummary } from './cpuprofile-summary.js';
import type { RunResult } from './rigs/load-window.js';
import { BenchRedis } from './lib/redis.js';
import { buildServers } from './lib/build.js';
import { currentRuntime, hasTaskset, killAllServers, ROOT, ServerProc, useRuntime, type ServerKind } from './lib/server-proc.js';
import { guests, rooms } from './lib/setup.js';
import { median, ratio, round, summarize } from './lib/stats.js';
import { absoluteTable, ratioTable } from './lib/report.js';
import { connectStorm, type ConnectResult } from './rigs/connect-storm.js';
import { CrossNodeRigs } from './rigs/cross-node-rigs.js';
import { drainRun, type DrainResult } from './rigs/drain-run.js';
import { FanoutRig } from './rigs/fanout-rig.js';
import { idleMemory, type IdleResult } from './rigs/idle-memory.js';
import { RelayRig } from './rigs/relay-rig.js';
import { reconnectStorm, type StormResult } from './rigs/reconnect-storm.js';

const ALL = ['relay', 'chat', 'idle', 'connect', 'cross', 'drain', 'storm'] as const;
type Scenario = (typeof ALL)[number];

const argv = process.argv.slice(2);
const flag = (name: string) => argv.includes(`--${name}`);
const option = (name: string) => {
  const i = argv.findIndex((a) => a === `--${name}` || a.startsWith(`--${name}=`));
  if (i < 0) return undefined;
  return argv[i]!.includes('=') ? argv[i]!.split('=')[1] : argv[i + 1];
};
if (flag('help')) {
  console.log(readFileSync(new URL(import.meta.url), 'utf8').split('*/')[0]);
  process.exit(0);
}
const quick = flag('quick');
const only = new Set<Scenario>((option('only')?.split(',') as Scenario[] | undefined) ?? ALL);
for (const s of only) if (!ALL.includes(s)) throw new Error(`unknown scenario ${s}; pick from ${ALL.join(', ')}`);

/** Every knob of both modes, recorded in the results. */
const K = quick
  ? {
      reps: 3,
      warmupMs: 2000,
      measureMs: 4000,
      relay: { pairs: 50, window: 4 },
      chat4: { rooms: 50, members: 4, sendersPerRoom: 4, window: 2 },
      chat50: { rooms: 4, members: 50, sendersPerRoom: 5, window: 4 },
      idle: { reps: 1, counts: [1000, 2000, 3500, 5000], heartbeatMs: 0 },
      connect: { count: 2000, concurrency: 200 },
      cross: { rooms: 50, pairs: 50, chatRate: 1000, relayRate: 2000, warmupMs: 1000, measureMs: 4000 },
      drain: { count: 1000 },
      storm: { reps: 1, rooms: 250, ratePerSec: 200, beforeKillMs: 3000, afterKillMs: 6000 },
    }
  : {
      reps: 5,
      warmupMs: 5000,
      measureMs: 15_000,
      relay: { pairs: 50, window: 4 },
      chat4: { rooms: 50, members: 4, sendersPerRoom: 4, window: 2 },
      chat50: { rooms: 4, members: 50, sendersPerRoom: 5, window: 4 },
      idle: { reps: 2, counts: [1000, 5000, 10_000, 15_000, 18_000], heartbeatMs: 30_000 },
      connect: { count: 5000, concurrency: 200 },
      cross: { rooms: 50, pairs: 50, chatRate: 1000, relayRate: 2000, warmupMs: 3000, measureMs: 10_000 },
      drain: { count: 1000 },
      storm: { reps: 2, rooms: 1250, ratePerSec: 500, beforeKillMs: 5000, afterKillMs: 10_000 },
    };
const reps = Number(option('reps') ?? K.reps);
const window = { warmupMs: Number(option('warmup') ?? K.warmupMs), measureMs: Number(option('measure') ?? K.measureMs) };
const profile = flag('profile');

const SERVER_CPU = 0;
const GENERATOR_CPU = 1;
const started = Date.now();
const notes: string[] = [];
const log = (msg: string) => console.log(`[${((Date.now() - started) / 1000).toFixed(0).padStart(4)} s] ${msg}`);

/** ours-first on odd repetitions: drift over a run hits both servers alike. */
const order = (rep: number): ServerKind[] => (rep % 2 === 0 ? ['bare', 'ours'] : ['ours', 'bare']);

function pinSelf(): void {
  if (!hasTaskset || cpus().length < 2) return;
  try {
    execFileSync('taskset', ['-a', '-p', '-c', String(GENERATOR_CPU), String(process.pid)], { stdio: 'ignore' });
  } catch {
    notes.push('could not pin the generator to CPU 1');
  }
}

function machine() {
  const version = (pkg: string) => {
    try {
      return (JSON.parse(readFileSync(join(ROOT, 'node_modules', pkg, 'package.json'), 'utf8')) as { version: string }).version;
    } catch {
      return null;
    }
  };
  const sh = (cmd: string) => spawnSync('sh', ['-c', cmd], { encoding: 'utf8' }).stdout?.trim() || null;
  return {
    cpuModel: cpus()[0]?.model ?? 'unknown',
    cpus: cpus().length,
    memGiB: round(totalmem() / 2 ** 30, 1),
    kernel: release(),
    node: process.version,
    socketIo: version('socket.io'),
    ws: version('ws'),
    redisStreamsAdapter: version('@socket.io/redis-streams-adapter'),
    redisServer: sh('redis-server --version')?.match(/v=([\d.]+)/)?.[1] ?? null,
    nofile: Number(sh('ulimit -n')),
    loadAvgAtStart: loadavg().map((x) => round(x, 2)),
    pinning: hasTaskset && cpus().length >= 2 ? `servers on CPU ${SERVER_CPU}, generator on CPU ${GENERATOR_CPU} (two-node runs and Redis unpinned)` : 'none',
  };
}

// ---------------------------------------------------------------- result shaping

type PerKind<T> = Record<ServerKind, T[]>;
const perKind = <T>(): PerKind<T> => ({ bare: [], ours: [] });

/** The figures of one load scenario, per server: medians over the repetitions. */
function loadFigures(sat: RunResult[], fixed: RunResult[]) {
  return {
    saturation: summarize(sat.map((r) => r.rate), 0),
    cpuUsPerMsg: round(median(sat.map((r) => r.serverCpuUsPerMsg)), 2),
    serverCpuAtSaturation: round(median(sat.map((r) => r.serverCpu)), 2),
    generatorCpuAtSaturation: round(median(sat.map((r) => r.generatorCpu)), 2),
    at50pct: {
      rate: round(median(fixed.map((r) => r.rate)), 0),
      p50Ms: round(median(fixed.map((r) => r.latencyMs.p50)), 3),
      p99Ms: round(median(fixed.map((r) => r.latencyMs.p99)), 3),
      p999Ms: round(median(fixed.map((r) => r.latencyMs.p999)), 3),
      eventLoopDelayP99Ms: round(median(fixed.map((r) => r.eventLoopDelayMs.p99)), 3),
      serverCpu: round(median(fixed.map((r) => r.serverCpu)), 3),
    },
    lost: [...sat, ...fixed].reduce((s, r) => s + r.lost, 0),
    errors: [...sat, ...fixed].reduce((s, r) => s + r.errors, 0),
  };
}

const results: { absolute: Record<string, unknown>; ratios: Record<string, number | null>; profiles: Record<string, unknown> } = {
  absolute: {},
  ratios: {},
  profiles: {},
};

const profileDir = mkdtempSync(join(tmpdir(), 'vcs-bench-prof-'));
const profiled: { name: string; kind: ServerKind; dir: string; windowUs: [number, number] }[] = [];

async function withServers<T>(fn: (servers: Record<ServerKind, ServerProc>) => Promise<T>, opts: { profileAs?: string } = {}): Promise<T> {
  const dirs: Partial<Record<ServerKind, string>> = {};
  const start = (kind: ServerKind) => {
    if (opts.profileAs) dirs[kind] = mkdtempSync(join(profileDir, `${opts.profileAs}-${kind}-`));
    return ServerProc.start({ kind, cpu: SERVER_CPU, ...(dirs[kind] ? { cpuProfDir: dirs[kind] } : {}) });
  };
  const servers = { bare: await start('bare'), ours: await start('ours') };
  try {
    return await fn(servers);
  } finally {
    await Promise.all([servers.bare.stop(), servers.ours.stop()]);
  }
}

// ---------------------------------------------------------------- scenarios

/** S1 and S2: saturation (closed loop), then latency at 50 % of bare's saturation (open loop). */
async function loadScenario(
  name: string,
  makeRig: (s: ServerProc) => Promise<RelayRig | FanoutRig>,
  windowSize: number,
): Promise<{ bare: ReturnType<typeof loadFigures>; ours: ReturnType<typeof loadFigures> }> {
  const sat = perKind<RunResult>();
  const fixed = perKind<RunResult>();
  for (let rep = 0; rep < reps; rep++) {
    const profileThis = profile && rep === reps - 1;
    await withServers(
      async (servers) => {
        const rigs = { bare: await makeRig(servers.bare), ours: await makeRig(servers.ours) };
        try {
          const satThisRep: Partial<Record<ServerKind, RunResult>> = {};
          for (const kind of order(rep)) {
            const r = await rigs[kind].saturation({ ...window, window: windowSize });
            satThisRep[kind] = r;
            sat[kind].push(r);
            log(`${name} ${kind} rep ${rep + 1}/${reps}: saturation ${r.rate}/s, ${r.serverCpuUsPerMsg} µs CPU/msg, server ${r.serverCpu}, generator ${r.generatorCpu}`);
            if (profileThis) profiled.push({ name, kind, dir: servers[kind].options.cpuProfDir!, windowUs: r.windowUs });
          }
          const rate = Math.max(100, Math.round((satThisRep.bare!.sentRate * 0.5) / 10) * 10);
          for (const kind of order(rep)) {
            const r = await rigs[kind].fixedRate({ ...window, rate });
            fixed[kind].push(r);
            log(
              `${name} ${kind} rep ${rep + 1}/${reps}: ${rate} sends/s: p50 ${r.latencyMs.p50} ms, p99 ${r.latencyMs.p99} ms, loop delay p99 ${r.eventLoopDelayMs.p99} ms, CPU ${r.serverCpu}, heap ${r.heapMB} MB, GC ${r.gc.major} major ${r.gc.majorMs} ms / ${r.gc.minor} minor ${r.gc.minorMs} ms (max ${r.gc.maxMs} ms)`,
            );
          }
        } finally {
          rigs.bare.close();
          rigs.ours.close();
        }
      },
      profileThis ? { profileAs: name } : {},
    );
  }
  return { bare: loadFigures(sat.bare, fixed.bare), ours: loadFigures(sat.ours, fixed.ours) };
}

async function relay(): Promise<void> {
  const r = await loadScenario('relay', (s) => RelayRig.create(s, K.relay.pairs), K.relay.window);
  results.absolute.relay = { shape: K.relay, ...r };
  results.ratios.relayThroughput = ratio(r.ours.saturation.median, r.bare.saturation.median);
  results.ratios.relayCpuPerMsg = ratio(r.ours.cpuUsPerMsg, r.bare.cpuUsPerMsg);
  results.ratios.relayP99At50 = ratio(r.ours.at50pct.p99Ms, r.bare.at50pct.p99Ms);
  results.ratios.relayP50DeltaMsAt50 = round(r.ours.at50pct.p50Ms - r.bare.at50pct.p50Ms, 3);
  results.ratios.eventLoopDelayP99 = ratio(r.ours.at50pct.eventLoopDelayP99Ms, r.bare.at50pct.eventLoopDelayP99Ms);
}

async function chat(): Promise<void> {
  const c4 = await loadScenario('chat4', (s) => FanoutRig.create([s], K.chat4), K.chat4.window);
  const c50 = await loadScenario('chat50', (s) => FanoutRig.create([s], K.chat50), K.chat50.window);
  results.absolute.chat4 = { shape: K.chat4, ...c4 };
  results.absolute.chat50 = { shape: K.chat50, ...c50 };
  const r4 = ratio(c4.ours.saturation.median, c4.bare.saturation.median);
  const r50 = ratio(c50.ours.saturation.median, c50.bare.saturation.median);
  results.ratios.chatFanoutThroughput = Math.min(r4, r50);
  results.ratios.chatFanout4Throughput = r4;
  results.ratios.chatFanout50Throughput = r50;
  results.ratios.chatP99At50 = ratio(c4.ours.at50pct.p99Ms, c4.bare.at50pct.p99Ms);
  results.ratios.chatEventLoopDelayP99 = ratio(c4.ours.at50pct.eventLoopDelayP99Ms, c4.bare.at50pct.eventLoopDelayP99Ms);
}

async function idle(): Promise<void> {
  const runs = perKind<IdleResult>();
  for (let rep = 0; rep < K.idle.reps; rep++) {
    for (const kind of order(rep)) {
      const server = await ServerProc.start({ kind, cpu: SERVER_CPU });
      try {
        const r = await idleMemory(server, K.idle.counts, { heartbeatMs: K.idle.heartbeatMs });
        runs[kind].push(r);
        log(`idle ${kind} rep ${rep + 1}/${K.idle.reps}: ${r.rssKBPerConn} KB RSS/conn, ${r.heapKBPerConn} KB heap/conn (r² ${r.r2}), held ${r.held}, heartbeat CPU ${r.heartbeatCpu ?? '-'}`);
      } finally {
        await server.stop();
      }
    }
  }
  const fig = (xs: IdleResult[]) => ({
    rssKBPerConn: summarize(xs.map((r) => r.rssKBPerConn), 2),
    heapKBPerConn: summarize(xs.map((r) => r.heapKBPerConn), 2),
    held: Math.min(...xs.map((r) => r.held)),
    connectErrors: xs.reduce((s, r) => s + r.connectErrors, 0),
    heartbeatCpuAtTop: xs[0]?.heartbeatCpu === null ? null : round(median(xs.map((r) => r.heartbeatCpu ?? NaN)), 4),
    points: xs.at(-1)?.points,
  });
  const bare = fig(runs.bare);
  const ours = fig(runs.ours);
  results.absolute.idle = { counts: K.idle.counts, bare, ours };
  results.ratios.memoryPerConnection = ratio(ours.rssKBPerConn.median, bare.rssKBPerConn.median);
  results.ratios.heapPerConnection = ratio(ours.heapKBPerConn.median, bare.heapKBPerConn.median);
  results.ratios.heartbeatCpu = bare.heartbeatCpuAtTop && ours.heartbeatCpuAtTop ? ratio(ours.heartbeatCpuAtTop, bare.heartbeatCpuAtTop) : null;
}

async function connect(): Promise<void> {
  const runs = perKind<ConnectResult>();
  await withServers(
    async (servers) => {
    const setup = {
      bare: { users: await guests(servers.bare, 100), rooms: await rooms(servers.bare, { token: 'x', id: 'x', name: 'x' }, Math.ceil(K.connect.count / 4)) },
      ours: { users: await guests(servers.ours, 100), rooms: [] as string[] },
    };
    setup.ours.rooms = await rooms(servers.ours, setup.ours.users[0]!, Math.ceil(K.connect.count / 4));
    // Unrecorded warm-up storms: handshake rates here keep rising for the first ~8,000
    // connections (JIT), on both servers.
    for (let i = 0; i < 4; i++) for (const kind of ['bare', 'ours'] as const) await connectStorm(servers[kind], setup[kind].users, setup[kind].rooms, 2000, K.connect.concurrency);
    for (let rep = 0; rep < reps; rep++) {
      for (const kind of order(rep)) {
        const r = await connectStorm(servers[kind], setup[kind].users, setup[kind].rooms, K.connect.count, K.connect.concurrency);
        runs[kind].push(r);
        log(`connect ${kind} rep ${rep + 1}/${reps}: ${r.rate} conn/s, p99 ${r.connectMs.p99} ms, ${r.serverCpuUsPerConn} µs CPU/conn, generator ${r.generatorCpu}, errors ${r.errors}`);
        if (profile && rep === reps - 1) profiled.push({ name: 'connect', kind, dir: servers[kind].options.cpuProfDir!, windowUs: r.windowUs });
      }
    }
    },
    profile ? { profileAs: 'connect' } : {},
  );
  const fig = (xs: ConnectResult[]) => ({
    rate: summarize(xs.map((r) => r.rate), 0),
    p99Ms: round(median(xs.map((r) => r.connectMs.p99)), 1),
    cpuUsPerConn: round(median(xs.map((r) => r.serverCpuUsPerConn)), 1),
    generatorCpu: round(median(xs.map((r) => r.generatorCpu)), 2),
    errors: xs.reduce((s, r) => s + r.errors, 0),
  });
  const bare = fig(runs.bare);
  const ours = fig(runs.ours);
  results.absolute.connect = { count: K.connect.count, concurrency: K.connect.concurrency, bare, ours };
  results.ratios.connectRate = ratio(ours.rate.median, bare.rate.median);
}

async function cross(): Promise<void> {
  if (!BenchRedis.available()) {
    notes.push('cross: redis-server is not installed; skipped');
    results.ratios.crossNodePenalty = null;
    return;
  }
  const redis = new BenchRedis();
  await redis.start();
  const floor = redis.floor();
  log(`redis floor: ${JSON.stringify(floor)}`);
  const oursData = mkdtempSync(join(tmpdir(), 'vcs-bench-cluster-'));
  const nodes: ServerProc[] = [];
  const node = async (kind: ServerKind, id: string) => {
    const s = await ServerProc.start({ kind, cpu: null, redisUrl: redis.url, nodeId: id, ...(kind === 'ours' ? { dataDir: oursData } : {}) });
    nodes.push(s);
    return s;
  };
  type Layout = 'single' | 'cross';
  const runs: Record<ServerKind, Record<`${'chat' | 'relay'}-${Layout}`, RunResult[]>> = {
    bare: { 'chat-single': [], 'chat-cross': [], 'relay-single': [], 'relay-cross': [] },
    ours: { 'chat-single': [], 'chat-cross': [], 'relay-single': [], 'relay-cross': [] },
  };
  try {
    const rigs = {
      bare: await CrossNodeRigs.create(await node('bare', 'bare-a'), await node('bare', 'bare-b'), K.cross.rooms, K.cross.pairs),
      ours: await CrossNodeRigs.create(await node('ours', 'ours-a'), await node('ours', 'ours-b'), K.cross.rooms, K.cross.pairs),
    };
    const w = { warmupMs: K.cross.warmupMs, measureMs: K.cross.measureMs };
    try {
      for (let rep = 0; rep < reps; rep++) {
        for (const kind of order(rep)) {
          for (const layout of ['single', 'cross'] as const) {
            const c = await rigs[kind].chat(layout, { ...w, rate: K.cross.chatRate });
            runs[kind][`chat-${layout}`].push(c);
            const r = await rigs[kind].relay(layout, { ...w, rate: K.cross.relayRate });
            runs[kind][`relay-${layout}`].push(r);
            log(`cross ${kind} ${layout} rep ${rep + 1}/${reps}: chat p50 ${c.latencyMs.p50} / p99 ${c.latencyMs.p99} ms; relay p50 ${r.latencyMs.p50} / p99 ${r.latencyMs.p99} ms`);
          }
        }
      }
    } finally {
      rigs.bare.close();
      rigs.ours.close();
    }
  } finally {
    await Promise.all(nodes.map((n) => n.stop()));
    await redis.stop();
    rmSync(oursData, { recursive: true, force: true });
  }
  const lat = (xs: RunResult[]) => ({
    p50Ms: round(median(xs.map((r) => r.latencyMs.p50)), 3),
    p99Ms: round(median(xs.map((r) => r.latencyMs.p99)), 3),
    cpuUsPerMsg: round(median(xs.map((r) => r.serverCpuUsPerMsg)), 1),
    lost: xs.reduce((s, r) => s + r.lost, 0),
  });
  const fig = (kind: ServerKind) => {
    const f = {
      chatSingle: lat(runs[kind]['chat-single']),
      chatCross: lat(runs[kind]['chat-cross']),
      relaySingle: lat(runs[kind]['relay-single']),
      relayCross: lat(runs[kind]['relay-cross']),
    };
    return {
      ...f,
      chatPenaltyP50: round(f.chatCross.p50Ms / f.chatSingle.p50Ms, 3),
      chatPenaltyP99: round(f.chatCross.p99Ms / f.chatSingle.p99Ms, 3),
      relayPenaltyP50: round(f.relayCross.p50Ms / f.relaySingle.p50Ms, 3),
      relayPenaltyP99: round(f.relayCross.p99Ms / f.relaySingle.p99Ms, 3),
    };
  };
  const bare = fig('bare');
  const ours = fig('ours');
  results.absolute.crossNode = { chatRate: K.cross.chatRate, relayRate: K.cross.relayRate, redisFloor: floor, bare, ours };
  results.ratios.crossNodePenalty = ratio(ours.chatPenaltyP50, bare.chatPenaltyP50);
  results.ratios.crossNodePenaltyP99 = ratio(ours.chatPenaltyP99, bare.chatPenaltyP99);
  results.ratios.crossNodeRelayPenalty = ratio(ours.relayPenaltyP50, bare.relayPenaltyP50);
  results.ratios.crossNodeChatP50 = ratio(ours.chatCross.p50Ms, bare.chatCross.p50Ms);
}

async function drain(): Promise<void> {
  const runs = perKind<DrainResult>();
  await withServers(async (servers) => {
    const users = { bare: await guests(servers.bare, 8), ours: await guests(servers.ours, 8) };
    for (let rep = 0; rep < reps; rep++) {
      for (const kind of order(rep)) {
        const r = await drainRun(servers[kind], users[kind], K.drain.count, kind === 'ours');
        runs[kind].push(r);
        log(`drain ${kind} rep ${rep + 1}/${reps}: recovery ${r.csrMs} ms${r.csrRecovered ? '' : ' (not recovered)'}, lastSeq ${r.lastSeqMs ?? '-'} ms, live ${r.liveMs} ms`);
      }
    }
  });
  const fig = (xs: DrainResult[]) => ({
    recoveryReplayMs: round(median(xs.map((r) => r.csrMs)), 1),
    recovered: xs.every((r) => r.csrRecovered),
    lastSeqDrainMs: xs[0]?.lastSeqMs === null ? null : round(median(xs.map((r) => r.lastSeqMs ?? NaN)), 1),
    liveDeliveryMs: round(median(xs.map((r) => r.liveMs)), 1),
  });
  const bare = fig(runs.bare);
  const ours = fig(runs.ours);
  results.absolute.drain = { count: K.drain.count, bare, ours };
  results.ratios.queueDrain = ours.lastSeqDrainMs === null ? null : ratio(ours.lastSeqDrainMs, bare.recoveryReplayMs);
  results.ratios.recoveryReplay = ratio(ours.recoveryReplayMs, bare.recoveryReplayMs);
}

async function storm(): Promise<void> {
  const runs = perKind<StormResult>();
  for (let rep = 0; rep < K.storm.reps; rep++) {
    for (const kind of order(rep)) {
      const r = await reconnectStorm(kind, K.storm.rooms, { cpu: SERVER_CPU, ...K.storm });
      runs[kind].push(r);
      log(
        `storm ${kind} rep ${rep + 1}/${K.storm.reps}: ${r.clients} clients, restart ${r.restartMs} ms, back p50 ${r.reconnectMs.p50} / p99 ${r.reconnectMs.p99} ms after the kill; acked ${r.acked}, lost ${r.lost}, duplicates ${r.duplicates}, stragglers ${r.stragglers}`,
      );
    }
  }
  const fig = (xs: StormResult[]) => ({
    clients: xs[0]?.clients,
    restartMs: round(median(xs.map((r) => r.restartMs)), 0),
    reconnectP50Ms: round(median(xs.map((r) => r.reconnectMs.p50)), 0),
    reconnectP99Ms: round(median(xs.map((r) => r.reconnectMs.p99)), 0),
    afterReadyP99Ms: round(median(xs.map((r) => r.afterReadyMs.p99)), 0),
    acked: xs.reduce((s, r) => s + r.acked, 0),
    lost: xs.reduce((s, r) => s + r.lost, 0),
    duplicates: xs.reduce((s, r) => s + r.duplicates, 0),
    stragglers: xs.reduce((s, r) => s + r.stragglers, 0),
  });
  const bare = fig(runs.bare);
  const ours = fig(runs.ours);
  results.absolute.storm = { ...K.storm, bare, ours };
  results.ratios.reconnect99 = ratio(ours.reconnectP99Ms, bare.reconnectP99Ms);
  results.ratios.reconnect99AfterReady = ratio(ours.afterReadyP99Ms, bare.afterReadyP99Ms);
}

// ---------------------------------------------------------------- report

async function profiles(): Promise<void> {
  const lines: string[] = [];
  for (const p of profiled) {
    let summary: ProfileSummary;
    try {
      const file = mainProfile(p.dir);
      summary = summarizeProfile(JSON.parse(readFileSync(file, 'utf8')), 20, p.windowUs);
    } catch (err) {
      notes.push(`profile ${p.name}/${p.kind}: ${(err as Error).message}`);
      continue;
    }
    results.profiles[`${p.name}-${p.kind}`] = { top: summary.top.slice(0, 12), areas: summary.areas.slice(0, 10) };
    lines.push(formatSummary(summary, `${p.name}, ${p.kind} (measured window)`), '');
  }
  if (lines.length) {
    const out = join(ROOT, 'bench', 'results', `profile-${stamp}.md`);
    writeFileSync(out, lines.join('\n'));
    log(`profiles: ${out}`);
  }
}

const stamp = new Date().toISOString().slice(0, 10);

async function main(): Promise<void> {
  pinSelf();
  if (flag('tsx')) useRuntime('tsx');
  else {
    log('compiling both servers (tsc for ours, esbuild for the baseline) into bench/.build');
    await buildServers();
  }
  const info = { ...machine(), serversRunAs: currentRuntime() === 'tsx' ? 'tsx (development loader)' : 'compiled (bench/.build: tsc for ours, esbuild for bare)' };
  log(`benchmark (${quick ? 'quick' : 'full'}), ${reps} repetitions, windows ${window.warmupMs}+${window.measureMs} ms; ${info.cpus} × ${info.cpuModel}; ${info.pinning}`);
  const steps: [Scenario, () => Promise<void>][] = [
    ['relay', relay],
    ['chat', chat],
    ['idle', idle],
    ['connect', connect],
    ['cross', cross],
    ['drain', drain],
    ['storm', storm],
  ];
  for (const [name, step] of steps) {
    if (!only.has(name)) continue;
    const t0 = Date.now();
    try {
      await step();
      log(`${name}: done in ${Math.round((Date.now() - t0) / 1000)} s`);
    } catch (err) {
      const msg = `${name} failed: ${(err as Error).stack ?? err}`;
      notes.push(msg.split('\n').slice(0, 3).join(' '));
      console.error(msg);
    }
  }
  if (profile) await profiles();

  const out = option('out') ?? join(ROOT, 'bench', 'results', `${stamp}.json`);
  const doc = {
    date: new Date().toISOString(),
    mode: quick ? 'quick' : 'full',
    command: `npm run bench --${argv.length ? ' ' + argv.join(' ') : ''}`,
    elapsedSec: Math.round((Date.now() - started) / 1000),
    machine: { ...info, loadAvgAtEnd: loadavg().map((x) => round(x, 2)) },
    knobs: { ...K, reps, window },
    ratios: results.ratios,
    absolute: results.absolute,
    ...(profile ? { profiles: results.profiles } : {}),
    notes,
  };
  mkdirSync(join(ROOT, 'bench', 'results'), { recursive: true });
  writeFileSync(out, JSON.stringify(doc, null, 2) + '\n');
  console.log(`\n${ratioTable(results.ratios)}\n\n${absoluteTable(results.absolute)}\n`);
  if (notes.length) console.log(`notes:\n- ${notes.join('\n- ')}\n`);
  log(`results: ${out}`);
}

process.once('SIGINT', () => {
  killAllServers();
  process.exit(130);
});
main()
  .catch((err: unknown) => {
    console.error(err);
    process.exitCode = 1;
  })
  .finally(() => {
    rmSync(profileDir, { recursive: true, force: true });
    killAllServers();
    // Sockets of the generator may still be closing: do not wait for them.
    setTimeout(() => process.exit(), 100).unref();
  });
