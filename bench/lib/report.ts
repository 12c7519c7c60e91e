/** The tables of a results file (bench/results/<date>.json), for stdout and docs/benchmarks.md. */

interface Target {
  /** The row of the ratio table. */
  label: string;
  /** The target as printed. */
  target: string;
  ok: (x: number) => boolean;
}

/**
 * Every ratio the benchmark reports, in the order of the table, with its target. The keys
 * are the only ratio names a scenario may return (`RatioKey`).
 */
export const TARGETS = {
  relayThroughput: { label: 'relay throughput (msgs/s at saturation)', target: '≥ 0.90', ok: (x) => x >= 0.9 },
  chatFanoutThroughput: { label: 'durable chat fan-out (worse of rooms of 4 and 50)', target: '≥ 0.85', ok: (x) => x >= 0.85 },
  chatFanout4Throughput: { label: '  rooms of 4 (deliveries/s)', target: '≥ 0.85', ok: (x) => x >= 0.85 },
  chatFanout50Throughput: { label: '  rooms of 50 (deliveries/s)', target: '≥ 0.85', ok: (x) => x >= 0.85 },
  memoryPerConnection: { label: 'memory per idle connection (RSS slope)', target: '≤ 1.20', ok: (x) => x <= 1.2 },
  heapPerConnection: { label: '  heap slope', target: '—', ok: () => true },
  connectRate: { label: 'connect + auth + join rate', target: '≥ 0.80', ok: (x) => x >= 0.8 },
  crossNodePenalty: { label: 'cross-node penalty, chat p50 (cross/single)', target: '≤ 1.10', ok: (x) => x <= 1.1 },
  crossNodePenaltyP99: { label: '  same at p99', target: '≤ 1.30', ok: (x) => x <= 1.3 },
  crossNodeRelayPenalty: { label: '  relay, p50', target: '≤ 1.10', ok: (x) => x <= 1.1 },
  clusterThroughput: { label: 'cluster: durable chat over 2 nodes (worse of rooms of 4 and 50)', target: '≥ 0.85', ok: (x) => x >= 0.85 },
  cluster4Throughput: { label: '  rooms of 4 (deliveries/s)', target: '≥ 0.85', ok: (x) => x >= 0.85 },
  cluster50Throughput: { label: '  rooms of 50 (deliveries/s)', target: '≥ 0.85', ok: (x) => x >= 0.85 },
  clusterLongThroughput: { label: '  rooms of 4 over 60 s', target: '≥ 0.85', ok: (x) => x >= 0.85 },
  clusterP99At50: { label: 'cluster: chat (rooms of 4) p99 at 50 %', target: '≤ 1.50', ok: (x) => x <= 1.5 },
  relayP99At50: { label: 'relay p99 at 50 % of bare saturation', target: '≤ 1.20', ok: (x) => x <= 1.2 },
  relayP50DeltaMsAt50: { label: 'relay p50 delta at 50 %, ms (ours − bare)', target: '≤ +0.2', ok: (x) => x <= 0.2 },
  chatP99At50: { label: 'chat (rooms of 4) p99 at 50 %', target: '≤ 1.50', ok: (x) => x <= 1.5 },
  eventLoopDelayP99: { label: 'event-loop delay p99 at 50 % (relay)', target: '≤ 1.50', ok: (x) => x <= 1.5 },
  chatEventLoopDelayP99: { label: 'event-loop delay p99 at 50 % (chat)', target: '≤ 1.50', ok: (x) => x <= 1.5 },
  queueDrain: { label: 'drain 1,000 missed (ours lastSeq vs bare recovery)', target: '≤ 1.50', ok: (x) => x <= 1.5 },
  recoveryReplay: { label: '  recovery replay, both', target: '≤ 1.50', ok: (x) => x <= 1.5 },
  reconnect99: { label: 'reconnect storm, p99 back in room (from kill)', target: '≤ 1.20', ok: (x) => x <= 1.2 },
  reconnect99AfterReady: { label: '  from restarted server ready', target: '≤ 1.20', ok: (x) => x <= 1.2 },
  heartbeatCpu: { label: 'heartbeat CPU at the top idle count', target: '≤ 1.20', ok: (x) => x <= 1.2 },
  relayCpuPerMsg: { label: 'relay CPU µs per message (lower is better)', target: '≤ 1.15', ok: (x) => x <= 1.15 },
  redisClusterThroughput: { label: 'Redis Cluster (3 masters) / one Redis, ours on both: rooms of 4', target: '—', ok: () => true },
  redisCluster50Throughput: { label: '  rooms of 50', target: '—', ok: () => true },
  redisClusterP99At50: { label: '  rooms of 4, p99 at 50 % of one Redis', target: '—', ok: () => true },
  redisClusterBareThroughput: { label: '  the same for bare Socket.IO, rooms of 4', target: '—', ok: () => true },
  redisClusterPubsubThroughput: { label: 'on the Redis Cluster, ours: sharded pub/sub / streams adapter, rooms of 4', target: '—', ok: () => true },
  replicaAcksThroughput: { label: 'REDIS_MIN_REPLICAS_ACK 1 / 0, ours on a master + replica: rooms of 4', target: '—', ok: () => true },
  replicaAcksP99At50: { label: '  p99 at 50 % of 0', target: '—', ok: () => true },
} satisfies Record<string, Target>;

