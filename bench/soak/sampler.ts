import { createClient } from 'redis';
import { LEGACY_PARTITION, QUEUE_GROUP, QueueLayout } from '../../src/infra/redis/queue-layout.js';

/** The nodes run with the default QUEUE_PARTITIONS: the queue is these streams (and an earlier release's). */
const PARTITIONS = [...new QueueLayout(16).partitions, LEGACY_PARTITION];
import type { ServerProc } from '../lib/server-proc.js';
import { round } from '../lib/stats.js';

/** One node's memory at one moment, after two forced full GCs (the bench probe's `gc`). */
export interface MemorySample {
  /** Seconds since the soak started. */
  t: number;
  node: string;
  /** The process: a restarted node is a new one, whose series starts over. */
  pid: number;
  heapMB: number;
  rssMB: number;
}

export interface QueueSample {
  t: number;
  /** XLEN chat:queue */
  length: number;
  /** XPENDING chat:queue persist: read by a consumer, not yet acknowledged. */
  pending: number;
  deadLetters: number;
}

const within = <T>(ms: number, p: Promise<T>): Promise<T> =>
  Promise.race([p, new Promise<T>((_, reject) => setTimeout(() => reject(new Error(`no answer within ${ms} ms`)), ms).unref())]);

/**
 * Samples every node's heap and RSS and the persistence queue at a fixed interval. Heap is
 * read after forced GCs so that the series is what is retained, not where the collector
 * happened to be; the servers get `--expose-gc` and the probe only as bench children
 * (bench/lib/server-proc.ts), never in production. A node that is down or a Redis that is
 * faulted just misses samples.
 */
export class Sampler {
  readonly memory: MemorySample[] = [];
  readonly queue: QueueSample[] = [];
  private timer: NodeJS.Timeout | null = null;
  private readonly redis;
  private busy = false;

  constructor(
    private readonly nodes: () => ServerProc[],
    redisUrl: string,
    private readonly startedAt: number,
  ) {
    // No offline queue: while Redis is down a sample fails at once instead of piling up.
    this.redis = createClient({ url: redisUrl, disableOfflineQueue: true, socket: { reconnectStrategy: () => 200, connectTimeout: 1000 } });
    this.redis.on('error', () => undefined);
  }

  async start(intervalMs: number): Promise<void> {
    await this.redis.connect();
    this.timer = setInterval(() => void this.sample(), intervalMs);
  }

  private get now(): number {
    return round((Date.now() - this.startedAt) / 1000, 1);
  }

  async sample(): Promise<void> {
    // A slow GC or a paused Redis must not stack samples up.
    if (this.busy) return;
    this.busy = true;
    try {
      await Promise.all([...this.nodes().map((n) => this.sampleNode(n)), this.readQueue().then((q) => q && this.queue.push(q))]);
    } finally {
      this.busy = false;
    }
  }

  private async sampleNode(node: ServerProc): Promise<void> {
    try {
      const t = this.now;
      const mem = await within(5000, node.memoryAfterGc());
      this.memory.push({ t, node: node.label, pid: node.pid, heapMB: round(mem.heapUsed / 1048576, 2), rssMB: round(mem.rss / 1048576, 1) });
    } catch {
      /* down or restarting */
    }
  }

  /** The queue now; null while Redis does not answer. */
  async readQueue(): Promise<QueueSample | null> {
    try {
      const t = this.now;
      const sum = async (read: (p: (typeof PARTITIONS)[number]) => Promise<number>) => (await Promise.all(PARTITIONS.map(read))).reduce((a, b) => a + b, 0);
      const [length, pending, deadLetters] = await within(1000, Promise.all([sum((p) => this.xlen(p.queue)), sum((p) => this.xpending(p.queue)), sum((p) => this.xlen(p.deadLetters))]));
      return { t, length, pending, deadLetters };
    } catch {
      return null;
    }
  }

  private async xlen(key: string): Promise<number> {
    return Number(await this.redis.sendCommand(['XLEN', key]));
  }

  private async xpending(queue: string): Promise<number> {
    try {
      const summary = (await this.redis.sendCommand(['XPENDING', queue, QUEUE_GROUP])) as unknown[];
      return Number(summary[0]);
    } catch (err) {
      // No group yet: nothing was ever read, so nothing is pending.
      if (/NOGROUP/.test((err as Error).message)) return 0;
      throw err;
    }
  }

  async stop(): Promise<void> {
    if (this.timer) clearInterval(this.timer);
    while (this.busy) await new Promise((r) => setTimeout(r, 50));
    this.redis.destroy();
  }
}
