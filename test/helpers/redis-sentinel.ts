import { spawn } from 'node:child_process';
import { writeFileSync } from 'node:fs';
import { createClient } from 'redis';
import type { RedisClient } from '../../src/infra/redis/redis-client.js';
import { freePort, waitForRedisPing } from '../../support/loopback.js';
import { TestRedis } from './redis-server.js';
import { ServerProcess } from './server-process.js';
import { eventually } from './socket-client.js';
import { tempDir } from './test-server.js';

/** The name the Sentinels monitor the master by (REDIS_SENTINEL_MASTER). */
export const SENTINEL_MASTER_NAME = 'vcs-master';

/**
 * Sentinel's timings, shortened so that a test's failover takes seconds: a master silent for
 * 1 s is subjectively down; two Sentinels agreeing make it objectively down and one of them
 * promotes the most up-to-date replica.
 */
const DOWN_AFTER_MS = 1000;
const FAILOVER_TIMEOUT_MS = 3000;

/** One `redis-server --sentinel` process with a config file of its own (Sentinel rewrites it). */
class TestSentinel extends ServerProcess {
  constructor(private readonly masterPort: number) {
    super(tempDir('vcs-sentinel-'));
  }

  async start(): Promise<void> {
    if (!this.port) {
      this.port = await freePort();
      const conf = [
        `port ${this.port}`,
        'bind 127.0.0.1',
        `dir ${this.dir}`,
        `sentinel monitor ${SENTINEL_MASTER_NAME} 127.0.0.1 ${this.masterPort} 2`,
        `sentinel down-after-milliseconds ${SENTINEL_MASTER_NAME} ${DOWN_AFTER_MS}`,
        `sentinel failover-timeout ${SENTINEL_MASTER_NAME} ${FAILOVER_TIMEOUT_MS}`,
        `sentinel parallel-syncs ${SENTINEL_MASTER_NAME} 1`,
      ];
      writeFileSync(`${this.dir}/sentinel.conf`, conf.join('\n') + '\n');
    }
    this.adopt(spawn('redis-server', [`${this.dir}/sentinel.conf`, '--sentinel'], { stdio: 'ignore' }));
    await waitForRedisPing(this.port);
  }
}

/**
 * A real Sentinel deployment on free loopback ports: a master (AOF), `replicas` replicas and
 * three Sentinels (quorum 2), started from Debian's redis-server. Faults are injected on the
 * servers themselves (`master` is whichever server the Sentinels name now).
 */
export class TestRedisSentinel {
  readonly servers: TestRedis[];
  sentinels: TestSentinel[] = [];

  constructor(readonly options: { replicas?: number } = {}) {
    const master = new TestRedis({ aof: true });
    this.servers = [master, ...Array.from({ length: options.replicas ?? 1 }, () => new TestRedis({ aof: true, replicaOf: master }))];
  }

  async start(): Promise<void> {
    const [master, ...replicas] = this.servers;
    await master!.start();
    await Promise.all(replicas.map((r) => r.start()));
    this.sentinels = [0, 1, 2].map(() => new TestSentinel(master!.port));
    await Promise.all(this.sentinels.map((s) => s.start()));
    await this.settled();
  }

  /** Every replica is in sync, and every Sentinel knows the master, its replicas and the two other Sentinels. */
  async settled(timeoutMs = 20_000): Promise<void> {
    const replicas = this.servers.length - 1;
    const master = await this.master();
    await eventually(
      async () => {
        for (const r of this.servers.filter((s) => s !== master)) {
          if (!/master_link_status:up/.test(await this.ask(r.port, (c) => c.info('replication')))) return false;
        }
        for (const s of this.sentinels) {
          const [known, others] = await this.ask(s.port, async (c) => [
            (await c.sendCommand(['SENTINEL', 'REPLICAS', SENTINEL_MASTER_NAME])) as unknown[],
            (await c.sendCommand(['SENTINEL', 'SENTINELS', SENTINEL_MASTER_NAME])) as unknown[],
          ]);
          const up = known!.filter((r) => !/s_down|o_down|disconnected/.test(JSON.stringify(r)));
          if (up.length < replicas || others!.length < 2) return false;
        }
        return true;
      },
      timeoutMs,
      'Sentinels know the master, its replicas and each other',
    );
  }

  /** The server the Sentinels name as master now. */
  async master(): Promise<TestRedis> {
    const [, port] = (await this.ask(this.sentinels[0]!.port, (c) => c.sendCommand(['SENTINEL', 'GET-MASTER-ADDR-BY-NAME', SENTINEL_MASTER_NAME]))) as string[];
    const server = this.servers.find((s) => s.port === Number(port));
    if (!server) throw new Error(`the Sentinels name a master on port ${port}, which is none of ours`);
    return server;
  }

  /** Resolves once the Sentinels name a master other than `old` and it takes writes. */
  async failedOverFrom(old: TestRedis, timeoutMs = 20_000): Promise<TestRedis> {
    let next: TestRedis | null = null;
    await eventually(
      async () => {
        const now = await this.master().catch(() => old);
        if (now === old) return false;
        const role = await this.ask(now.port, (c) => c.info('replication')).catch(() => '');
        next = /role:master/.test(role) ? now : null;
        return next !== null;
      },
      timeoutMs,
      'a replica promoted by the Sentinels',
    );
    return next!;
  }

  /** Resolves once `master` has a replica streaming from it (what REDIS_MIN_REPLICAS_ACK=1 needs to ack). */
  async replicaOnline(master: TestRedis, timeoutMs = 30_000): Promise<void> {
    await eventually(
      async () => /slave\d+:[^\r\n]*state=online/.test(await this.ask(master.port, (c) => c.info('replication')).catch(() => '')),
      timeoutMs,
      'a replica online on the promoted master',
    );
  }

  get env(): Record<string, string> {
    return { REDIS_SENTINELS: this.sentinels.map((s) => `127.0.0.1:${s.port}`).join(','), REDIS_SENTINEL_MASTER: SENTINEL_MASTER_NAME };
  }

  async stop(): Promise<void> {
    await Promise.all([...this.sentinels, ...this.servers].map((p) => p.stop()));
  }

  /** One command or a few against one server, on a short-lived plain client. */
  async ask<T>(port: number, fn: (c: RedisClient) => Promise<T>): Promise<T> {
    const client: RedisClient = createClient({ url: `redis://127.0.0.1:${port}`, socket: { connectTimeout: 1000, reconnectStrategy: false } });
    client.on('error', () => {});
    await client.connect();
    try {
      return await fn(client);
    } finally {
      client.destroy();
    }
  }
}
