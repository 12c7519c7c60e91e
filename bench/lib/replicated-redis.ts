import type { WindowMeter } from '../rigs/load-window.js';
import { BenchRedis, type SharedRedis } from './redis.js';
import type { ServerOptions } from './server-proc.js';

/**
 * A master and one replica on loopback, both with AOF and `appendfsync always`: what
 * `REDIS_MIN_REPLICAS_ACK=1` needs. Nodes connect to the master; the meter is the master's
 * (the replica's work is replication, which both sides of a comparison pay alike).
 */
export class BenchReplicatedRedis implements SharedRedis {
  readonly master = new BenchRedis({ aof: true });
  readonly replica = new BenchRedis({ aof: true, replicaOf: this.master });

  async start(): Promise<void> {
    await this.master.start();
    await this.replica.start();
    // Measure in steady state: the replica's first full sync done.
    const deadline = Date.now() + 15_000;
    while (!/master_link_status:up/.test(String(await this.replica.command(['INFO', 'replication'])))) {
      if (Date.now() > deadline) throw new Error(`replica on port ${this.replica.port} never synced with its master`);
      await new Promise((r) => setTimeout(r, 100));
    }
  }

  async stop(): Promise<void> {
    await Promise.all([this.replica.stop(), this.master.stop()]);
  }

  connection(): Pick<ServerOptions, 'redisUrl'> {
    return this.master.connection();
  }

  meter(): WindowMeter {
    return this.master.meter();
  }
}
