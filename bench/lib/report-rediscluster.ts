import type { Placement } from '../scenarios/rediscluster.js';
import { markdownTable, sideTable, type FigureRow } from './report.js';

/** The sections of the rediscluster scenario, each with one side per Redis, and how its rows begin. */
const SECTIONS: [scope: string, what: string][] = [
  ['redisCluster4', 'rooms of 4'],
  ['redisCluster50', 'rooms of 50'],
  ['redisCluster4Bare', 'bare Socket.IO, rooms of 4'],
];

const ROWS: FigureRow[] = SECTIONS.flatMap(([scope, what]): FigureRow[] => [
  [`${what}: deliveries/s (sends/s) at saturation`, (x) => `${x.saturation.median} (${x.sendsPerSec})`, scope],
  [`${what}: p50 / p99 ms at 50 % of one Redis`, (x) => `${x.at50pct.p50Ms} / ${x.at50pct.p99Ms}`, scope],
  [`${what}: server CPU µs/delivery (both nodes)`, (x) => x.cpuUsPerMsg, scope],
  [`${what}: Redis commands / CPU ms per 1,000 sends (all masters)`, (x) => perSend(x.redisAtSaturation), scope],
]);

interface PerSend {
  commandsPerSend: number;
  cpuMsPer1000Sends: number;
  byCommand: Record<string, number>;
}

const perSend = (w: PerSend | undefined) => (w ? `${w.commandsPerSend} / ${w.cpuMsPer1000Sends}` : '—');

/** One master's figures at saturation in a shape, with its share of all masters' commands. */
function shardCell(section: any, i: number): string {
  const shard: PerSend | undefined = section?.cluster?.redisShardsAtSaturation?.[i];
  const all: PerSend | undefined = section?.cluster?.redisAtSaturation;
  if (!shard || !all) return '—';
  return `${perSend(shard)} (${Math.round((shard.commandsPerSend / all.commandsPerSend) * 100)} % of commands)`;
}

const topCommands = (section: any, i: number) =>
  Object.entries((section?.cluster?.redisShardsAtSaturation?.[i] as PerSend | undefined)?.byCommand ?? {})
    .slice(0, 4)
    .map(([name, n]) => `${name} ${n}`)
    .join(', ');

/** Each master of the cluster: what it holds and what it did per send. */
function shardTable(abs: Record<string, any>): string {
  const placement = abs.redisClusterPlacement as Placement | null | undefined;
  const count = placement?.shards.length ?? abs.redisCluster4?.cluster?.redisShardsAtSaturation?.length ?? 0;
  const rows = [
    ['master', 'slots', 'holds', 'rooms of 4: commands / CPU ms per 1,000 sends', 'rooms of 4: top commands per send', 'rooms of 50: commands / CPU ms per 1,000 sends'],
    ['---', '---', '---', '---:', '---', '---:'],
  ];
  for (let i = 0; i < count; i++) {
    const s = placement?.shards[i];
    const holds = s ? [s.adapterStream ? `**${placement!.adapterStream.key}** (slot ${placement!.adapterStream.slot})` : '', `${s.queuePartitions} queue partitions`].filter(Boolean).join(', ') : '—';
    rows.push([`${i}${s ? ` (:${s.port})` : ''}`, s?.slots.join(' ') ?? '—', holds, shardCell(abs.redisCluster4, i), topCommands(abs.redisCluster4, i), shardCell(abs.redisCluster50, i)]);
  }
  return markdownTable(rows);
}

/** The rediscluster scenario's tables ('' when the results have none): both sides, then the cluster's masters. */
export function redisClusterTables(abs: Record<string, any>): string {
  if (!abs.redisCluster4 && !abs.redisCluster50) return '';
  return `${sideTable(abs, ['single', 'cluster'], ['figure (one server on both)', 'one Redis', 'Redis Cluster'], ROWS)}\n\n${shardTable(abs)}`;
}
