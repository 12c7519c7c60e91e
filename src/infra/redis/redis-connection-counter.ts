import type { ConnectionCounter } from '../../ports/realtime.js';
import { LuaScript } from './lua-script.js';
import type { RedisClient } from './redis-client.js';
import { keys } from './redis-keys.js';

/**
 * Takes a slot in one set of "<nodeId>|<connId>" members capped at `ARGV[2]` (whatever the
 * cap when `ARGV[3]` is 1: a connection already admitted), after removing the members of
 * `ARGV[4…]` (nodes found dead). Returns {1, size} when it took the slot, {2, size} when the
 * member already held one, else (full) {0, size, the nodes whose members fill the set…}.
 */
const TAKE = new LuaScript(`
for i = 4, #ARGV do
  for _, m in ipairs(redis.call('SMEMBERS', KEYS[1])) do
    if string.sub(m, 1, #ARGV[i] + 1) == ARGV[i] .. '|' then redis.call('SREM', KEYS[1], m) end
  end
end
if redis.call('SISMEMBER', KEYS[1], ARGV[1]) == 1 then return {2, redis.call('SCARD', KEYS[1])} end
local size = redis.call('SCARD', KEYS[1])
if ARGV[3] == '1' or size < tonumber(ARGV[2]) then
  redis.call('SADD', KEYS[1], ARGV[1])
  return {1, size + 1}
end
local seen, found = {}, {0, size}
for _, m in ipairs(redis.call('SMEMBERS', KEYS[1])) do
  local node = string.match(m, '^(.-)|')
  if node and not seen[node] then seen[node] = true; table.insert(found, node) end
end
return found
`);

type Taken = { slot: 'new' | 'held' | null; size: number };

/** An answer with the sizes of both sets right after it (slots held cluster-wide). */
export interface CountedAnswer {
  answer: 'ok' | 'user' | 'ip';
  held: { user: number; ip: number };
}

/**
 * Connection slots per user and per address, cluster-wide: one set per user and one per
 * address, each changed only by a script of its own (one slot per step). Both are taken at
 * once (one round trip); when one refuses, the slot the other took is given back before the
 * answer. Each set's check and take is atomic, so `acquire` never overshoots a cap; two
 * racing connections may both be refused where one would have fitted, while the slot one of
 * them gives back is still held. `take(…, admitted)` records a connection a node admitted
 * ahead of the check (OptimisticConnectionCounter), past the cap if need be, so that the
 * sets count every open connection.
 *
 * A full set may hold slots of nodes that died without releasing them: only then are the
 * nodes' heartbeats read (the registry's sorted set) and a dead node's members removed.
 *
 * A crash between the steps (after one take, before the give-back; or between a release's
 * two removals) leaves a member of the crashed node, removed once it stands in the way.
 *
 * Each node also indexes its slots (`node:{id}:connections`, connId → the two sets), written
 * in the same pipeline as the takes: reaping a dead node releases its slots at once, and a
 * node restarted under the same NODE_ID releases what its previous process held (that node's
 * heartbeat is fresh again, so the purge of full sets would never take those).
 */
export class RedisConnectionCounter implements ConnectionCounter {
  constructor(
    private readonly redis: RedisClient,
    private readonly nodeId: string,
    private readonly maxPerUser: number,
    private readonly maxPerIp: number,
    private readonly nodeTimeoutMs: number,
  ) {}

  async acquire(userId: string, ip: string, connId: string): Promise<'ok' | 'user' | 'ip'> {
    return (await this.take(userId, ip, connId, false)).answer;
  }

  /**
   * `acquire`, answering with how many slots each set holds after it. `admitted`: the
   * connection is in already (admitted ahead of this step, see OptimisticConnectionCounter),
   * so its slots are taken whatever the caps: the sets then count it, and the next
   * connection is refused until enough of them go.
   */
  async take(userId: string, ip: string, connId: string, admitted: boolean): Promise<CountedAnswer> {
    const member = this.member(connId);
    const [userKey, ipKey] = [keys.userConnections(userId), keys.ipConnections(ip)];
    const index = keys.nodeConnections(this.nodeId);
    // Indexed first (same pipeline): a slot is never held without its node knowing.
    const [, user, addr] = await Promise.all([
      this.redis.hSet(index, connId, JSON.stringify([userKey, ipKey])),
      this.takeOne(userKey, member, this.maxPerUser, admitted),
      this.takeOne(ipKey, member, this.maxPerIp, admitted),
    ]);
    if (user.slot && addr.slot) return { answer: 'ok', held: { user: user.size, ip: addr.size } };
    await Promise.all([user.slot === 'new' && this.redis.sRem(userKey, member), addr.slot === 'new' && this.redis.sRem(ipKey, member)]);
    if (user.slot !== 'held' && addr.slot !== 'held') await this.redis.hDel(index, connId);
    const held = { user: user.size - (user.slot === 'new' ? 1 : 0), ip: addr.size - (addr.slot === 'new' ? 1 : 0) };
    return { answer: user.slot ? 'ip' : 'user', held };
  }

  async release(userId: string, ip: string, connId: string): Promise<void> {
    const member = this.member(connId);
    await Promise.all([this.redis.sRem(keys.userConnections(userId), member), this.redis.sRem(keys.ipConnections(ip), member)]);
    await this.redis.hDel(keys.nodeConnections(this.nodeId), connId);
  }

  /** Releases every slot `nodeId` holds (a dead node, or this node's previous process); returns how many. */
  async releaseAllOf(nodeId: string): Promise<number> {
    const index = keys.nodeConnections(nodeId);
    const held = Object.entries(await this.redis.hGetAll(index));
    await Promise.all(
      held.map(([connId, json]) => {
        const [userKey, ipKey] = JSON.parse(json) as [string, string];
        const member = `${nodeId}|${connId}`;
        return Promise.all([this.redis.sRem(userKey, member), this.redis.sRem(ipKey, member)]);
      }),
    );
    await this.redis.del(index);
    return held.length;
  }

  private member(connId: string): string {
    return `${this.nodeId}|${connId}`;
  }

  private async takeOne(key: string, member: string, max: number, admitted: boolean): Promise<Taken> {
    const args = [member, max, admitted ? 1 : 0];
    let reply = (await TAKE.run(this.redis, [key], args)) as unknown[];
    if (Number(reply[0]) === 0) {
      const dead = await this.deadAmong(reply.slice(2).map(String));
      if (dead.length) reply = (await TAKE.run(this.redis, [key], [...args, ...dead])) as unknown[];
    }
    const size = Number(reply[1]);
    const status = Number(reply[0]);
    return { slot: status === 1 ? 'new' : status === 2 ? 'held' : null, size };
  }

  /** Nodes without a heartbeat within the timeout (never this one: it is running this). */
  private async deadAmong(nodes: string[]): Promise<string[]> {
    const others = nodes.filter((n) => n !== this.nodeId);
    if (!others.length) return [];
    const beats = await this.redis.zmScore(keys.nodes, others);
    const cutoff = Date.now() - this.nodeTimeoutMs;
    return others.filter((_, i) => beats[i] === null || beats[i]! < cutoff);
  }
}
