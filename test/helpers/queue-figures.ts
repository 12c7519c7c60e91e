import type { RedisTopology } from '../../src/config/app-config.js';
import { connectRedis } from '../../src/infra/redis/redis-client.js';
import { LEGACY_PARTITION, QUEUE_GROUP, QueueLayout } from '../../src/infra/redis/queue-layout.js';
import { silentLogger } from './silent-logger.js';

/** The default QUEUE_PARTITIONS, which the test servers run with unless told otherwise. */
export const DEFAULT_PARTITIONS = 16;

export interface QueueFigures {
  /** Entries in the queue streams (not yet stored and deleted). */
  depth: number;
  /** Entries read by a consumer and not yet acknowledged. */
  pending: number;
  deadLetters: number;
}

/** The persistence queue as an operator would count it: every partition (and an earlier release's stream). */
export async function queueFigures(target: string | RedisTopology, partitions = DEFAULT_PARTITIONS): Promise<QueueFigures> {
  const redis = await connectRedis(target, silentLogger, 'queue-figures');
  try {
    const figures = { depth: 0, pending: 0, deadLetters: 0 };
    for (const p of [...new QueueLayout(partitions).partitions, LEGACY_PARTITION]) {
      figures.depth += await redis.xLen(p.queue);
      figures.pending += await redis.xPending(p.queue, QUEUE_GROUP).then((x) => Number(x.pending)).catch(() => 0);
      figures.deadLetters += await redis.xLen(p.deadLetters);
    }
    return figures;
  } finally {
    await redis.close();
  }
}
