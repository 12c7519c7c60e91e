import type { ChildProcess } from 'node:child_process';
import { fileURLToPath } from 'node:url';
import type { NetHost } from './host.js';

const MAIN = fileURLToPath(new URL('./ns-client-main.ts', import.meta.url));

export interface ClientReport {
  type: string;
  at: number;
  [key: string]: unknown;
}

/** The test's handle on ns-client-main.ts running inside a test host. */
export class NsClient {
  readonly reports: ClientReport[] = [];
  private stderr = '';
  private readonly proc: ChildProcess;

  constructor(host: NetHost, options: { url: string; token: string; roomId: string }) {
    this.proc = host.spawn(process.execPath, ['--import', 'tsx', MAIN, JSON.stringify(options)], { stdio: ['pipe', 'pipe', 'pipe'] });
    let buffered = '';
    this.proc.stdout!.on('data', (d: Buffer) => {
      buffered += d.toString();
      const lines = buffered.split('\n');
      buffered = lines.pop()!;
      for (const line of lines) if (line.trim()) this.reports.push(JSON.parse(line) as ClientReport);
    });
    this.proc.stderr!.on('data', (d: Buffer) => (this.stderr = (this.stderr + d.toString()).slice(-4000)));
  }

  command(cmd: 'seqs' | 'drop'): void {
    this.proc.stdin!.write(`${cmd}\n`);
  }

  /** The first report from index `from` on that `match` accepts; rejects after `timeoutMs`. */
  async waitFor(match: (r: ClientReport) => boolean, timeoutMs: number, what: string, from = 0): Promise<ClientReport> {
    const deadline = Date.now() + timeoutMs;
    while (Date.now() < deadline) {
      const found = this.reports.slice(from).find(match);
      if (found) return found;
      if (this.proc.exitCode !== null) break;
      await new Promise((r) => setTimeout(r, 20));
    }
    throw new Error(`client: no ${what} within ${timeoutMs} ms; reports ${JSON.stringify(this.reports)}; stderr ${this.stderr}`);
  }

  async stop(): Promise<void> {
    if (this.proc.exitCode !== null || this.proc.signalCode !== null) return;
    const exited = new Promise((r) => this.proc.once('exit', r));
    this.proc.kill('SIGKILL');
    await exited;
  }
}
