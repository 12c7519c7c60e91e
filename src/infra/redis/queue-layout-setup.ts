import type { Logger } from '../../ports/logger.js';
import { LuaScript } from './lua-script.js';
import { LEGACY_PARTITION, type QueueLayout } from './queue-layout.js';
import type { RedisClient } from './redis-client.js';
import { keys } from './redis-keys.js';

/** The layout of chat keys this release writes: `chat:{q<n>}:…` (see QueueLayout). */
const LAYOUT_VERSION = '2';
const META = 'chat:meta';
const MIGRATION_LOCK = 'chat:migration-lock';
const LEGACY_KEY = /^chat:\{([^}]+)\}:(seq|log|idem:.+)$/;

/** Moves a legacy counter to its new key, keeping the higher of the two. */
const MOVE_COUNTER = new LuaScript(`
local old = tonumber(redis.call('GET', KEYS[1]) or '0')
local new = tonumber(redis.call('GET', KEYS[2]) or '0')
if old > new then redis.call('SET', KEYS[2], string.format('%d', old)) end
redis.call('DEL', KEYS[1])
return 1
`);

export interface LayoutSetup {
  /** The single queue stream of an earlier release still holds entries to persist. */
  legacyQueue: boolean;
}

/**
 * Run once per node before it serves. Records QUEUE_PARTITIONS in Redis on first start and
 * refuses another value (it would move rooms to other counters and reuse seqs). On one
 * Redis it also moves the chat keys of earlier releases (`chat:{roomId}:seq|log|idem:…`) to
 * this release's layout, once, under a lock; their queue stream is left to the consumers to
 * drain (`earlierKeys`: false where no earlier release can have run, a Redis Cluster,
 * whose keys a scan of one node would not see anyway). A scan is acceptable here (once, before serving), never on a hot path. Nodes of an
 * earlier release must be stopped first: they would keep writing the old keys.
 */
export async function setUpQueueLayout(redis: RedisClient, layout: QueueLayout, nodeId: string, logger: Logger, options: { earlierKeys: boolean }): Promise<LayoutSetup> {
  await redis.hSetNX(META, 'partitions', String(layout.count));
  const recorded = Number(await redis.hGet(META, 'partitions'));
  if (recorded !== layout.count) {
    throw new Error(
      `QUEUE_PARTITIONS=${layout.count}, but this Redis holds chat data laid out for QUEUE_PARTITIONS=${recorded}; ` +
        `changing it would move rooms to other counters. Start every node with QUEUE_PARTITIONS=${recorded}.`,
    );
  }
  await redis.hSet(keys.nodeReleases, nodeId, LAYOUT_VERSION);
  if ((await redis.hGet(META, 'layout')) !== LAYOUT_VERSION) {
    if (options.earlierKeys) await migrateOnce(redis, layout, logger);
    else await redis.hSet(META, 'layout', LAYOUT_VERSION);
  }
  return { legacyQueue: (await redis.exists(LEGACY_PARTITION.queue)) > 0 };
}

async function migrateOnce(redis: RedisClient, layout: QueueLayout, logger: Logger): Promise<void> {
  await refuseEarlierReleases(redis);
  const deadline = Date.now() + 60_000;
  while ((await redis.set(MIGRATION_LOCK, '1', { condition: 'NX', expiration: { type: 'PX', value: 60_000 } })) === null) {
    // Another node is migrating: serve only once it is done.
    if (Date.now() > deadline) throw new Error('timed out waiting for another node to move the chat keys to the new layout');
    await new Promise((r) => setTimeout(r, 200));
    if ((await redis.hGet(META, 'layout')) === LAYOUT_VERSION) return;
  }
  try {
    let moved = 0;
    for await (const batch of redis.scanIterator({ MATCH: 'chat:{*', COUNT: 1000 })) {
      const work: Promise<unknown>[] = [];
      for (const key of batch as unknown as string[]) {
        const match = LEGACY_KEY.exec(key);
        if (!match || /^q\d+$/.test(match[1]!)) continue;
        const room = layout.room(match[1]!);
        const kind = match[2]!;
        if (kind === 'seq') work.push(MOVE_COUNTER.run(redis, [key, room.seq], []));
        else if (kind === 'log') work.push(redis.renameNX(key, room.log));
        else work.push(redis.renameNX(key, room.idempotency(kind.slice('idem:'.length))));
      }
      await Promise.all(work);
      moved += work.length;
    }
    await redis.hSet(META, 'layout', LAYOUT_VERSION);
    logger.info('moved the chat keys of the earlier release to the partitioned layout', { keys: moved, partitions: layout.count });
  } finally {
    await redis.del(MIGRATION_LOCK);
  }
}

/** Live nodes (fresh heartbeats) that never registered a release are of an earlier one. */
async function refuseEarlierReleases(redis: RedisClient): Promise<void> {
  const live = await redis.zRangeByScore(keys.nodes, Date.now() - 5000, '+inf');
  if (live.length === 0) return;
  const releases = await redis.hmGet(keys.nodeReleases, live);
  const earlier = live.filter((_, i) => releases[i] === null);
  if (earlier.length > 0) {
    throw new Error(`nodes of an earlier release are running (${earlier.join(', ')}): stop them before starting this release, which moves the chat keys to a new layout`);
  }
}
