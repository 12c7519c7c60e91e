import { createHash, randomUUID } from 'node:crypto';
import type { ClaimedDelivery, WebhookDeadLetter, WebhookDeadLetters, WebhookEvent, WebhookOutbox } from '../../ports/webhook-outbox.js';
import { deliveryIdOf } from '../webhooks/delivery-id.js';
import { LuaScript } from './lua-script.js';
import type { RedisClient } from './redis-client.js';
import { webhookKeys as k } from './redis-keys.js';

/** Redis's own clock in ms: every node's leases and due times are read against one clock. */
const NOW = `local t = redis.call('TIME') local now = tonumber(t[1]) * 1000 + math.floor(tonumber(t[2]) / 1000)`;

/** KEYS: due, deliveries, seen; ARGV: dedup window ms, dedup ('1'/'0'), then id, record pairs. */
const ENQUEUE = new LuaScript(`${NOW}
if ARGV[2] == '1' and not redis.call('SET', KEYS[3], '1', 'NX', 'PX', ARGV[1]) then return 0 end
for i = 3, #ARGV, 2 do
  if redis.call('HSETNX', KEYS[2], ARGV[i], ARGV[i + 1]) == 1 then redis.call('ZADD', KEYS[1], now, ARGV[i]) end
end
return 1`);

/** KEYS: due, deliveries, attempts, errors, leases; ARGV: limit, lease ms, lease token. Flat [id, record, attempts, error]…. */
const CLAIM = new LuaScript(`${NOW}
local ids = redis.call('ZRANGEBYSCORE', KEYS[1], '-inf', now, 'LIMIT', 0, tonumber(ARGV[1]))
local out = {}
for _, id in ipairs(ids) do
  local record = redis.call('HGET', KEYS[2], id)
  if record then
    redis.call('ZADD', KEYS[1], now + tonumber(ARGV[2]), id)
    redis.call('HSET', KEYS[5], id, ARGV[3])
    table.insert(out, id)
    table.insert(out, record)
    table.insert(out, redis.call('HGET', KEYS[3], id) or '0')
    table.insert(out, redis.call('HGET', KEYS[4], id) or '')
  else
    redis.call('ZREM', KEYS[1], id)
  end
end
return out`);

/**
 * The end of an attempt, only for the lease holder. KEYS: due, deliveries, attempts, errors,
 * leases, dead; ARGV: id, lease, step (done, retry, dead, release), delay ms, error.
 */
const FINISH = new LuaScript(`${NOW}
local id = ARGV[1]
if redis.call('HGET', KEYS[5], id) ~= ARGV[2] then return 0 end
redis.call('HDEL', KEYS[5], id)
local step = ARGV[3]
if step == 'done' then
  redis.call('ZREM', KEYS[1], id)
  redis.call('HDEL', KEYS[2], id)
  redis.call('HDEL', KEYS[3], id)
  redis.call('HDEL', KEYS[4], id)
elseif step == 'release' then
  redis.call('ZADD', KEYS[1], now, id)
else
  redis.call('HINCRBY', KEYS[3], id, 1)
  redis.call('HSET', KEYS[4], id, ARGV[5])
  if step == 'retry' then
    redis.call('ZADD', KEYS[1], now + tonumber(ARGV[4]), id)
  else
    redis.call('ZREM', KEYS[1], id)
    redis.call('ZADD', KEYS[6], now, id)
  end
end
return 1`);

/** KEYS: dead, due, deliveries, attempts, errors; ARGV: id, step (retry or drop). */
const DEAD = new LuaScript(`${NOW}
local id = ARGV[1]
if redis.call('ZREM', KEYS[1], id) == 0 then return 0 end
redis.call('HDEL', KEYS[5], id)
if ARGV[2] == 'retry' then
  redis.call('HSET', KEYS[4], id, 0)
  redis.call('ZADD', KEYS[2], now, id)
else
  redis.call('HDEL', KEYS[3], id)
  redis.call('HDEL', KEYS[4], id)
end
return 1`);

interface DeliveryRecord {
  url: string;
  event: WebhookEvent;
  firstSeenAt: string;
}

/**
 * The cluster-mode outbox: a due-time sorted set claimed by a script, so each delivery is in
 * the hands of one node at a time, and a node that dies mid-delivery loses it to another
 * once its lease runs out. Retries are the same set with a later score. All keys share one
 * hash slot (see webhookKeys): webhook traffic is small next to chat, and one slot keeps
 * every step one atomic script.
 */
