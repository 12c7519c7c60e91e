import type { Participant } from '../../protocol/models.js';
import type { Presence } from '../../ports/realtime.js';
import { LuaScript } from './lua-script.js';
import { NodeRoomIndex } from './node-room-index.js';
import type { RedisClient } from './redis-client.js';
import { keys } from './redis-keys.js';

/**
 * Adds (or takes over) a socket's entry; returns 1 when it is the user's first socket in the
 * room. A recovered session keeps its socket id on another node: the entry then moves to
 * that node instead of being counted twice.
 */
const JOIN = new LuaScript(`
if redis.call('HSET', KEYS[1], ARGV[1], ARGV[3]) == 0 then return 0 end
if redis.call('HINCRBY', KEYS[2], ARGV[2], 1) == 1 then return 1 end
return 0
`);

/**
 * Removes a socket's entry if `ARGV[2]` (a node) still owns it; returns the participant JSON
 * when it was the user's last socket. A late leave from a node the session has moved away
 * from changes nothing.
 */
const LEAVE = new LuaScript(`
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

/** Removes every entry `ARGV[1]` (a dead node) owns in the room; returns the JSON of each user gone with them. */
const REMOVE_NODE = new LuaScript(`
local gone = {}
local all = redis.call('HGETALL', KEYS[1])
for i = 1, #all, 2 do
  local p = cjson.decode(all[i + 1])
  if p.nodeId == ARGV[1] then
    redis.call('HDEL', KEYS[1], all[i])
    if redis.call('HINCRBY', KEYS[2], p.userId, -1) <= 0 then
      redis.call('HDEL', KEYS[2], p.userId)
      table.insert(gone, all[i + 1])
    end
  end
end
return gone
`);

interface PresenceEntry extends Participant {
  nodeId: string;
}

const toParticipant = (json: string): Participant => {
  const p = JSON.parse(json) as PresenceEntry;
  return { userId: p.userId, name: p.name };
};

/**
 * Cluster-wide presence: per room, socket → participant (with the node holding the socket),
 * plus a per-user socket count so that "joined"/"left" are announced once per user. Every
 * script touches only the room's two hashes: one slot.
 *
 * A survivor removes a dead node's participants room by room (`removeNode`), visiting the
 * rooms its NodeRoomIndex lists. A crash between a step here and the index's own step
 * leaves at most a listed room without entries of the node, never an entry in an unlisted
 * room (see NodeRoomIndex); a crash inside a step leaves nothing, a script being atomic.
 */
export class RedisPresence implements Presence {
  private readonly index: NodeRoomIndex;

  constructor(
    private readonly redis: RedisClient,
    private readonly nodeId: string,
  ) {
    this.index = new NodeRoomIndex(redis, keys.nodePresenceRooms(nodeId));
  }

  async join(roomId: string, socketId: string, participant: Participant): Promise<boolean> {
    const entry: PresenceEntry = { userId: participant.userId, name: participant.name, nodeId: this.nodeId };
    await this.index.enter(roomId, socketId);
    const first = await JOIN.run(this.redis, [keys.presence(roomId), keys.presenceUsers(roomId)], [socketId, participant.userId, JSON.stringify(entry)]);
    return Number(first) === 1;
  }

  async leave(roomId: string, socketId: string): Promise<Participant | null> {
    const participant = await this.leaveFor(this.nodeId, roomId, socketId);
    await this.index.left(roomId, socketId);
    return participant;
  }

  /** Removes an entry on behalf of `nodeId`, if that node still owns it. */
  async leaveFor(nodeId: string, roomId: string, socketId: string): Promise<Participant | null> {
    const json = await LEAVE.run(this.redis, [keys.presence(roomId), keys.presenceUsers(roomId)], [socketId, nodeId]);
    return typeof json === 'string' ? toParticipant(json) : null;
  }

  /** Removes a dead node's entries in one room; answers the users who left with them. */
  async removeNode(nodeId: string, roomId: string): Promise<Participant[]> {
    const gone = (await REMOVE_NODE.run(this.redis, [keys.presence(roomId), keys.presenceUsers(roomId)], [nodeId])) as string[];
    return gone.map((json) => toParticipant(String(json)));
  }

  /** This node's index was removed by the others (they took it for dead). */
  forgetIndex(): void {
    this.index.forget();
  }

  async list(roomId: string): Promise<Participant[]> {
    const byUser = new Map<string, Participant>();
    for (const json of await this.redis.hVals(keys.presence(roomId))) {
      const p = toParticipant(json);
      byUser.set(p.userId, p);
    }
    return [...byUser.values()];
  }
}
