import type { ChatSender } from '../../support/chat-sender.js';
import { checkHistory, type CheckedMessage as StoredMessage } from '../../support/history-checker.js';
import { linearFit, median, round } from '../lib/stats.js';
import type { MemorySample, QueueSample } from './sampler.js';

/** One pass/fail line of the soak's table. */
export interface Criterion {
  name: string;
  value: string;
  target: string;
  ok: boolean;
}

export const HEAP_SLOPE_LIMIT_MB_PER_MIN = 1;
/**
 * "RSS flat": the median RSS of the last third of the post-warm-up samples is at most 10 %
 * above the median of the first third. Medians of thirds, not a slope, because RSS moves in
 * steps (V8 reserves and releases pages in chunks, malloc keeps freed arenas, a fault's
 * backlog briefly grows the young generation) and is not handed back promptly, so a
 * least-squares line through it is dominated by where the last step happened to fall. 10 %
 * is about 14 MB on these processes (~135 MB RSS): room for one such step, far less than an off-heap leak
 * (Buffers, sockets, SQLite) would add over minutes of this traffic; the heap slope is the
 * sensitive criterion for leaks in JavaScript objects.
 */
export const RSS_GROWTH_LIMIT = 0.1;

/** Least-squares heap slope of one process over its samples from `fromT` on, MB per minute. */
export function heapSlope(samples: MemorySample[], fromT: number): { slopeMBPerMin: number; r2: number; samples: number; spanSec: number } {
  const pts = samples.filter((s) => s.t >= fromT);
  if (pts.length < 3) return { slopeMBPerMin: NaN, r2: NaN, samples: pts.length, spanSec: 0 };
  const fit = linearFit(pts.map((s) => ({ x: s.t / 60, y: s.heapMB })));
  return { slopeMBPerMin: round(fit.slope, 3), r2: round(fit.r2, 3), samples: pts.length, spanSec: round(pts.at(-1)!.t - pts[0]!.t, 0) };
}

/** Median RSS of the first and last third of the samples from `fromT` on, and the growth between them. */
export function rssThirds(samples: MemorySample[], fromT: number): { firstMB: number; lastMB: number; growth: number } {
  const pts = samples.filter((s) => s.t >= fromT).map((s) => s.rssMB);
  const third = Math.floor(pts.length / 3);
  if (third < 2) return { firstMB: NaN, lastMB: NaN, growth: NaN };
  const firstMB = median(pts.slice(0, third));
  const lastMB = median(pts.slice(-third));
  return { firstMB, lastMB, growth: round(lastMB / firstMB - 1, 3) };
}

/**
 * A node that was restarted is several processes: each gets its own series, and a slope only
 * when it lived long enough for one to mean anything. Reported, not judged: only node a,
 * never killed, has a series as long as the run.
 */
export function lifetimes(samples: MemorySample[], warmupSec: number) {
  const byPid = new Map<number, MemorySample[]>();
  for (const s of samples) byPid.set(s.pid, [...(byPid.get(s.pid) ?? []), s]);
  return [...byPid].map(([pid, xs]) => {
    const from = xs[0]!.t + warmupSec;
    const fit = xs.at(-1)!.t - from >= 60 ? heapSlope(xs, from) : null;
    return { pid, fromSec: xs[0]!.t, toSec: xs.at(-1)!.t, samples: xs.length, heapMB: { first: xs[0]!.heapMB, last: xs.at(-1)!.heapMB }, slopeMBPerMin: fit?.slopeMBPerMin ?? null };
  });
}

/** Every room's stored history against what its senders attempted and were acked. */
export function historyCheck(stored: Map<string, StoredMessage[]>, senders: Map<string, ChatSender[]>) {
  const total = { rooms: stored.size, stored: 0, acked: 0, lost: 0, duplicated: 0, unexpected: 0, gaps: 0, seqMismatch: 0, outOfOrder: 0, examples: [] as string[] };
  for (const [roomId, messages] of stored) {
    const r = checkHistory({ stored: messages, senders: senders.get(roomId) ?? [] });
    total.stored += messages.length;
    total.acked += r.acked;
    total.lost += r.lost.length;
    total.duplicated += r.duplicated.length;
    total.unexpected += r.unexpected.length;
    total.gaps += r.gaps.length;
    total.outOfOrder += r.storeOutOfOrder.length;
    total.seqMismatch += r.seqMismatch.length;
    for (const [what, ids] of [['lost', r.lost], ['duplicated', r.duplicated], ['seq mismatch', r.seqMismatch], ['out of order', r.storeOutOfOrder]] as const) {
      if (ids.length && total.examples.length < 10) total.examples.push(`${roomId} ${what}: ${ids.slice(0, 3).join(', ')}`);
    }
  }
  return total;
}

export function queueBack(baseline: QueueSample, end: QueueSample | null): Criterion[] {
  const show = (q: QueueSample | null, k: keyof QueueSample) => (q ? String(q[k]) : 'no answer');
  return (['length', 'pending', 'deadLetters'] as const).map((k) => ({
    name: { length: 'queue length (XLEN) at the end', pending: 'pending entries (XPENDING) at the end', deadLetters: 'dead letters at the end' }[k],
    value: show(end, k),
    target: `= ${baseline[k]} (baseline)`,
    ok: end !== null && end[k] === baseline[k],
  }));
}

export function table(criteria: Criterion[]): string {
  const rows = [['criterion', 'value', 'target', ''], ['---', '---:', '---', '---']];
  for (const c of criteria) rows.push([c.name, c.value, c.target, c.ok ? 'met' : 'FAILED']);
  return rows.map((r) => `| ${r.join(' | ')} |`).join('\n');
}
