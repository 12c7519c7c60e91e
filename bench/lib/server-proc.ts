import { spawn, type ChildProcess } from 'node:child_process';
import { mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { freePort } from '../../support/loopback.js';
import { BUILD_DIR } from './build.js';
import { pinnedCommand } from './cpu-pinning.js';
import { ROOT } from './paths.js';

const PROBE = new URL('./probe.mjs', import.meta.url).href;

/**
 * How the servers run: 'build' from bench/.build, compiled by buildServers(); 'tsx' from the
 * TypeScript sources through tsx (the development loader), for comparison.
 */
export type Runtime = 'build' | 'tsx';

export type ServerKind = 'bare' | 'ours';

/** A fixed secret so that every node of a run accepts the same tokens. */
const JWT_SECRET = 'bench-secret-0123456789-abcdefghijklmnop';

/**
 * Limits lifted so that they never cap a benchmark (each at its schema's maximum), and
 * logging kept to warnings on stderr: the rest of the configuration is the default.
 */
export const OURS_ENV: Record<string, string> = {
  NODE_ENV: 'development',
  HOST: '127.0.0.1',
  LOG_DIR: 'none',
  LOG_LEVEL: 'warn',
  JWT_SECRET,
  RATE_LIMIT_MESSAGES: '100000',
  RATE_LIMIT_EVENTS: '100000',
  RATE_LIMIT_HTTP: '1000000',
  MAX_CONNECTIONS_PER_USER: '100000',
  MAX_CONNECTIONS_PER_IP: '1000000',
  // A handshake rate limit (if the build has one) must not cap the connect-rate scenarios.
  RATE_LIMIT_HANDSHAKES: '1000000',
};

export interface ServerOptions {
  kind: ServerKind;
  runtime: Runtime;
  /** Pin to this CPU with taskset; null = let the scheduler place it. */
  cpu: number | null;
  port?: number;
  /** Shared by nodes of one cluster; a fresh temp dir otherwise. */
  dataDir?: string;
  redisUrl?: string;
  nodeId?: string;
  /** Write a V8 CPU profile (node --cpu-prof) into this directory when the server exits. */
  cpuProfDir?: string;
  env?: Record<string, string>;
}

interface ProbeReply {
  probe: number;
  [k: string]: unknown;
}

export interface WindowStats {
  /** The server's CLOCK_MONOTONIC at the end of the window, µs (CPU profile time base). */
  hrtimeUs: number;
  cpuUs: number;
  /** The main thread's share of cpuUs (null where /proc is missing). */
  mainThreadCpuUs: number | null;
  wallMs: number;
  eld: { p50: number; p99: number; max: number; mean: number };
  mem: NodeJS.MemoryUsage;
  gc: { minor: number; minorMs: number; major: number; majorMs: number; maxMs: number };
}

/** A server under test, as a child process with the probe preloaded (IPC channel). */
export class ServerProc {
  private nextProbe = 1;
  private readonly waiting = new Map<number, (r: ProbeReply) => void>();
  private stderrTail = '';
  /** Resolves with the exit code once the process has exited, however it ended. */
  readonly exited: Promise<number | null>;
  readonly ownsDataDir: boolean;

  private constructor(
    readonly options: ServerOptions,
    readonly proc: ChildProcess,
    readonly port: number,
    readonly dataDir: string,
    ownsDataDir: boolean,
  ) {
    this.ownsDataDir = ownsDataDir;
    proc.on('message', (m: ProbeReply) => {
      const cb = this.waiting.get(m.probe);
      if (cb) {
        this.waiting.delete(m.probe);
        cb(m);
      }
    });
    proc.stderr?.on('data', (d: Buffer) => (this.stderrTail = (this.stderrTail + d.toString()).slice(-4000)));
    proc.stdout?.resume();
    this.exited = new Promise((resolve) => proc.once('exit', (code) => resolve(code)));
  }

  get kind(): ServerKind {
    return this.options.kind;
  }

  get pid(): number {
    return this.proc.pid!;
  }

  get label(): string {
    return `${this.options.kind}${this.options.nodeId ? `:${this.options.nodeId}` : ''}`;
  }

  /** Spawns the server; it serves once waitForHealth() resolves. Start servers through a ServerFleet. */
  static async spawn(options: ServerOptions): Promise<ServerProc> {
    const port = options.port ?? (await freePort());
    const ownsDataDir = !options.dataDir;
    const dataDir = options.dataDir ?? mkdtempSync(join(tmpdir(), 'vcs-bench-'));
    const script =
      options.runtime === 'tsx'
        ? options.kind === 'ours'
          ? 'src/main.ts'
          : 'bench/bare-server.ts'
        : join(BUILD_DIR, options.kind === 'ours' ? 'src/main.js' : 'bare-server.js');
    const nodeArgs = ['--expose-gc', ...(options.runtime === 'tsx' ? ['--import', 'tsx'] : []), '--import', PROBE];
    if (options.cpuProfDir) nodeArgs.push('--cpu-prof', `--cpu-prof-dir=${options.cpuProfDir}`);
    const [cmd, args] = pinnedCommand(options.cpu, [process.execPath, ...nodeArgs, script]);
    const env: Record<string, string> = {
      PATH: process.env.PATH ?? '',
      ...(options.kind === 'ours' ? OURS_ENV : {}),
      PORT: String(port),
      HOST: '127.0.0.1',
      DATA_DIR: dataDir,
      ...(options.redisUrl ? { REDIS_URL: options.redisUrl } : {}),
      ...(options.nodeId ? { NODE_ID: options.nodeId } : {}),
      ...options.env,
    };
    const proc = spawn(cmd, args, { cwd: ROOT, env, stdio: ['ignore', 'pipe', 'pipe', 'ipc'] });
    return new ServerProc(options, proc, port, dataDir, ownsDataDir);
  }

  get url(): string {
    return `http://127.0.0.1:${this.port}`;
  }

  get stderr(): string {
    return this.stderrTail;
  }

  async waitForHealth(timeoutMs = 30_000): Promise<void> {
    const deadline = Date.now() + timeoutMs;
    while (Date.now() < deadline) {
      if (this.proc.exitCode !== null) throw new Error(`${this.label} exited during start-up:\n${this.stderrTail}`);
      try {
        const res = await fetch(`${this.url}/healthz`, { signal: AbortSignal.timeout(1000) });
        if (res.status === 200) return;
      } catch {
        /* not yet */
      }
      await new Promise((r) => setTimeout(r, 100));
    }
    throw new Error(`${this.label} did not answer /healthz:\n${this.stderrTail}`);
  }

  private ask(cmd: 'reset' | 'stats' | 'gc' | 'heap', timeoutMs = 30_000, path?: string): Promise<ProbeReply> {
    const probe = this.nextProbe++;
    return new Promise((resolve, reject) => {
      const timer = setTimeout(() => {
        this.waiting.delete(probe);
        reject(new Error(`${this.label}: probe ${cmd} timed out`));
      }, timeoutMs);
      this.waiting.set(probe, (r) => {
        clearTimeout(timer);
        resolve(r);
      });
      // With a callback, a channel closed by a crash (the soak kills servers) fails this probe
      // instead of raising an 'error' event on the child process.
      this.proc.send({ probe, cmd, path }, (err) => {
        if (!err) return;
        clearTimeout(timer);
        this.waiting.delete(probe);
        reject(new Error(`${this.label}: probe ${cmd}: ${err.message}`));
      });
    });
  }

  /** Starts a measurement window; returns the server's CLOCK_MONOTONIC in µs. */
  async resetWindow(): Promise<number> {
    return (await this.ask('reset')).hrtimeUs as number;
  }

  async windowStats(): Promise<WindowStats> {
    return (await this.ask('stats')) as unknown as WindowStats;
  }

  /** Memory after two forced full GCs. */
  async memoryAfterGc(): Promise<NodeJS.MemoryUsage> {
    return (await this.ask('gc', 60_000)).mem as NodeJS.MemoryUsage;
  }

  /** Writes a V8 heap snapshot of the server to `path` (investigations only). */
  async heapSnapshot(path: string): Promise<void> {
    await this.ask('heap', 120_000, path);
  }

  /** SIGKILL: a crash. The data directory stays (for a restart). */
  async kill(): Promise<void> {
    if (this.proc.exitCode === null && this.proc.signalCode === null) this.proc.kill('SIGKILL');
    await this.exited;
  }

  /** Graceful stop (SIGTERM, so a --cpu-prof profile is written), then SIGKILL after a deadline. */
  async stop(removeData = true): Promise<void> {
    if (this.proc.exitCode === null && this.proc.signalCode === null) {
      this.proc.kill('SIGTERM');
      const timer = setTimeout(() => this.proc.kill('SIGKILL'), 15_000);
      await this.exited;
      clearTimeout(timer);
    }
    if (removeData && this.ownsDataDir) rmSync(this.dataDir, { recursive: true, force: true });
  }
}
