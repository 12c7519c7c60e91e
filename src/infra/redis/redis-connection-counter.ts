import type { ConnectionCounter } from '../../ports/realtime.js';
import { LuaScript } from './lua-script.js';
import type { RedisClient } from './redis-client.js';
import { keys } from './redis-keys.js';

/**
 * Takes a connection slot for a user and an address, cluster-wide. Members are
 * "<nodeId>|<connId>"; when a set is full, members of nodes whose heartbeat is stale (they
 * died without releasing) are purged before deciding. Returns 'ok', 'user' or 'ip'.
 */
const ACQUIRE = new LuaScript(`
local function purge(key)
  for _, m in ipairs(redis.call('SMEMBERS', key)) do
    local node = string.match(m, '^(.-)|')
    local beat = redis.call('ZSCORE', KEYS[3], node)
    if (not beat) or tonumber(beat) < tonumber(ARGV[4]) then redis.call('SREM', key, m) end
  end
end
local function full(key, max)
  if redis.call('SCARD', key) < max then return false end
  purge(key)
  return redis.call('SCARD', key) >= max
end
if full(KEYS[1], tonumber(ARGV[2])) then return 'user' end
if full(KEYS[2], tonumber(ARGV[3])) then return 'ip' end
redis.call('SADD', KEYS[1], ARGV[1])
redis.call('SADD', KEYS[2], ARGV[1])
return 'ok'
`);

export class RedisConnectionCounter implements ConnectionCounter {
  constructor(
    private readonly redis: RedisClient,
    private readonly nodeId: string,
    private readonly maxPerUser: number,
    private readonly maxPerIp: number,
    private readonly nodeTimeoutMs: number,
  ) {}

  async acquire(userId: string, ip: string, connId: string): Promise<'ok' | 'user' | 'ip'> {
    const result = await ACQUIRE.run(
      this.redis,
      [keys.userConnections(userId), keys.ipConnections(ip), keys.nodes],
      [`${this.nodeId}|${connId}`, this.maxPerUser, this.maxPerIp, Date.now() - this.nodeTimeoutMs],
    );
    return String(result) as 'ok' | 'user' | 'ip';
  }

  async release(userId: string, ip: string, connId: string): Promise<void> {
    const member = `${this.nodeId}|${connId}`;
    await this.redis.multi().sRem(keys.userConnections(userId), member).sRem(keys.ipConnections(ip), member).exec();
  }
}
