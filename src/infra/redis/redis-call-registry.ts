import type { CallPeer, MediaState } from '../../protocol/models.js';
import type { CallJoinOutcome, CallRegistry } from '../../ports/realtime.js';
import { LuaScript } from './lua-script.js';
import type { RedisClient } from './redis-client.js';
import { keys } from './redis-keys.js';

/**
 * Capacity check and join in one step; {0} when full, else {1, entry JSON…}. A peer that is
 * already there (a recovered session keeps its socket id) is taken over by this node.
 */
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

/**
 * Removes the peer if it is in this call and `ARGV[3]` (a node) owns it; returns 1 when it
 * did. A late leave from a node the peer has moved away from changes nothing, so a dead
 * node's cleanup does not remove a peer that rejoined elsewhere. (Entries written before
 * owners were recorded have none, and any node may remove them.)
 */
const LEAVE = new LuaScript(`
redis.call('SREM', KEYS[3], ARGV[2] .. '|' .. ARGV[1])
local json = redis.call('HGET', KEYS[1], ARGV[1])
if not json then return 0 end
local owner = cjson.decode(json).nodeId
if owner and owner ~= ARGV[3] then return 0 end
redis.call('HDEL', KEYS[1], ARGV[1])
redis.call('DEL', KEYS[2])
return 1
`);

/** Replaces a peer's media if the peer is still there; one step, so a racing leave wins. */
const SET_MEDIA = new LuaScript(`
local json = redis.call('HGET', KEYS[1], ARGV[1])
if not json then return 0 end
local entry = cjson.decode(json)
entry.media = cjson.decode(ARGV[2])
redis.call('HSET', KEYS[1], ARGV[1], cjson.encode(entry))
return 1
`);

/** A call peer as stored: with the node that holds its socket. */
interface CallEntry extends CallPeer {
  nodeId?: string;
}

const toPeer = ({ peerId, userId, name, media }: CallEntry): CallPeer => ({ peerId, userId, name, media });

/** Cluster-wide calls: room → peers (hash), peer → room, and each node's own peers. */
export class RedisCallRegistry implements CallRegistry {
  constructor(
    private readonly redis: RedisClient,
    private readonly nodeId: string,
  ) {}

  async join(roomId: string, peer: CallPeer, capacity: number): Promise<CallJoinOutcome> {
    const entry: CallEntry = { ...toPeer(peer), nodeId: this.nodeId };
    const reply = (await JOIN.run(
      this.redis,
      [keys.callPeers(roomId), keys.peerRoom(peer.peerId), keys.nodePeers(this.nodeId)],
      [peer.peerId, JSON.stringify(entry), capacity, roomId],
    )) as [number, ...string[]];
    if (Number(reply[0]) === 0) return { joined: false, reason: 'ROOM_FULL' };
    const peers = reply
      .slice(1)
      .map((json) => toPeer(JSON.parse(String(json)) as CallEntry))
      .filter((p) => p.peerId !== peer.peerId);
    return { joined: true, peers };
  }

  leave(roomId: string, peerId: string): Promise<boolean> {
    return this.leaveFor(this.nodeId, roomId, peerId);
  }

  /** Removes a peer on behalf of `nodeId` (itself, or a dead node being cleaned up). */
  async leaveFor(nodeId: string, roomId: string, peerId: string): Promise<boolean> {
    const removed = await LEAVE.run(this.redis, [keys.callPeers(roomId), keys.peerRoom(peerId), keys.nodePeers(nodeId)], [peerId, roomId, nodeId]);
    return Number(removed) === 1;
  }

  roomOf(peerId: string): Promise<string | null> {
    return this.redis.get(keys.peerRoom(peerId));
  }

  async setMedia(roomId: string, peerId: string, media: MediaState): Promise<void> {
    await SET_MEDIA.run(this.redis, [keys.callPeers(roomId)], [peerId, JSON.stringify(media)]);
  }
}
