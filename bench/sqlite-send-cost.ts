/**
 * What a plain send costs in rooms that already hold many messages, and what search adds to
 * it: appends/s through SqliteStore.append (the path chat:send takes in embedded mode) at one
 * and at 20 messages per event-loop turn, after every room was filled and, where the store
 * can search, searched once (so each room's search progress row exists, as in a room people
 * search). CPU is the whole process (request thread, writer thread, checkpointer). It also
 * times each room's first search, which indexes the room's backlog.
 *
 *   node --import tsx bench/sqlite-send-cost.ts [--rooms 10] [--prefill 20000] [--appends 20000]
 *   node --import tsx bench/sqlite-send-cost.ts --baseline <checkout> [--runs 3] [...]
 *
 * --skip-search: no search first (no room indexed: what a send costs where nobody searches).
 * With --baseline, the runs alternate between that checkout's src/ (e.g. `git archive main`
 * unpacked, node_modules linked) and this one's, each in a fresh process and data directory,
 * and the medians and spreads of both are printed. Texts are ~220 characters of words drawn
 * from a vocabulary of 5,000, time-ordered ids and a clientMsgId each, as the server makes them.
 */
import Database from 'better-sqlite3';
import { spawnSync } from 'node:child_process';
import { mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join, resolve } from 'node:path';
import { fileURLToPath, pathToFileURL } from 'node:url';
import { parseArgs } from 'node:util';

const { values: opts } = parseArgs({
  options: {
    rooms: { type: 'string', default: '10' },
    prefill: { type: 'string', default: '20000' },
    appends: { type: 'string', default: '20000' },
    baseline: { type: 'string' },
    runs: { type: 'string', default: '3' },
    tree: { type: 'string' },
    json: { type: 'boolean', default: false },
    'skip-search': { type: 'boolean', default: false },
  },
});
const BATCHES = [1, 20];
const here = resolve(fileURLToPath(import.meta.url), '../..');

interface RunResult {
  /** Per batch size: appends per second (wall) and µs of process CPU per append. */
  appends: Record<number, { perSecond: number; cpuUs: number }>;
  /** Each room's first search (indexing its backlog), ms; empty when the store cannot search. */
  firstSearchMs: number[];
  /** A second search of each room, nothing left to index, ms. */
  nextSearchMs: number[];
}

if (opts.baseline) compare(resolve(opts.baseline), Number(opts.runs));
else {
  const result = await run(opts.tree ? resolve(opts.tree) : here);
  console.log(opts.json ? JSON.stringify(result) : result);
}

async function run(tree: string): Promise<RunResult> {
  const { SqliteStore } = (await import(pathToFileURL(join(tree, 'src/infra/sqlite/sqlite-store.ts')).href)) as typeof import('../src/infra/sqlite/sqlite-store.js');
  const { timeOrderedId } = (await import(pathToFileURL(join(tree, 'src/domain/time-ordered-id.ts')).href)) as typeof import('../src/domain/time-ordered-id.js');
  const dir = mkdtempSync(join(tmpdir(), 'vcs-send-cost-'));
  const store = new SqliteStore({ dataDir: dir });
  const [roomCount, prefill, appends] = [Number(opts.rooms), Number(opts.prefill), Number(opts.appends)];
  const now = () => new Date().toISOString();
  const rooms: string[] = [];
  for (let i = 0; i < roomCount; i++) rooms.push((await store.createRoom({ id: timeOrderedId(), name: 'r', isPrivate: false, maxParticipants: 8, createdBy: 'u', createdAt: now() })).id);
  const words = wordsOf(5000);
  let n = 0;
  const message = (roomId: string) => {
    n++;
    return { id: timeOrderedId(), roomId, senderId: `guest_${n % 200}`, senderName: 'bench', text: sentence(words, n), clientMsgId: `c${n}`, createdAt: now() };
  };
  const sendAll = (list: string[]) => Promise.all(list.map((roomId) => store.append(message(roomId))));
  for (const roomId of rooms) for (let i = 0; i < prefill; i += 500) await sendAll(Array.from({ length: Math.min(500, prefill - i) }, () => roomId));

  const result: RunResult = { appends: {}, firstSearchMs: [], nextSearchMs: [] };
  const search = (store as { searchMessages?: (roomId: string, q: string, limit: number) => Promise<unknown> }).searchMessages?.bind(store);
  if (search && !opts['skip-search']) {
    for (const [into, roomId] of [...rooms.map((r) => [result.firstSearchMs, r] as const), ...rooms.map((r) => [result.nextSearchMs, r] as const)]) {
      const t0 = performance.now();
      await search(roomId, `${words[1]} ${words[2]}`, 20);
      into.push(Number((performance.now() - t0).toFixed(1)));
    }
  }
  // Whatever the filling and indexing left in the WAL is copied now, not by the background
  // checkpointer while appends are measured.
  const db = new Database(join(dir, 'chat.db'));
  db.pragma('wal_checkpoint(TRUNCATE)');
  db.close();
  const roomAt = (i: number) => rooms[i % rooms.length]!;
  for (let i = 0; i < 2000; i += 20) await sendAll(Array.from({ length: 20 }, (_, j) => roomAt(i + j)));
  for (const batch of appends > 0 ? BATCHES : []) {
    const cpu0 = process.cpuUsage();
    const t0 = performance.now();
    for (let i = 0; i < appends; i += batch) await sendAll(Array.from({ length: batch }, (_, j) => roomAt(i + j)));
    const wall = performance.now() - t0;
    const cpu = process.cpuUsage(cpu0);
    result.appends[batch] = { perSecond: Math.round((appends * 1000) / wall), cpuUs: Number(((cpu.user + cpu.system) / appends).toFixed(1)) };
  }
  await store.close();
  rmSync(dir, { recursive: true, force: true });
  return result;
}

