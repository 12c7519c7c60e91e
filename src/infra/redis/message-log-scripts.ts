import { LuaScript } from './lua-script.js';

/** The Lua steps of RedisMessageLog (redis-message-log.ts): each one atomic, in one room's slot. */

/**
 * One atomic step per message: idempotency check, next seq, the room's recent log, and the
 * persistence queue entry. The ack goes out after this returns, so an acked message is in
 * Redis (AOF) and on its way to the store. Replies:
 *   {1, seq}              stored with this seq (the caller has the rest of the message)
 *   {0, json, node}       a known clientMsgId: the original, and the node that stored it
 *   {3, '', node, seq}    a known clientMsgId whose message has left the recent log: read the store
 *   {-1}                  the room's counter is not initialised (first use, or Redis lost its
 *                         data): the caller seeds it from the store and tries again
 *   {-2}                  the queue is past its high-water mark (back-pressure: UNAVAILABLE)
 * The message is written twice (log and queue), never three times: the idempotency record
 * is "<node>\n<seq>", and a retry finds the message in the log by its seq. Every byte here
 * is written to the AOF and fsynced before the reply. Records of earlier releases hold the
 * JSON alone, with the node in a `:node` key beside it.
 */
export const APPEND = new LuaScript(`
if ARGV[1] ~= '' then
  local existing = redis.call('GET', KEYS[2])
  if existing then
    -- A write (a fresh TTL for the record): a WAIT after it also covers the original.
    redis.call('EXPIRE', KEYS[2], ARGV[4])
    local cut = string.find(existing, '\\n', 1, true)
    if not cut then return {0, existing, redis.call('GET', KEYS[2] .. ':node') or ''} end
    local node = string.sub(existing, 1, cut - 1)
    local seq = string.sub(existing, cut + 1)
    local hit = redis.call('XRANGE', KEYS[3], seq .. '-0', seq .. '-0')
    if hit[1] then return {0, hit[1][2][2], node} end
    return {3, '', node, seq}
  end
end
if redis.call('XLEN', KEYS[4]) >= tonumber(ARGV[6]) then return {-2, ''} end
if redis.call('EXISTS', KEYS[1]) == 0 then return {-1, ''} end
local seq = redis.call('INCR', KEYS[1])
local json = ARGV[2] .. ',"seq":' .. seq .. '}'
redis.call('XADD', KEYS[3], 'MAXLEN', '~', ARGV[3], seq .. '-0', 'm', json)
redis.call('XADD', KEYS[4], '*', 'room', ARGV[5], 'seq', seq, 'm', json)
if ARGV[1] ~= '' then redis.call('SET', KEYS[2], ARGV[7] .. '\\n' .. seq, 'EX', ARGV[4]) end
return {1, seq}
`);

export const RAISE = new LuaScript(`
local current = tonumber(redis.call('GET', KEYS[1]) or '0')
if current < tonumber(ARGV[1]) then redis.call('SET', KEYS[1], ARGV[1]) end
return 1
`);

// The log's ids are its seqs (`<seq>-0`), so a counter behind the log's newest entry would
// make every append fail: a counter lost on its own (evicted, deleted) starts past the log.
export const SEED = new LuaScript(`
local floor = tonumber(ARGV[1])
local newest = redis.call('XREVRANGE', KEYS[2], '+', '-', 'COUNT', 1)[1]
if newest then floor = math.max(floor, tonumber(string.match(newest[1], '^%d+'))) end
redis.call('SET', KEYS[1], string.format('%d', floor), 'NX')
return 1
`);

/**
 * One change to an existing message, in the room's slot: compare-and-set on the message's
 * last rev (the caller computed the change from the state it read with that rev), the room's
 * next rev, the message's current state (read in front of the store until the store has it)
 * and the persistence queue entry. Replies: {1, rev}; {-1} the rev counter needs seeding;
 * {-2} the queue is past its high-water mark; {-3, rev} the message changed meanwhile.
 */
export const CHANGE = new LuaScript(`
if redis.call('XLEN', KEYS[4]) >= tonumber(ARGV[5]) then return {-2, 0} end
if redis.call('EXISTS', KEYS[1]) == 0 then return {-1, 0} end
local current = tonumber(redis.call('HGET', KEYS[2], ARGV[1]) or '0')
if current ~= tonumber(ARGV[2]) then return {-3, current} end
local rev = redis.call('INCR', KEYS[1])
local json = ARGV[3] .. ',"rev":' .. rev .. '}'
redis.call('HSET', KEYS[2], ARGV[1], rev)
redis.call('HSET', KEYS[3], ARGV[1], json)
redis.call('XADD', KEYS[4], '*', 'room', ARGV[4], 'kind', 'change', 'm', json)
return {1, rev}
`);

/** The message's last rev and its state not yet in the store (or ''). */
export const STATE = new LuaScript(`
return {redis.call('HGET', KEYS[1], ARGV[1]) or '0', redis.call('HGET', KEYS[2], ARGV[1]) or ''}
`);

/** The store has this change: forget its state unless a newer change came since. */
export const SETTLE = new LuaScript(`
if redis.call('HGET', KEYS[1], ARGV[1]) == ARGV[2] then redis.call('HDEL', KEYS[2], ARGV[1]) end
return 1
`);

export const SEED_REV = new LuaScript(`
redis.call('SET', KEYS[1], string.format('%d', tonumber(ARGV[1])), 'NX')
return 1
`);
