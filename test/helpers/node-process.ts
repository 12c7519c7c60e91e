import { spawn, type ChildProcess } from 'node:child_process';
import { fileURLToPath } from 'node:url';
import { freePort } from '../../support/loopback.js';
import type { ProcessHost } from './server-process.js';

const ROOT = fileURLToPath(new URL('../..', import.meta.url));
/** Output kept per stream: the tail is what explains a failure. */
const MAX_OUTPUT_CHARS = 64 * 1024;

export interface NodeProcessOptions {
  /** One Redis; for a Redis Cluster or Sentinels, give the topology's variables in `env` instead. */
  redisUrl?: string;
  /** Shared with the other nodes (SQLite file and JWT secret). */
  dataDir: string;
  nodeId: string;
  /** More environment for this node (e.g. SHUTDOWN_TIMEOUT_MS, rate limits). */
  env?: Record<string, string>;
  /** How long start-up may take until GET /healthz answers. */
  startTimeoutMs?: number;
  /** Run inside this test host (test/helpers/net), listening on its address, not on loopback. */
  host?: ProcessHost;
}

/**
 * A server node as its own process (`node --import tsx src/main.ts`), so that a test can
 * SIGKILL or SIGTERM it. Its output is kept in memory for diagnostics.
 */
export class NodeProcess {
  /** When the process ended (Date.now()), or null while it runs. */
  exitedAt: number | null = null;
  private stdoutText = '';
  private stderrText = '';
  private readonly exit: Promise<{ code: number | null; signal: NodeJS.Signals | null }>;

  private constructor(
    readonly proc: ChildProcess,
    readonly nodeId: string,
    readonly port: number,
    private readonly addr = '127.0.0.1',
  ) {
    proc.stdout!.on('data', (d: Buffer) => (this.stdoutText = tail(this.stdoutText + d.toString())));
    proc.stderr!.on('data', (d: Buffer) => (this.stderrText = tail(this.stderrText + d.toString())));
    // 'close' (not 'exit'): the output streams are fully read by then.
    this.exit = new Promise((resolve) =>
      proc.once('close', (code, signal) => {
        this.exitedAt = Date.now();
        resolve({ code, signal });
      }),
    );
  }

  get url(): string {
    return `http://${this.addr}:${this.port}`;
  }

  get pid(): number | undefined {
    return this.proc.pid;
  }

  get running(): boolean {
    return this.proc.exitCode === null && this.proc.signalCode === null;
  }

  get stderr(): string {
    return this.stderrText;
  }

  get stdout(): string {
    return this.stdoutText;
  }

  /** A block of text for a failure message: who this node is and what it printed. */
  diagnostics(): string {
    const state = this.running ? 'running' : `exited (code ${this.proc.exitCode}, signal ${this.proc.signalCode})`;
    return `--- node ${this.nodeId} (pid ${this.pid}, ${this.url}, ${state}) ---\nstderr:\n${this.stderrText || '(empty)'}\nstdout:\n${this.stdoutText || '(empty)'}`;
  }

  /** Starts a node on a free port and resolves once GET /healthz answers 200. */
  static async start(options: NodeProcessOptions): Promise<NodeProcess> {
    let lastError: unknown;
    // freePort() has a small race (the port is free when read, not when bound): retry.
    for (let attempt = 0; attempt < 3; attempt++) {
      const node = NodeProcess.launch(options, await freePort());
      try {
        await node.waitForHealth(options.startTimeoutMs ?? 20_000);
        return node;
      } catch (err) {
        lastError = err;
        await node.stop();
        if (!/already in use/.test(node.stderr + node.stdout)) break;
      }
    }
    throw lastError;
  }

