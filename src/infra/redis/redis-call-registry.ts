import type { CallPeer, MediaState } from '../../protocol/models.js';
import type { CallJoinOutcome, CallRegistry } from '../../ports/realtime.js';
import { LuaScript } from './lua-script.js';
import type { RedisClient } from './redis-client.js';
import { keys } from './redis-keys.js';

/** Capacity check and join in one step; {0} when full, else {1, peer JSON…}. */
const JOIN = new LuaScript(`
if redis.call('HEXISTS', KEYS[1], ARGV[1]) == 0 and redis.call('HLEN', KEYS[1]) >= tonumber(ARGV[3]) then
  return {0}
end
redis.call('HSET', KEYS[1], ARGV[1], ARGV[2])
redis.call('SET', KEYS[2], ARGV[4])
redis.call('SADD', KEYS[3], ARGV[4] .. '|' .. ARGV[1])
local result = {1}
for _, v in ipairs(redis.call('HVALS', KEYS[1])) do table.insert(result, v) end
return result
`);

const LEAVE = new LuaScript(`
local removed = redis.call('HDEL', KEYS[1], ARGV[1])
redis.call('DEL', KEYS[2])
redis.call('SREM', KEYS[3], ARGV[2] .. '|' .. ARGV[1])
return removed
`);

/** Cluster-wide calls: room → peers (hash), peer → room, and each node's own peers. */
export class RedisCallRegistry implements CallRegistry {
  constructor(
    private readonly redis: RedisClient,
    private readonly nodeId: string,
  ) {}

  async join(roomId: string, peer: CallPeer, capacity: number): Promise<CallJoinOutcome> {
    const reply = (await JOIN.run(
      this.redis,
      [keys.callPeers(roomId), keys.peerRoom(peer.peerId), keys.nodePeers(this.nodeId)],
      [peer.peerId, JSON.stringify(peer), capacity, roomId],
    )) as [number, ...string[]];
    if (Number(reply[0]) === 0) return { joined: false, reason: 'ROOM_FULL' };
    const peers = reply
      .slice(1)
      .map((json) => JSON.parse(String(json)) as CallPeer)
      .filter((p) => p.peerId !== peer.peerId);
    return { joined: true, peers };
  }

  leave(roomId: string, peerId: string): Promise<boolean> {
    return this.leaveFor(this.nodeId, roomId, peerId);
  }

  async leaveFor(nodeId: string, roomId: string, peerId: string): Promise<boolean> {
    const removed = await LEAVE.run(this.redis, [keys.callPeers(roomId), keys.peerRoom(peerId), keys.nodePeers(nodeId)], [peerId, roomId]);
    return Number(removed) === 1;
  }

  roomOf(peerId: string): Promise<string | null> {
    return this.redis.get(keys.peerRoom(peerId));
  }

  async setMedia(roomId: string, peerId: string, media: MediaState): Promise<void> {
    const json = await this.redis.hGet(keys.callPeers(roomId), peerId);
    if (!json) return;
    await this.redis.hSet(keys.callPeers(roomId), peerId, JSON.stringify({ ...(JSON.parse(json) as CallPeer), media }));
  }
}
