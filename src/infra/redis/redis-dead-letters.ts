import type { DeadLetter, DeadLetterQueue } from '../../ports/dead-letters.js';
import { LEGACY_PARTITION, type QueueLayout, type QueuePartition } from './queue-layout.js';
import type { RedisClient } from './redis-client.js';
import { compareStreamIds } from './stream-ids.js';

/** A dead letter's id: `q<partition>-<stream id>`; a bare stream id is one of an earlier release. */
const DEAD_LETTER_ID = /^(?:q(\d{1,5})-)?(\d{1,20}-\d{1,20})$/;

/**
 * Dead letters, one stream per queue partition (the consumer moves an entry there in the
 * partition's own transaction), plus the single stream of earlier releases while it has any.
 * The operator sees one list, oldest first.
 */
export class RedisDeadLetters implements DeadLetterQueue {
  private readonly streams: readonly QueuePartition[];

  constructor(
    private readonly redis: RedisClient,
    private readonly layout: QueueLayout,
  ) {
    this.streams = [...layout.partitions, LEGACY_PARTITION];
  }

  async list(limit: number): Promise<DeadLetter[]> {
    const perStream = await Promise.all(
      this.streams.map(async (p) => ((await this.redis.xRange(p.deadLetters, '-', '+', { COUNT: limit })) ?? []).map((e) => ({ p, ...e }))),
    );
    const oldestFirst = perStream.flat().sort((a, b) => compareStreamIds(a.id, b.id));
    return oldestFirst.slice(0, limit).map(({ p, id, message }) => ({
      id: p.index < 0 ? id : `q${p.index}-${id}`,
      reason: String(message.reason ?? ''),
      attempts: Number(message.attempts ?? 0),
      firstSeenAt: String(message.firstSeenAt ?? ''),
      entry: safeParse(String(message.entry ?? 'null')),
    }));
  }

  /**
   * Puts the original entry back in its partition's queue (a fresh attempt budget) and
   * removes it here, in one transaction. One of an earlier release goes to its room's
   * partition (that stream only exists on a single Redis, where a transaction may span slots).
   */
  async retry(id: string): Promise<boolean> {
    const found = await this.find(id);
    if (!found) return false;
    const fields = safeParse(String(found.entry.message.entry ?? '{}'));
    const entry = fields && typeof fields === 'object' ? (fields as Record<string, unknown>) : { raw: String(found.entry.message.entry) };
    const flat = Object.fromEntries(Object.entries(entry).map(([k, v]) => [k, String(v)]));
    if (Object.keys(flat).length === 0) flat.raw = '';
    const queue = found.partition.index >= 0 ? found.partition.queue : this.layout.partitionOf(flat.room ?? '').queue;
    await this.redis.multi().xAdd(queue, '*', flat).xDel(found.partition.deadLetters, found.streamId).exec();
    return true;
  }

  async drop(id: string): Promise<boolean> {
    const at = this.locate(id);
    if (!at) return false;
    return (await this.redis.xDel(at.partition.deadLetters, at.streamId)) > 0;
  }

  private locate(id: string): { partition: QueuePartition; streamId: string } | null {
    const match = DEAD_LETTER_ID.exec(id);
    if (!match) return null;
    const partition = match[1] === undefined ? LEGACY_PARTITION : this.streams.find((p) => p.index === Number(match[1]));
    return partition ? { partition, streamId: match[2]! } : null;
  }

  private async find(id: string) {
    const at = this.locate(id);
    if (!at) return null;
    const [entry] = (await this.redis.xRange(at.partition.deadLetters, at.streamId, at.streamId)) ?? [];
    return entry ? { ...at, entry } : null;
  }
}

function safeParse(json: string): unknown {
  try {
    return JSON.parse(json);
  } catch {
    return json;
  }
}
