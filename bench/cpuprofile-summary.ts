/**
 * Summarises a V8 .cpuprofile (from `node --cpu-prof`): the functions with the most self
 * time, and the share of time under each source area (ours, socket.io, ws, …).
 *
 *   node --import tsx bench/cpuprofile-summary.ts <file.cpuprofile | directory> [top=25]
 *
 * Given a directory, it reads the largest profile in it: the main thread's (the ESM loader
 * thread writes a small one of its own).
 */
import { readdirSync, readFileSync, statSync } from 'node:fs';
import { join } from 'node:path';
import { pathToFileURL } from 'node:url';

interface ProfileNode {
  id: number;
  callFrame: { functionName: string; url: string; lineNumber: number };
  hitCount?: number;
  children?: number[];
}

interface Profile {
  nodes: ProfileNode[];
  samples: number[];
  timeDeltas: number[];
  startTime: number;
  endTime: number;
}

export interface ProfileSummary {
  totalMs: number;
  idleShare: number;
  top: { fn: string; where: string; selfMs: number; share: number }[];
  areas: { area: string; selfMs: number; share: number }[];
}

export function area(url: string, fn: string): string {
  if (!url) return fn === '(garbage collector)' ? 'gc' : fn.startsWith('(') ? fn : 'native';
  const m = /node_modules\/((?:@[^/]+\/)?[^/]+)/.exec(url);
  if (m) return m[1]!;
  if (url.startsWith('node:')) return 'node core';
  if (url.includes('/src/')) return `ours: ${url.slice(url.indexOf('/src/') + 5).split('/').slice(0, -1).join('/') || 'src'}`;
  if (url.includes('/bench/')) return 'bench';
  return url;
}

/** `window`: [from, to] in µs of CLOCK_MONOTONIC (the profile's time base); samples outside are skipped. */
export function summarize(profile: Profile, top = 25, window?: [number, number]): ProfileSummary {
  const byId = new Map(profile.nodes.map((n) => [n.id, n]));
  const selfUs = new Map<number, number>();
  let t = profile.startTime;
  for (let i = 0; i < profile.samples.length; i++) {
    const delta = profile.timeDeltas[i] ?? 0;
    t += delta;
    if (window && (t < window[0] || t > window[1])) continue;
    const id = profile.samples[i]!;
    selfUs.set(id, (selfUs.get(id) ?? 0) + delta);
  }
  const fnTime = new Map<string, { fn: string; where: string; us: number }>();
  const areaTime = new Map<string, number>();
  let total = 0;
  let idle = 0;
  for (const [id, us] of selfUs) {
    const node = byId.get(id)!;
    const { functionName, url, lineNumber } = node.callFrame;
    total += us;
    if (functionName === '(idle)') {
      idle += us;
      continue;
    }
    const short = url ? url.replace(/^.*node_modules\//, '').replace(/^.*\/(src|bench)\//, '$1/') : '';
    const key = `${functionName}|${short}|${lineNumber}`;
    const entry = fnTime.get(key) ?? { fn: functionName || '(anonymous)', where: short ? `${short}:${lineNumber + 1}` : '', us: 0 };
    entry.us += us;
    fnTime.set(key, entry);
    const a = area(url, functionName);
    areaTime.set(a, (areaTime.get(a) ?? 0) + us);
  }
  const busy = total - idle;
  const pct = (us: number) => Math.round((us / busy) * 1000) / 10;
  return {
    totalMs: Math.round(total / 1000),
    idleShare: Math.round((idle / total) * 1000) / 1000,
    top: [...fnTime.values()]
      .sort((a, b) => b.us - a.us)
      .slice(0, top)
      .map((e) => ({ fn: e.fn, where: e.where, selfMs: Math.round(e.us / 1000), share: pct(e.us) })),
    areas: [...areaTime.entries()]
      .sort((a, b) => b[1] - a[1])
      .map(([a, us]) => ({ area: a, selfMs: Math.round(us / 1000), share: pct(us) })),
  };
}

export function formatSummary(s: ProfileSummary, title: string): string {
  const lines = [`### ${title}`, '', `${s.totalMs} ms sampled, ${Math.round(s.idleShare * 100)}% idle; shares below are of busy time.`, ''];
  lines.push('| self % | self ms | function | where |', '|---:|---:|---|---|');
  for (const t of s.top) lines.push(`| ${t.share} | ${t.selfMs} | \`${t.fn}\` | ${t.where} |`);
  lines.push('', '| area | self % |', '|---|---:|');
  for (const a of s.areas.slice(0, 15)) lines.push(`| ${a.area} | ${a.share} |`);
  return lines.join('\n');
}

/** The file itself, or the largest .cpuprofile in a directory. */
export function mainProfile(fileOrDir: string): string {
  if (!statSync(fileOrDir).isDirectory()) return fileOrDir;
  const files = readdirSync(fileOrDir)
    .filter((f) => f.endsWith('.cpuprofile'))
    .map((f) => join(fileOrDir, f))
    .sort((a, b) => statSync(b).size - statSync(a).size);
  if (!files[0]) throw new Error(`no .cpuprofile in ${fileOrDir}`);
  return files[0];
}

if (import.meta.url === pathToFileURL(process.argv[1] ?? '').href) {
  const file = process.argv[2];
  if (!file) {
    console.error('usage: cpuprofile-summary.ts <file.cpuprofile> [top]');
    process.exit(2);
  }
  const path = mainProfile(file);
  const summary = summarize(JSON.parse(readFileSync(path, 'utf8')) as Profile, Number(process.argv[3] ?? 25));
  console.log(formatSummary(summary, path));
}
