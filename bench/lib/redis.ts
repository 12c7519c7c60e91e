import { spawn, spawnSync, type ChildProcess } from 'node:child_process';
import { mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { freePort, waitForRedisPing } from '../../support/loopback.js';

/** A throwaway redis-server on loopback: no persistence (see docs/benchmarks.md). */
export class BenchRedis {
  private proc: ChildProcess | null = null;
  private readonly dir = mkdtempSync(join(tmpdir(), 'vcs-bench-redis-'));
  port = 0;

  static available(): boolean {
    return spawnSync('redis-server', ['--version']).status === 0;
  }

  get url(): string {
    return `redis://127.0.0.1:${this.port}`;
  }

  async start(): Promise<void> {
    this.port = await freePort();
    const proc = spawn('redis-server', ['--port', String(this.port), '--bind', '127.0.0.1', '--dir', this.dir, '--save', '', '--appendonly', 'no'], { stdio: 'ignore' });
    this.proc = proc;
    // A failed or interrupted run must not leave a redis-server behind.
    process.once('exit', () => proc.kill('SIGKILL'));
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

  async stop(): Promise<void> {
    const proc = this.proc;
    if (proc && proc.exitCode === null) {
      const exited = new Promise((r) => proc.once('exit', r));
      proc.kill('SIGKILL');
      await exited;
    }
    rmSync(this.dir, { recursive: true, force: true });
  }
}