  private static launch(options: NodeProcessOptions, port: number): NodeProcess {
    const addr = options.host?.addr ?? '127.0.0.1';
    const spawnProcess = options.host ? options.host.spawn.bind(options.host) : spawn;
    const proc = spawnProcess(process.execPath, ['--import', 'tsx', 'src/main.ts'], {
      cwd: ROOT,
      env: {
        PATH: process.env.PATH ?? '',
        NODE_ENV: 'test',
        PORT: String(port),
        HOST: addr,
        ...(options.redisUrl ? { REDIS_URL: options.redisUrl } : {}),
        DATA_DIR: options.dataDir,
        NODE_ID: options.nodeId,
        LOG_DIR: 'none',
        LOG_LEVEL: 'warn',
        ...options.env,
      },
      stdio: ['ignore', 'pipe', 'pipe'],
    });
    const node = new NodeProcess(proc, options.nodeId, port, addr);
    live.add(node);
    void node.exit.then(() => live.delete(node));
    return node;
  }

  private async waitForHealth(timeoutMs: number): Promise<void> {
    const deadline = Date.now() + timeoutMs;
    while (Date.now() < deadline) {
      if (!this.running) throw new Error(`node ${this.nodeId} exited during start-up\n${this.diagnostics()}`);
      try {
        const res = await fetch(`${this.url}/healthz`, { signal: AbortSignal.timeout(1000) });
        if (res.status === 200) return;
      } catch {
        /* not listening yet */
      }
      await new Promise((r) => setTimeout(r, 50));
    }
    throw new Error(`node ${this.nodeId} did not answer /healthz within ${timeoutMs} ms\n${this.diagnostics()}`);
  }

  /**
   * Sends a signal: SIGKILL is a crash, SIGTERM the graceful path, SIGSTOP a node that hangs
   * or is black-holed (its TCP connections stay open, nothing answers) until SIGCONT.
   */
  kill(signal: 'SIGKILL' | 'SIGTERM' | 'SIGSTOP' | 'SIGCONT'): void {
    if (this.running) this.proc.kill(signal);
  }

  /**
   * Resolves with the exit code once the process has ended (null when a signal ended it;
   * see `signalCode`); rejects with the node's output after `timeoutMs`.
   */
  async waitForExit(timeoutMs = 15_000): Promise<number | null> {
    let timer: NodeJS.Timeout | undefined;
    const timeout = new Promise<never>((_, reject) => {
      timer = setTimeout(() => reject(new Error(`node ${this.nodeId} did not exit within ${timeoutMs} ms\n${this.diagnostics()}`)), timeoutMs);
    });
    try {
      return (await Promise.race([this.exit, timeout])).code;
    } finally {
      clearTimeout(timer);
    }
  }

  get signalCode(): NodeJS.Signals | null {
    return this.proc.signalCode;
  }

  /** Ends the node if it still runs (SIGKILL: cleanup must not wait) and waits for it. */
  async stop(): Promise<void> {
    this.kill('SIGKILL');
    await this.exit;
  }
}

/** Every node not yet exited, so that nothing outlives the test run. */
const live = new Set<NodeProcess>();
// Last resort if a suite forgot its after hook or mocha exits early (--exit): no orphans.
process.once('exit', () => {
  for (const node of live) node.proc.kill('SIGKILL');
});

/**
 * Registers the nodes a suite starts and stops them all in an `after` hook (and prints the
 * output of each node when a test of the suite failed). Call inside a `describe`.
 */
export function useNodeProcesses(): { start(options: NodeProcessOptions): Promise<NodeProcess>; all: NodeProcess[] } {
  const all: NodeProcess[] = [];
  let thisTest: NodeProcess[] = [];
  afterEach(function () {
    if (this.currentTest?.state === 'failed') for (const node of thisTest) console.error(node.diagnostics());
    thisTest = [];
  });
  after(async () => {
    await Promise.all(all.map((node) => node.stop()));
  });
  return {
    all,
    start: async (options) => {
      const node = await NodeProcess.start(options);
      all.push(node);
      thisTest.push(node);
      return node;
    },
  };
}

function tail(text: string): string {
  return text.length > MAX_OUTPUT_CHARS ? text.slice(-MAX_OUTPUT_CHARS) : text;
}
