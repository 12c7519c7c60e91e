import { mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { BenchRedis } from '../lib/redis.js';
import type { ServerFleet } from '../lib/server-fleet.js';
import type { ServerProc } from '../lib/server-proc.js';

/**
 * The soak's cluster: one redis-server with AOF (`appendfsync always`) and two nodes of our
 * server over it, sharing one data directory (the SQLite store of the cluster), as
 * docs/operations.md describes a one-host cluster. A node restarts on its own port and the
 * shared data, so clients reconnect to the address they had.
 */
export class SoakCluster {
  readonly redis = new BenchRedis({ aof: true });
  readonly nodes: ServerProc[] = [];
  private readonly dataDir = mkdtempSync(join(tmpdir(), 'vcs-soak-'));
  /** How often each node was restarted. */
  readonly restarts: number[] = [0, 0];

  constructor(private readonly fleet: ServerFleet) {}

  async start(): Promise<void> {
    await this.redis.start();
    for (const id of ['a', 'b']) this.nodes.push(await this.startNode(id));
  }

  get urls(): string[] {
    return this.nodes.map((n) => n.url);
  }

  private startNode(id: string, port?: number): Promise<ServerProc> {
    return this.fleet.start({ kind: 'ours', cpu: null, redisUrl: this.redis.url, nodeId: `soak-${id}`, dataDir: this.dataDir, ...(port ? { port } : {}) });
  }

  /** SIGKILL node `i`, then start it again on the same port and data: a crash and a supervisor's restart. */
  async crashAndRestart(i: number, downMs: number): Promise<void> {
    const old = this.nodes[i]!;
    await old.kill();
    await new Promise((r) => setTimeout(r, downMs));
    this.nodes[i] = await this.startNode(String.fromCharCode(97 + i), old.port);
    this.restarts[i]!++;
  }

  async stop(): Promise<void> {
    await Promise.all(this.nodes.map((n) => n.stop(false)));
    await this.redis.stop();
    rmSync(this.dataDir, { recursive: true, force: true });
  }
}
