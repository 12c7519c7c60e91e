import type { SoakArgs } from './soak-args.js';
import type { SoakRun } from './soak.js';
import { HEAP_SLOPE_LIMIT_MB_PER_MIN, RSS_GROWTH_LIMIT, heapSlope, historyCheck, lifetimes, queueBack, rssThirds, type Criterion } from './verdict.js';

/** The judged node: never killed, so its one process spans the run. */
const JUDGED = 'ours:soak-a';

/** The soak's criteria, and the figures behind them for the results file. */
export function judge(run: SoakRun, args: SoakArgs): { criteria: Criterion[]; figures: Record<string, unknown> } {
  const judged = run.memory.filter((s) => s.node === JUDGED && s.t <= run.trafficEndSec);
  const heap = heapSlope(judged, args.warmupSec);
  const rss = rssThirds(judged, args.warmupSec);
  const history = historyCheck(run.stored, run.senders);
  const nodeB = lifetimes(
    run.memory.filter((s) => s.node !== JUDGED),
    args.warmupSec,
  );
  const criteria: Criterion[] = [
    {
      name: `heap slope, node a after ${args.warmupSec} s warm-up (${heap.samples} samples over ${heap.spanSec} s)`,
      value: `${heap.slopeMBPerMin} MB/min`,
      target: `< ${HEAP_SLOPE_LIMIT_MB_PER_MIN} MB/min`,
      ok: heap.slopeMBPerMin < HEAP_SLOPE_LIMIT_MB_PER_MIN,
    },
    {
      name: 'RSS, node a: last-third median vs first third',
      value: `${rss.firstMB} → ${rss.lastMB} MB (${rss.growth >= 0 ? '+' : ''}${Math.round(rss.growth * 1000) / 10} %)`,
      target: `≤ +${RSS_GROWTH_LIMIT * 100} %`,
      ok: rss.growth <= RSS_GROWTH_LIMIT,
    },
    ...queueBack(run.baseline, run.end),
    { name: 'acked messages stored (REST history)', value: `${history.acked - history.lost} of ${history.acked}`, target: 'all', ok: history.acked > 0 && history.lost === 0 },
    { name: 'stored twice', value: String(history.duplicated), target: '0', ok: history.duplicated === 0 },
    { name: 'stored with another seq than acked, or never attempted', value: String(history.seqMismatch + history.unexpected), target: '0', ok: history.seqMismatch + history.unexpected === 0 },
    { name: 'seq gaps', value: String(history.gaps), target: '0', ok: history.gaps === 0 },
    { name: 'store out of seq or send order', value: String(history.outOfOrder), target: '0', ok: history.outOfOrder === 0 },
    {
      name: `state left after the clients went (after ${run.leftovers.waitedMs} ms)`,
      value: String(run.leftovers.total),
      target: '0',
      ok: run.leftovers.total === 0,
    },
  ];
  return {
    criteria,
    figures: {
      heap: { judgedNode: JUDGED, ...heap },
      rss,
      nodeBLifetimes: nodeB,
      drainMs: run.drainMs,
      queue: { baseline: run.baseline, end: run.end },
      history,
      traffic: run.traffic,
      faults: run.faults,
      restarts: run.restarts,
      leftovers: run.leftovers,
      memory: run.memory,
    },
  };
}
