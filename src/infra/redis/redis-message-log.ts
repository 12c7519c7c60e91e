import { AppError } from '../../domain/app-error.js';
import type { Message } from '../../protocol/models.js';
import type { AppendResult, HistoryPage, HistoryQuery, NewMessage } from '../../ports/store.js';
import { LuaScript } from './lua-script.js';
import type { RedisClient } from './redis-client.js';
import { keys } from './redis-keys.js';

/**
 * One atomic step per message: idempotency check, next seq, the room's recent log, and the
 * persistence queue entry. The ack goes out after this returns, so an acked message is in
 * Redis (AOF) and on its way to the store. Returns {1, json} when stored, {0, json} for a
 * known clientMsgId, {-1} when the room's counter is not initialised (first use, or Redis
 * lost its data) — the caller seeds it from the store and tries again — and {-2} when the
 * queue is past its high-water mark (back-pressure: the sender gets UNAVAILABLE).
 */
const APPEND = new LuaScript(`
if ARGV[1] ~= '' then
  local existing = redis.call('GET', KEYS[2])
  if existing then return {0, existing, redis.call('GET', KEYS[2] .. ':node') or ''} end
end
if redis.call('XLEN', KEYS[4]) >= tonumber(ARGV[6]) then return {-2, ''} end
if redis.call('EXISTS', KEYS[1]) == 0 then return {-1, ''} end
local seq = redis.call('INCR', KEYS[1])
local json = ARGV[2] .. ',"seq":' .. seq .. '}'
redis.call('XADD', KEYS[3], 'MAXLEN', '~', ARGV[3], seq .. '-0', 'm', json)
redis.call('XADD', KEYS[4], '*', 'room', ARGV[5], 'seq', seq, 'm', json)
if ARGV[1] ~= '' then
  redis.call('SET', KEYS[2], json, 'EX', ARGV[4])
  redis.call('SET', KEYS[2] .. ':node', ARGV[7], 'EX', ARGV[4])
end
return {1, json}
`);

const RAISE = new LuaScript(`
local current = tonumber(redis.call('GET', KEYS[1]) or '0')
if current < tonumber(ARGV[1]) then redis.call('SET', KEYS[1], ARGV[1]) end
return 1
`);

/** How long a clientMsgId is remembered in Redis (the store's unique index backs it up). */
const IDEMPOTENCY_TTL_SECONDS = 7 * 24 * 3600;

/** Parses a stored message JSON into the wire shape (fixed key order); throws on a bad shape. */
export function parseMessage(json: string): Message {
  const m = JSON.parse(json) as Partial<Message>;
  const strings = ['id', 'roomId', 'senderId', 'senderName', 'text', 'createdAt'] as const;
  for (const key of strings) if (typeof m[key] !== 'string') throw new Error(`field ${key} is missing or not a string`);
  if (!Number.isSafeInteger(m.seq) || m.seq! < 1) throw new Error('field seq is not a positive integer');
  if (m.clientMsgId !== undefined && m.clientMsgId !== null && typeof m.clientMsgId !== 'string') throw new Error('field clientMsgId is not a string');
  return {
    id: m.id!,
    roomId: m.roomId!,
    seq: m.seq!,
    senderId: m.senderId!,
    senderName: m.senderName!,
    text: m.text!,
    clientMsgId: m.clientMsgId ?? null,
    createdAt: m.createdAt!,
  };
}

/** The cluster's per-room sequence, idempotency records and recent-message log. */
export class RedisMessageLog {
  constructor(
    private readonly redis: RedisClient,
    private readonly logMaxLen: number,
    private readonly queueHighWater: number,
    private readonly nodeId: string,
  ) {}

  /** `null` when the room's counter needs seeding first (see `seed`). */
  async append(m: NewMessage): Promise<AppendResult | null> {
    // The script appends `,"seq":N}` to this prefix: the JSON is built once, here.
    const prefix = JSON.stringify(m).slice(0, -1);
    const reply = await APPEND.run(
      this.redis,
      [keys.roomSeq(m.roomId), keys.idempotency(m.roomId, m.clientMsgId ?? '-'), keys.roomLog(m.roomId), keys.queue],
      [m.clientMsgId ?? '', prefix, this.logMaxLen, IDEMPOTENCY_TTL_SECONDS, m.roomId, this.queueHighWater, this.nodeId],
    );
    const [status, json, originNode] = reply as [number, string, string?];
    if (status === -1) return null;
    if (status === -2) throw new AppError('UNAVAILABLE', 'the server is catching up on stored messages; try again shortly');
    const created = Number(status) === 1;
    // A retry that lands on another node than the one that stored the message: that node may
    // have died between storing and fanning out, so the fan-out is repeated (clients drop
    // the duplicate by seq). A retry on the same node never delivers twice.
    return { message: parseMessage(json), created, deliverAgain: !created && originNode !== this.nodeId };
  }

  /** Starts the room's counter at the store's last seq, unless another node already did. */
  async seed(roomId: string, lastSeq: number): Promise<void> {
    await this.redis.set(keys.roomSeq(roomId), String(lastSeq), { condition: 'NX' });
  }

  /**
   * Moves the room's counter up to at least `floor`. Used when the store shows the counter
   * went back (Redis restarted without the latest writes), so no further seq is reused.
   */
  async raiseTo(roomId: string, floor: number): Promise<void> {
    await RAISE.run(this.redis, [keys.roomSeq(roomId)], [floor]);
  }

  async currentSeq(roomId: string): Promise<number | null> {
    const v = await this.redis.get(keys.roomSeq(roomId));
    return v === null ? null : Number(v);
  }

  async findByClientMsgId(roomId: string, clientMsgId: string): Promise<Message | null> {
    const json = await this.redis.get(keys.idempotency(roomId, clientMsgId));
    return json === null ? null : parseMessage(json);
  }

  /** The part of a history query the recent log can answer. */
  async range(roomId: string, q: HistoryQuery): Promise<HistoryPage> {
    const start = q.after === undefined ? '-' : `${q.after + 1}-0`;
    const end = q.before === undefined ? '+' : q.before <= 1 ? null : `${q.before - 1}-0`;
    if (end === null) return { messages: [], hasMore: false };
    const key = keys.roomLog(roomId);
    const ascending = q.after !== undefined;
    const entries = ascending
      ? await this.redis.xRange(key, start, end, { COUNT: q.limit + 1 })
      : await this.redis.xRevRange(key, end, start, { COUNT: q.limit + 1 });
    if (!entries) return { messages: [], hasMore: false };
    const messages = entries.slice(0, q.limit).map((e) => parseMessage(String(e.message.m)));
    return { messages: ascending ? messages : messages.reverse(), hasMore: entries.length > q.limit };
  }
}