/** Recorded in the results for reference: no target, so no row in the table. */
type UntargetedRatioKey = 'crossNodeChatP50' | 'clusterRedisCommandsPerSend' | 'clusterRedisCpuPerSend' | 'redisClusterCommandsPerSend' | 'redisClusterCpuPerSend';

export type RatioKey = keyof typeof TARGETS | UntargetedRatioKey;
/** Ours / bare per ratio; null where a scenario could not measure it (e.g. no redis-server). */
export type Ratios = Partial<Record<RatioKey, number | null>>;

/** Rows of cells as a Markdown table (the header and its rule are the first two rows). */
export const markdownTable = (rows: string[][]): string => rows.map((r) => `| ${r.join(' | ')} |`).join('\n');

export function ratioTable(ratios: Ratios): string {
  const rows = [['ratio (ours / bare)', 'value', 'target', ''], ['---', '---:', '---', '---']];
  for (const [key, t] of Object.entries(TARGETS) as [keyof typeof TARGETS, Target][]) {
    const v = ratios[key];
    if (v === undefined) continue;
    rows.push([t.label, v === null || !Number.isFinite(v) ? 'n/a' : String(v), t.target, v === null || !Number.isFinite(v) || t.target === '—' ? '' : t.ok(v) ? 'met' : 'MISSED']);
  }
  return markdownTable(rows);
}

/** A row of a figures table: its label, what it shows of one side, and the section of `absolute` it reads. */
export type FigureRow = [label: string, pick: (side: any) => unknown, scope: string];

/**
 * A Markdown table of figures, one column per side (bare and ours, or any two keys of the
 * sections), a row per `rows` entry whose section the results have ('' if none has).
 */
export function sideTable(abs: Record<string, any>, sides: [string, string], header: [string, string, string], rows: FigureRow[]): string {
  const lines = rows.filter(([, , scope]) => abs[scope]).map(([label, pick, scope]) => [label, ...sides.map((side) => String(pick(abs[scope][side]) ?? '—'))]);
  return lines.length ? markdownTable([header, ['---', '---:', '---:'], ...lines]) : '';
}

/** Main thread / the rest of the process, per delivery (the rest: our SQLite writer and checkpointer, V8's GC helpers). */
const threadSplit = (x: { cpuUsPerMsg: number; mainThreadCpuUsPerMsg?: number }) =>
  x.mainThreadCpuUsPerMsg === undefined ? '—' : `${x.mainThreadCpuUsPerMsg} / ${Math.round((x.cpuUsPerMsg - x.mainThreadCpuUsPerMsg) * 100) / 100}`;

