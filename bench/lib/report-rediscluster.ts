import type { Placement } from '../scenarios/rediscluster.js';
import { markdownTable, sideTable, type FigureRow } from './report.js';
import { round } from './stats.js';

/** Rows of one section: `what` names the shape, `baseline` the side whose saturation set the fixed rate. */
const rowsOf = (scope: string, what: string, baseline: string): FigureRow[] => [
  [`${what}: deliveries/s (sends/s) at saturation`, (x) => `${x.saturation.median} (${x.sendsPerSec})`, scope],
  [`${what}: p50 / p99 ms at 50 % of ${baseline}`, (x) => `${x.at50pct.p50Ms} / ${x.at50pct.p99Ms}`, scope],
  [`${what}: live deliveries per acked send in the window`, (x) => round(x.saturation.median / x.sendsPerSec, 2), scope],
  [`${what}: server CPU µs per delivery / per send (both nodes)`, (x) => `${x.cpuUsPerMsg} / ${Math.round((x.cpuUsPerMsg * x.saturation.median) / x.sendsPerSec)}`, scope],
  [`${what}: Redis commands / CPU ms per 1,000 sends (all masters)`, (x) => perSend(x.redisAtSaturation), scope],
];

const REDISES = [
  ...rowsOf('redisCluster4', 'rooms of 4', 'one Redis'),
  ...rowsOf('redisCluster50', 'rooms of 50', 'one Redis'),
  ...rowsOf('redisCluster4Bare', 'bare Socket.IO, rooms of 4', 'one Redis'),
];
const ADAPTERS = rowsOf('redisCluster4Adapters', 'rooms of 4', 'streams');

interface PerSend {
  commandsPerSend: number;
  cpuMsPer1000Sends: number;
  byCommand: Record<string, number>;
}

const perSend = (w: PerSend | undefined) => (w ? `${w.commandsPerSend} / ${w.cpuMsPer1000Sends}` : '—');

/** One master's figures at saturation in a section's side, with its share of all masters' commands. */
function shardCell(section: any, side: string, i: number): string {
  const shard: PerSend | undefined = section?.[side]?.redisShardsAtSaturation?.[i];
  const all: PerSend | undefined = section?.[side]?.redisAtSaturation;
  if (!shard || !all) return '—';
  return `${perSend(shard)} (${Math.round((shard.commandsPerSend / all.commandsPerSend) * 100)} % of commands)`;
}

const topCommands = (section: any, side: string, i: number) =>
  Object.entries((section?.[side]?.redisShardsAtSaturation?.[i] as PerSend | undefined)?.byCommand ?? {})
    .slice(0, 4)
    .map(([name, n]) => `${name} ${n}`)
    .join(', ');

/** Each master of the cluster: what it holds and what it did per send. */
function shardTable(abs: Record<string, any>): string {
  const placement = abs.redisClusterPlacement as Placement | null | undefined;
  const count = placement?.shards.length ?? abs.redisCluster4?.cluster?.redisShardsAtSaturation?.length ?? 0;
  const rows = [
    ['master', 'slots', 'holds', 'rooms of 4: commands / CPU ms per 1,000 sends', 'top commands per send', 'rooms of 50: same', 'rooms of 4, sharded pub/sub: same', 'top commands per send'],
    ['---', '---', '---', '---:', '---', '---:', '---:', '---'],
  ];
  for (let i = 0; i < count; i++) {
    const s = placement?.shards[i];
    const holds = s ? [s.adapterStream ? `**${placement!.adapterStream.key}** (slot ${placement!.adapterStream.slot})` : '', `${s.queuePartitions} queue partitions`].filter(Boolean).join(', ') : '—';
    const pubsub = abs.redisCluster4Adapters;
    rows.push([
      `${i}${s ? ` (:${s.port})` : ''}`,
      s?.slots.join(' ') ?? '—',
      holds,
      shardCell(abs.redisCluster4, 'cluster', i),
      topCommands(abs.redisCluster4, 'cluster', i),
      shardCell(abs.redisCluster50, 'cluster', i),
      shardCell(pubsub, 'pubsub', i),
      topCommands(pubsub, 'pubsub', i),
    ]);
  }
  return markdownTable(rows);
}

/** The rediscluster scenario's tables ('' when the results have none): both sides, then the cluster's masters. */
export function redisClusterTables(abs: Record<string, any>): string {
  if (!abs.redisCluster4 && !abs.redisCluster50) return '';
  const redises = sideTable(abs, ['single', 'cluster'], ['figure (one server on both)', 'one Redis', 'Redis Cluster'], REDISES);
  const adapters = sideTable(abs, ['streams', 'pubsub'], ['ours on the Redis Cluster', 'streams adapter', 'sharded pub/sub'], ADAPTERS);
  return [redises, adapters, shardTable(abs)].filter(Boolean).join('\n\n');
}