/** Alternates fresh processes of both trees (baseline first on even runs) and prints medians and spreads. */
function compare(baseline: string, runs: number): void {
  const sides = { baseline, current: here } as const;
  const results: Record<keyof typeof sides, RunResult[]> = { baseline: [], current: [] };
  const args = ['--rooms', opts.rooms!, '--prefill', opts.prefill!, '--appends', opts.appends!, '--json', ...(opts['skip-search'] ? ['--skip-search'] : [])];
  for (let r = 0; r < runs; r++) {
    for (const side of (r % 2 === 0 ? ['baseline', 'current'] : ['current', 'baseline']) as (keyof typeof sides)[]) {
      const child = spawnSync(process.execPath, ['--import', 'tsx', fileURLToPath(import.meta.url), '--tree', sides[side], ...args], { cwd: here, encoding: 'utf8' });
      if (child.status !== 0) throw new Error(`${side} run failed: ${child.stderr}`);
      const result = JSON.parse(child.stdout.trim().split('\n').at(-1)!) as RunResult;
      results[side].push(result);
      console.error(`run ${r + 1} ${side}: ${JSON.stringify(result.appends)}`);
    }
  }
  const spread = (xs: number[]) => {
    const s = [...xs].sort((a, b) => a - b);
    return `${s[Math.floor(s.length / 2)]} (${s[0]}–${s.at(-1)})`;
  };
  const searched = opts['skip-search'] ? 'not searched' : 'each searched once';
  console.log(`${opts.rooms} rooms of ${opts.prefill} messages (${searched}), ${opts.appends} appends per batch size, ${runs} runs each; median (min–max)\n`);
  console.log('| batch | appends/s baseline | appends/s current | µs CPU/append baseline | µs CPU/append current |\n| ---: | ---: | ---: | ---: | ---: |');
  for (const batch of BATCHES) {
    const of = (side: keyof typeof sides, key: 'perSecond' | 'cpuUs') => spread(results[side].map((x) => x.appends[batch]![key]));
    console.log(`| ${batch} | ${of('baseline', 'perSecond')} | ${of('current', 'perSecond')} | ${of('baseline', 'cpuUs')} | ${of('current', 'cpuUs')} |`);
  }
  const searches = results.current.flatMap((x) => x.firstSearchMs);
  if (searches.length) console.log(`\nfirst search of a room (current): ${spread(searches)} ms; the next: ${spread(results.current.flatMap((x) => x.nextSearchMs))} ms`);
}

/** A small seeded generator (mulberry32): the same words and texts every run. */
function random(seed: number): () => number {
  return () => {
    seed = (seed + 0x6d2b79f5) | 0;
    let t = Math.imul(seed ^ (seed >>> 15), 1 | seed);
    t = (t + Math.imul(t ^ (t >>> 7), 61 | t)) ^ t;
    return ((t ^ (t >>> 14)) >>> 0) / 2 ** 32;
  };
}

/** `count` distinct pseudo-words of 3–9 letters. */
function wordsOf(count: number): string[] {
  const next = random(42);
  const out = new Set<string>();
  while (out.size < count) out.add(Array.from({ length: 3 + Math.floor(next() * 7) }, () => String.fromCharCode(97 + Math.floor(next() * 26))).join(''));
  return [...out];
}

/** About 220 characters of words, skewed towards the first ones (as real word use is). */
function sentence(words: string[], n: number): string {
  const next = random(n);
  const parts: string[] = [];
  for (let length = 0; length < 220; ) {
    const word = words[Math.floor(next() ** 3 * words.length)]!;
    parts.push(word);
    length += word.length + 1;
  }
  return parts.join(' ');
}