const ABSOLUTE_ROWS: FigureRow[] = [
  ['relay: msgs/s at saturation (median)', (x) => x.saturation.median, 'relay'],
  ['relay: server CPU µs/msg', (x) => x.cpuUsPerMsg, 'relay'],
  ['relay: p50 / p99 ms at 50 %', (x) => `${x.at50pct.p50Ms} / ${x.at50pct.p99Ms}`, 'relay'],
  ['relay: loop delay p99 ms at 50 %', (x) => x.at50pct.eventLoopDelayP99Ms, 'relay'],
  ['relay: generator CPU at saturation', (x) => x.generatorCpuAtSaturation, 'relay'],
  ['chat 4: deliveries/s at saturation', (x) => x.saturation.median, 'chat4'],
  ['chat 4: server CPU µs/delivery', (x) => x.cpuUsPerMsg, 'chat4'],
  ['chat 4: of which main thread / other threads', (x) => threadSplit(x), 'chat4'],
  ['chat 4: server CPU share at saturation', (x) => x.serverCpuAtSaturation, 'chat4'],
  ['chat 4: p50 / p99 ms at 50 %', (x) => `${x.at50pct.p50Ms} / ${x.at50pct.p99Ms}`, 'chat4'],
  ['chat 50: deliveries/s at saturation', (x) => x.saturation.median, 'chat50'],
  ['chat 50: server CPU µs/delivery', (x) => x.cpuUsPerMsg, 'chat50'],
  ['chat 50: of which main thread / other threads', (x) => threadSplit(x), 'chat50'],
  ['chat 50: p50 / p99 ms at 50 %', (x) => `${x.at50pct.p50Ms} / ${x.at50pct.p99Ms}`, 'chat50'],
  ['cluster 4: deliveries/s (sends/s) at saturation', (x) => `${x.saturation.median} (${x.sendsPerSec})`, 'cluster4'],
  ['cluster 4: p50 / p99 ms at 50 %', (x) => `${x.at50pct.p50Ms} / ${x.at50pct.p99Ms}`, 'cluster4'],
  ['cluster 4: nodes\' CPU µs/delivery (main thread / other threads)', (x) => `${x.cpuUsPerMsg} (${threadSplit(x)})`, 'cluster4'],
  ['cluster 4: Redis commands / CPU ms per 1,000 sends', (x) => `${x.redisAtSaturation?.commandsPerSend} / ${x.redisAtSaturation?.cpuMsPer1000Sends}`, 'cluster4'],
  ['cluster 50: deliveries/s (sends/s) at saturation', (x) => `${x.saturation.median} (${x.sendsPerSec})`, 'cluster50'],
  ['cluster 50: p50 / p99 ms at 50 %', (x) => `${x.at50pct.p50Ms} / ${x.at50pct.p99Ms}`, 'cluster50'],
  ['cluster 50: nodes\' CPU µs/delivery (main thread / other threads)', (x) => `${x.cpuUsPerMsg} (${threadSplit(x)})`, 'cluster50'],
  ['cluster 4 over 60 s: deliveries/s (last / first 10 s)', (x) => `${x.rate} (${x.lastOverFirst})`, 'clusterOverTime'],
  ['idle: KB RSS / heap per connection', (x) => `${x.rssKBPerConn.median} / ${x.heapKBPerConn.median}`, 'idle'],
  ['idle: connections held at the top count', (x) => x.held, 'idle'],
  ['idle: heartbeat CPU share at the top count', (x) => x.heartbeatCpuAtTop, 'idle'],
  ['connect: conns/s (p99 ms)', (x) => `${x.rate.median} (${x.p99Ms})`, 'connect'],
  ['connect: server CPU µs/conn', (x) => x.cpuUsPerConn, 'connect'],
  ['cross-node chat p50 ms single → cross', (x) => `${x.chatSingle.p50Ms} → ${x.chatCross.p50Ms}`, 'crossNode'],
  ['cross-node chat p99 ms single → cross', (x) => `${x.chatSingle.p99Ms} → ${x.chatCross.p99Ms}`, 'crossNode'],
  ['cross-node relay p50 ms single → cross', (x) => `${x.relaySingle.p50Ms} → ${x.relayCross.p50Ms}`, 'crossNode'],
  ['drain 1,000: recovery replay ms', (x) => x.recoveryReplayMs, 'drain'],
  ['drain 1,000: lastSeq + history ms', (x) => x.lastSeqDrainMs, 'drain'],
  ['drain 1,000: live delivery ms (reference)', (x) => x.liveDeliveryMs, 'drain'],
  ['storm: restart ms; back in room p50 / p99 ms', (x) => `${x.restartMs}; ${x.reconnectP50Ms} / ${x.reconnectP99Ms}`, 'storm'],
  ['storm: acked / lost / duplicates', (x) => `${x.acked} / ${x.lost} / ${x.duplicates}`, 'storm'],
];

export function absoluteTable(abs: Record<string, any>): string {
  return sideTable(abs, ['bare', 'ours'], ['figure', 'bare', 'ours'], ABSOLUTE_ROWS);
}
