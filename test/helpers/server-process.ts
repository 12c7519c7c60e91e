import type { ChildProcess, SpawnOptions } from 'node:child_process';
import { rmSync } from 'node:fs';

/** Where a server runs when not on loopback: a test host (test/helpers/net/host.ts). */
export interface ProcessHost {
  /** The address the server listens on. */
  readonly addr: string;
  spawn(cmd: string, args: string[], options: SpawnOptions): ChildProcess;
}

/** Every server process a test started: killed on exit, so none outlives a test run. */
const running = new Set<ChildProcess>();
process.once('exit', () => running.forEach((p) => p.kill('SIGKILL')));

/**
 * A server a test runs as a child process on its own port and in its own temporary
 * directory, with the process control that injects faults: kill -9 (a crash), restart on
 * the same data and port, SIGSTOP/SIGCONT (a hang: connections stay open, nothing answers).
 */
export abstract class ServerProcess {
  private proc: ChildProcess | null = null;
  port = 0;

  constructor(readonly dir: string) {}

  get pid(): number | undefined {
    return this.proc?.pid;
  }

  /** Starts (again, on the same port and data) and resolves once it serves. */
  abstract start(): Promise<void>;

  /** Makes a freshly spawned process this server's. */
  protected adopt(proc: ChildProcess): ChildProcess {
    running.add(proc);
    proc.once('exit', () => running.delete(proc));
    this.proc = proc;
    return proc;
  }

  /** SIGKILL: a crash. What survives is what the server had made durable. */
  async kill(): Promise<void> {
    const proc = this.proc;
    if (!proc || proc.exitCode !== null || proc.signalCode !== null) return;
    const exited = new Promise((r) => proc.once('exit', r));
    proc.kill('SIGKILL');
    await exited;
    this.proc = null;
  }

  pause(): void {
    this.proc?.kill('SIGSTOP');
  }

  resume(): void {
    this.proc?.kill('SIGCONT');
  }

  async restart(): Promise<void> {
    await this.kill();
    await this.start();
  }

  async stop(): Promise<void> {
    this.resume();
    await this.kill();
    rmSync(this.dir, { recursive: true, force: true });
  }
}
