import type { DeadLetter, DeadLetterQueue } from '../../ports/dead-letters.js';
import type { RedisClient } from './redis-client.js';
import { keys } from './redis-keys.js';

const STREAM_ID = /^\d{1,20}-\d{1,20}$/;

/** Dead letters in the `chat:dead-letters` stream. */
export class RedisDeadLetters implements DeadLetterQueue {
  constructor(private readonly redis: RedisClient) {}

  async list(limit: number): Promise<DeadLetter[]> {
    const entries = (await this.redis.xRange(keys.deadLetters, '-', '+', { COUNT: limit })) ?? [];
    return entries.map(({ id, message }) => ({
      id,
      reason: String(message.reason ?? ''),
      attempts: Number(message.attempts ?? 0),
      firstSeenAt: String(message.firstSeenAt ?? ''),
      entry: safeParse(String(message.entry ?? 'null')),
    }));
  }

  /** Puts the original entry back in the queue (a fresh attempt budget) and removes it here. */
  async retry(id: string): Promise<boolean> {
    const found = await this.find(id);
    if (!found) return false;
    const fields = safeParse(String(found.message.entry ?? '{}'));
    const entry = fields && typeof fields === 'object' ? (fields as Record<string, unknown>) : { raw: String(found.message.entry) };
    const flat = Object.fromEntries(Object.entries(entry).map(([k, v]) => [k, String(v)]));
    if (Object.keys(flat).length === 0) flat.raw = '';
    await this.redis.multi().xAdd(keys.queue, '*', flat).xDel(keys.deadLetters, id).exec();
    return true;
  }

  async drop(id: string): Promise<boolean> {
    if (!STREAM_ID.test(id)) return false;
    return (await this.redis.xDel(keys.deadLetters, id)) > 0;
  }

  private async find(id: string) {
    if (!STREAM_ID.test(id)) return null;
    const [entry] = (await this.redis.xRange(keys.deadLetters, id, id)) ?? [];
    return entry ?? null;
  }
}

function safeParse(json: string): unknown {
  try {
    return JSON.parse(json);
  } catch {
    return json;
  }
}
