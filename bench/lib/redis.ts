import { spawn, spawnSync, type ChildProcess } from 'node:child_process';
import { mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { createClient } from 'redis';
import { freePort, waitForRedisPing } from '../../support/loopback.js';
import type { WindowMeter } from '../rigs/load-window.js';
import { pinnedCommand } from './cpu-pinning.js';
import type { ServerOptions } from './server-proc.js';

/** What Redis did over a window: commands by name (`INFO commandstats` deltas) and its CPU. */
export interface RedisWindow {
  commands: Record<string, number>;
  totalCommands: number;
  cpuMs: number;
}

/** The Redis the nodes of a two-node run share: one redis-server, or a Redis Cluster. */
export interface SharedRedis {
  start(): Promise<void>;
  stop(): Promise<void>;
  /** What points a node of ours (or bare) at it. */
  connection(): Pick<ServerOptions, 'redisUrl' | 'env'>;
  /** Its commands and CPU over a load window, as the meter `redis` (a `RedisWindow`). */
  meter(): WindowMeter;
}

/**
 * A throwaway redis-server on loopback: no persistence unless `aof` (then AOF with
 * `appendfsync always`, as docs/operations.md asks of a cluster's Redis); with `cluster`, a
 * Redis Cluster node (see BenchRedisCluster).
 */
export class BenchRedis implements SharedRedis {
  private proc: ChildProcess | null = null;
  private readonly dir = mkdtempSync(join(tmpdir(), 'vcs-bench-redis-'));
  private client: ReturnType<typeof createClient> | null = null;
  port = 0;

  /** `replicaOf`: a replica of that (started) server. */
  constructor(private readonly options: { aof?: boolean; cluster?: boolean; replicaOf?: BenchRedis } = {}) {}

  static available(): boolean {
    return spawnSync('redis-server', ['--version']).status === 0;
  }

  get url(): string {
    return `redis://127.0.0.1:${this.port}`;
  }

  /** Starts it; again after `crash()`, on the same port and its AOF. */
  async start(): Promise<void> {
    if (!this.port) this.port = await freePort();
    const persistence = this.options.aof ? ['--appendonly', 'yes', '--appendfsync', 'always'] : ['--appendonly', 'no'];
    const cluster = this.options.cluster ? ['--cluster-enabled', 'yes', '--cluster-config-file', join(this.dir, 'nodes.conf')] : [];
    const replica = this.options.replicaOf ? ['--replicaof', '127.0.0.1', String(this.options.replicaOf.port)] : [];
    // Any CPU, not the generator's (which it would inherit).
    const [cmd, args] = pinnedCommand(null, ['redis-server', '--port', String(this.port), '--bind', '127.0.0.1', '--dir', this.dir, '--save', '', ...persistence, ...cluster, ...replica]);
    const proc = spawn(cmd, args, { stdio: 'ignore' });
    this.proc = proc;
    // A failed or interrupted run must not leave a redis-server behind.
    const kill = () => proc.kill('SIGKILL');
    process.once('exit', kill);
    proc.once('exit', () => process.removeListener('exit', kill));
    await waitForRedisPing(this.port);
  }

  /** The Redis floor of this session (perf-anchors §7.7): XADD and PUBLISH via redis-benchmark. */
  floor(): Record<string, number> | null {
    const run = (args: string[]) => {
      const out = spawnSync('redis-benchmark', ['-p', String(this.port), '-q', '-n', '20000', ...args], { encoding: 'utf8', timeout: 60_000 });
      const m = /([\d.]+) requests per second/.exec(out.stdout ?? '');
      return m ? Math.round(Number(m[1])) : NaN;
    };
    if (spawnSync('redis-benchmark', ['--version']).status !== 0) return null;
    return {
      xadd1ClientRps: run(['-c', '1', 'XADD', 'bench:floor', 'MAXLEN', '~', '10000', '*', 'f', 'x'.repeat(256)]),
      xadd50ClientsRps: run(['-c', '50', 'XADD', 'bench:floor', 'MAXLEN', '~', '10000', '*', 'f', 'x'.repeat(256)]),
      xaddPipelined16Rps: run(['-c', '50', '-P', '16', 'XADD', 'bench:floor', 'MAXLEN', '~', '10000', '*', 'f', 'x'.repeat(256)]),
      publish50ClientsRps: run(['-c', '50', 'PUBLISH', 'bench:ch', 'x'.repeat(256)]),
    };
  }

  connection(): Pick<ServerOptions, 'redisUrl'> {
    return { redisUrl: this.url };
  }

  meter(): WindowMeter {
    return {
      name: 'redis',
      begin: async () => {
        const cpuAtStart = await this.windowStart();
        return () => this.windowEnd(cpuAtStart);
      },
    };
  }

  /** One command on the admin connection (CLUSTER INFO, CLUSTER KEYSLOT …). */
  async command(args: string[]): Promise<unknown> {
    return (await this.admin()).sendCommand(args);
  }

  /** Zeroes the command counters (CONFIG RESETSTAT) and returns the CPU so far, for `windowEnd`. */
  async windowStart(): Promise<number> {
    const c = await this.admin();
    await c.configResetStat();
    return this.cpuMs(await c.info('cpu'));
  }

  /** Commands since `windowStart` and the CPU they took (main thread and AOF fsync, user + sys). */
  async windowEnd(cpuAtStart: number): Promise<RedisWindow> {
    const c = await this.admin();
    const [stats, cpu] = await Promise.all([c.info('commandstats'), c.info('cpu')]);
    const commands: Record<string, number> = {};
    for (const m of stats.matchAll(/^cmdstat_([^:]+):calls=(\d+)/gm)) commands[m[1]!] = Number(m[2]);
    // The counters include the two INFO calls of this read: take them out.
    if (commands.info) commands.info = Math.max(0, commands.info - 2);
    const totalCommands = Object.values(commands).reduce((a, b) => a + b, 0);
    return { commands, totalCommands, cpuMs: Math.round((this.cpuMs(cpu) - cpuAtStart) * 10) / 10 };
  }

  private cpuMs(info: string): number {
    const field = (name: string) => Number(new RegExp(`^${name}:([\\d.]+)`, 'm').exec(info)?.[1] ?? 0);
    return (field('used_cpu_user') + field('used_cpu_sys')) * 1000;
  }

  private async admin(): Promise<ReturnType<typeof createClient>> {
    if (!this.client) {
      this.client = createClient({ url: this.url });
      this.client.on('error', () => undefined);
      await this.client.connect();
    }
    return this.client;
  }

  /** SIGSTOP, then SIGCONT: a Redis that hangs (a slow disk, a long fork) and comes back. */
  pause(): void {
    this.proc?.kill('SIGSTOP');
  }

  resume(): void {
    this.proc?.kill('SIGCONT');
  }

  /** SIGKILL: a crash. The data directory stays, so `start()` brings it back on its AOF. */
  async crash(): Promise<void> {
    const proc = this.proc;
    if (proc && proc.exitCode === null && proc.signalCode === null) {
      const exited = new Promise((r) => proc.once('exit', r));
      proc.kill('SIGKILL');
      await exited;
    }
  }

  async stop(): Promise<void> {
    if (this.client?.isOpen) this.client.destroy();
    this.client = null;
    await this.crash();
    rmSync(this.dir, { recursive: true, force: true });
  }
}

