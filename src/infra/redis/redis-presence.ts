import type { Participant } from '../../protocol/models.js';
import type { Presence } from '../../ports/realtime.js';
import { LuaScript } from './lua-script.js';
import type { RedisClient } from './redis-client.js';
import { keys } from './redis-keys.js';

/**
 * Adds (or takes over) a socket's entry; returns 1 when it is the user's first socket in the
 * room. A recovered session keeps its socket id on another node: the entry then moves to
 * that node instead of being counted twice.
 */
const JOIN = new LuaScript(`
local isNew = redis.call('HSET', KEYS[1], ARGV[1], ARGV[3])
redis.call('SADD', KEYS[3], ARGV[4] .. '|' .. ARGV[1])
if isNew == 0 then return 0 end
if redis.call('HINCRBY', KEYS[2], ARGV[2], 1) == 1 then return 1 end
return 0
`);

/**
 * Removes a socket's entry if `ARGV[2]` (a node) still owns it; returns the participant JSON
 * when it was the user's last socket. A late leave from a node the session has moved away
 * from changes nothing.
 */
const LEAVE = new LuaScript(`
redis.call('SREM', KEYS[3], ARGV[3] .. '|' .. ARGV[1])
local json = redis.call('HGET', KEYS[1], ARGV[1])
if not json then return false end
local p = cjson.decode(json)
if p.nodeId ~= ARGV[2] then return false end
redis.call('HDEL', KEYS[1], ARGV[1])
if redis.call('HINCRBY', KEYS[2], p.userId, -1) <= 0 then
  redis.call('HDEL', KEYS[2], p.userId)
  return json
end
return false
`);

interface PresenceEntry extends Participant {
  nodeId: string;
}

/**
 * Cluster-wide presence: per room, socket → participant, plus a per-user socket count so
 * that "joined"/"left" are announced once per user. Each node also indexes its own entries
 * so that a survivor can remove a dead node's participants (see NodeRegistry).
 */
export class RedisPresence implements Presence {
  constructor(
    private readonly redis: RedisClient,
    private readonly nodeId: string,
  ) {}

  async join(roomId: string, socketId: string, participant: Participant): Promise<boolean> {
    const entry: PresenceEntry = { userId: participant.userId, name: participant.name, nodeId: this.nodeId };
    const first = await JOIN.run(
      this.redis,
      [keys.presence(roomId), keys.presenceUsers(roomId), keys.nodePresence(this.nodeId)],
      [socketId, participant.userId, JSON.stringify(entry), roomId],
    );
    return Number(first) === 1;
  }

  leave(roomId: string, socketId: string): Promise<Participant | null> {
    return this.leaveFor(this.nodeId, roomId, socketId);
  }

  /** Removes an entry on behalf of `nodeId` (itself, or a dead node being cleaned up). */
  async leaveFor(nodeId: string, roomId: string, socketId: string): Promise<Participant | null> {
    const json = await LEAVE.run(this.redis, [keys.presence(roomId), keys.presenceUsers(roomId), keys.nodePresence(nodeId)], [socketId, nodeId, roomId]);
    if (typeof json !== 'string') return null;
    const p = JSON.parse(json) as PresenceEntry;
    return { userId: p.userId, name: p.name };
  }

  async list(roomId: string): Promise<Participant[]> {
    const byUser = new Map<string, Participant>();
    for (const json of await this.redis.hVals(keys.presence(roomId))) {
      const p = JSON.parse(json) as PresenceEntry;
      byUser.set(p.userId, { userId: p.userId, name: p.name });
    }
    return [...byUser.values()];
  }
}