export class RedisWebhookOutbox implements WebhookOutbox {
  readonly deadLetters: WebhookDeadLetters;
  private readonly dedupWindowMs: number;

  constructor(
    private readonly redis: RedisClient,
    options: { dedupWindowMs?: number } = {},
  ) {
    this.dedupWindowMs = options.dedupWindowMs ?? 24 * 3600 * 1000;
    const dead = (id: string, step: 'retry' | 'drop') => this.run(DEAD, [k.dead, k.due, k.deliveries, k.attempts, k.errors], [id, step]);
    this.deadLetters = {
      list: (limit) => this.listDead(limit),
      retry: async (id) => (await dead(id, 'retry')) === 1,
      drop: async (id) => (await dead(id, 'drop')) === 1,
    };
  }

  async enqueue(event: WebhookEvent, urls: readonly string[], dedupKey: string | null): Promise<boolean> {
    const record = (url: string) => JSON.stringify({ url, event, firstSeenAt: new Date().toISOString() } satisfies DeliveryRecord);
    const pairs = urls.flatMap((url) => [deliveryIdOf(event.id, url), record(url)]);
    const seen = k.seen(createHash('sha256').update(dedupKey ?? '').digest('base64url').slice(0, 24));
    const result = await this.run(ENQUEUE, [k.due, k.deliveries, seen], [this.dedupWindowMs, dedupKey === null ? '0' : '1', ...pairs]);
    return result === 1;
  }

  async claim(limit: number, leaseMs: number): Promise<ClaimedDelivery[]> {
    const lease = randomUUID();
    const flat = (await this.run(CLAIM, [k.due, k.deliveries, k.attempts, k.errors, k.leases], [limit, leaseMs, lease])) as string[];
    const claimed: ClaimedDelivery[] = [];
    for (let i = 0; i < flat.length; i += 4) {
      const record = JSON.parse(flat[i + 1]!) as DeliveryRecord;
      claimed.push({ id: flat[i]!, url: record.url, event: record.event, firstSeenAt: record.firstSeenAt, attempts: Number(flat[i + 2]), lastError: flat[i + 3] || null, lease });
    }
    return claimed;
  }

  complete(d: ClaimedDelivery): Promise<boolean> {
    return this.finish(d, 'done');
  }

  retryLater(d: ClaimedDelivery, error: string, delayMs: number): Promise<boolean> {
    return this.finish(d, 'retry', delayMs, error);
  }

  deadLetter(d: ClaimedDelivery, error: string): Promise<boolean> {
    return this.finish(d, 'dead', 0, error);
  }

  release(d: ClaimedDelivery): Promise<boolean> {
    return this.finish(d, 'release');
  }

  async depth(): Promise<{ pending: number; deadLetters: number }> {
    const [pending, deadLetters] = await Promise.all([this.redis.zCard(k.due), this.redis.zCard(k.dead)]);
    return { pending, deadLetters };
  }

  /** The client is the node's, closed with it. */
  async close(): Promise<void> {}

  private async finish(d: ClaimedDelivery, step: 'done' | 'retry' | 'dead' | 'release', delayMs = 0, error = ''): Promise<boolean> {
    const keys = [k.due, k.deliveries, k.attempts, k.errors, k.leases, k.dead];
    return (await this.run(FINISH, keys, [d.id, d.lease, step, Math.max(0, Math.round(delayMs)), error.slice(0, 500)])) === 1;
  }

  private async listDead(limit: number): Promise<WebhookDeadLetter[]> {
    const ids = await this.redis.zRange(k.dead, 0, limit - 1);
    if (ids.length === 0) return [];
    const [records, attempts, errors] = await Promise.all([this.redis.hmGet(k.deliveries, ids), this.redis.hmGet(k.attempts, ids), this.redis.hmGet(k.errors, ids)]);
    return ids.flatMap((id, i) => {
      const raw = records[i];
      if (!raw) return [];
      const { url, event, firstSeenAt } = JSON.parse(raw) as DeliveryRecord;
      return [{ id, eventId: event.id, url, type: event.type, attempts: Number(attempts[i] ?? 0), lastError: errors[i] || null, firstSeenAt, event }];
    });
  }

  private run(script: LuaScript, keys: string[], args: (string | number)[]): Promise<unknown> {
    return script.run(this.redis, keys, args);
  }
}
