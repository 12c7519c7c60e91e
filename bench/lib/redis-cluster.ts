import { execFile } from 'node:child_process';
import { promisify } from 'node:util';
import type { WindowMeter } from '../rigs/load-window.js';
import { BenchRedis, type RedisWindow, type SharedRedis } from './redis.js';
import type { ServerOptions } from './server-proc.js';

const run = promisify(execFile);

/** What the cluster did over a window: the sum over its masters, and each master's own figures. */
export interface ShardedWindow extends RedisWindow {
  shards: RedisWindow[];
}

/** One master: its port and the slot ranges it serves. */
export interface Shard {
  shard: number;
  port: number;
  slots: string[];
}

/**
 * A Redis Cluster of `masters` masters (no replicas) on free loopback ports, each in a
 * temporary directory with AOF and `appendfsync always`, made with `redis-cli --cluster
 * create` as test/helpers/redis-cluster.ts does. Every master is a BenchRedis, so it is
 * killed on process exit and its directory removed on stop.
 */
export class BenchRedisCluster implements SharedRedis {
  readonly masters: BenchRedis[];

  constructor(masters = 3) {
    this.masters = Array.from({ length: masters }, () => new BenchRedis({ aof: true, cluster: true }));
  }

  async start(): Promise<void> {
    await Promise.all(this.masters.map((m) => m.start()));
    await run('redis-cli', ['--cluster', 'create', ...this.masters.map((m) => `127.0.0.1:${m.port}`), '--cluster-replicas', '0', '--cluster-yes'], { timeout: 30_000 });
    // Every master must see every slot served before a client maps them.
    const deadline = Date.now() + 15_000;
    for (const m of this.masters) {
      while (!/cluster_state:ok/.test(String(await m.command(['CLUSTER', 'INFO'])))) {
        if (Date.now() > deadline) throw new Error(`Redis Cluster: master on port ${m.port} never reached cluster_state:ok`);
        await new Promise((r) => setTimeout(r, 100));
      }
    }
  }

  async stop(): Promise<void> {
    await Promise.all(this.masters.map((m) => m.stop()));
  }

  connection(): Pick<ServerOptions, 'env'> {
    return { env: { REDIS_CLUSTER_URLS: this.masters.map((m) => `127.0.0.1:${m.port}`).join(',') } };
  }

  /** The meter `redis`: the masters' commands and CPU, summed and per master (a ShardedWindow). */
  meter(): WindowMeter {
    const meters = this.masters.map((m) => m.meter());
    return {
      name: 'redis',
      begin: async () => {
        const ends = await Promise.all(meters.map((m) => m.begin()));
        return async () => sumWindows((await Promise.all(ends.map((end) => end()))) as RedisWindow[]);
      },
    };
  }

  /** Each master and the slots it serves (its `myself` line of CLUSTER NODES). */
  async shards(): Promise<Shard[]> {
    return Promise.all(
      this.masters.map(async (m, shard) => {
        const nodes = String(await m.command(['CLUSTER', 'NODES']));
        const myself = nodes.split('\n').find((line) => line.includes('myself')) ?? '';
        return { shard, port: m.port, slots: myself.trim().split(' ').slice(8) };
      }),
    );
  }

  /** Which master (index into `masters`) holds each key, by CLUSTER KEYSLOT and the slot map. */
  async shardsOf(keys: string[]): Promise<Record<string, { slot: number; shard: number }>> {
    const shards = await this.shards();
    const owner = (slot: number) =>
      shards.find((s) => s.slots.some((range) => {
        const [lo, hi = lo] = range.split('-').map(Number);
        return slot >= lo! && slot <= hi!;
      }))?.shard ?? -1;
    const entries = await Promise.all(
      keys.map(async (key) => {
        const slot = Number(await this.masters[0]!.command(['CLUSTER', 'KEYSLOT', key]));
        return [key, { slot, shard: owner(slot) }] as const;
      }),
    );
    return Object.fromEntries(entries);
  }
}

function sumWindows(shards: RedisWindow[]): ShardedWindow {
  const commands: Record<string, number> = {};
  for (const w of shards) for (const [name, n] of Object.entries(w.commands)) commands[name] = (commands[name] ?? 0) + n;
  return {
    commands,
    totalCommands: shards.reduce((s, w) => s + w.totalCommands, 0),
    cpuMs: Math.round(shards.reduce((s, w) => s + w.cpuMs, 0) * 10) / 10,
    shards,
  };
}
