import type { CallPeer, MediaState } from '../../protocol/models.js';
import type { CallJoinOutcome, CallRegistry } from '../../ports/realtime.js';
import { LuaScript } from './lua-script.js';
import { NodeRoomIndex } from './node-room-index.js';
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
local result = {1}
for _, v in ipairs(redis.call('HVALS', KEYS[1])) do table.insert(result, v) end
return result
`);

/**
 * Removes the peer if it is in this call and `ARGV[2]` (a node) owns it; returns 1 when it
 * did. A late leave from a node the peer has moved away from changes nothing, so a dead
 * node's cleanup does not remove a peer that rejoined elsewhere. (Entries written before
 * owners were recorded have none, and any node may remove them.)
 */
const LEAVE = new LuaScript(`
local json = redis.call('HGET', KEYS[1], ARGV[1])
if not json then return 0 end
local owner = cjson.decode(json).nodeId
if owner and owner ~= ARGV[2] then return 0 end
redis.call('HDEL', KEYS[1], ARGV[1])
return 1
`);

/** Removes every peer `ARGV[1]` (a dead node) owns in the call; returns their entries. */
const REMOVE_NODE = new LuaScript(`
local gone = {}
local all = redis.call('HGETALL', KEYS[1])
for i = 1, #all, 2 do
  if cjson.decode(all[i + 1]).nodeId == ARGV[1] then
    redis.call('HDEL', KEYS[1], all[i])
    table.insert(gone, all[i + 1])
  end
end
return gone
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

/**
 * Cluster-wide calls: per room, peer → peer entry (with the node holding its socket), in one
 * hash; every script touches only that hash, one slot. Whether a peer is in a call is a
 * look-up in the same hash, so no peer → room key has to be kept in step with it.
 *
 * A survivor removes a dead node's peers call by call (`removeNode`), visiting the rooms its
 * NodeRoomIndex lists; a crash between a step here and the index's own step leaves at most
 * a listed room without peers of the node (see NodeRoomIndex).
 */
export class RedisCallRegistry implements CallRegistry {
  private readonly index: NodeRoomIndex;

  constructor(
    private readonly redis: RedisClient,
    private readonly nodeId: string,
  ) {
    this.index = new NodeRoomIndex(redis, keys.nodeCallRooms(nodeId));
  }

  async join(roomId: string, peer: CallPeer, capacity: number): Promise<CallJoinOutcome> {
    const entry: CallEntry = { ...toPeer(peer), nodeId: this.nodeId };
    await this.index.enter(roomId, peer.peerId);
    const reply = (await JOIN.run(this.redis, [keys.callPeers(roomId)], [peer.peerId, JSON.stringify(entry), capacity])) as [number, ...string[]];
    if (Number(reply[0]) === 0) {
      await this.index.left(roomId, peer.peerId);
      return { joined: false, reason: 'ROOM_FULL' };
    }
    const peers = reply
      .slice(1)
      .map((json) => toPeer(JSON.parse(String(json)) as CallEntry))
      .filter((p) => p.peerId !== peer.peerId);
    return { joined: true, peers };
  }

  async leave(roomId: string, peerId: string): Promise<boolean> {
    const removed = await this.leaveFor(this.nodeId, roomId, peerId);
    await this.index.left(roomId, peerId);
    return removed;
  }

  /** Removes a peer on behalf of `nodeId`, if that node owns it. */
  async leaveFor(nodeId: string, roomId: string, peerId: string): Promise<boolean> {
    const removed = await LEAVE.run(this.redis, [keys.callPeers(roomId)], [peerId, nodeId]);
    return Number(removed) === 1;
  }

  /** Removes a dead node's peers from one call; answers who they were. */
  async removeNode(nodeId: string, roomId: string): Promise<CallPeer[]> {
    const gone = (await REMOVE_NODE.run(this.redis, [keys.callPeers(roomId)], [nodeId])) as string[];
    return gone.map((json) => toPeer(JSON.parse(String(json)) as CallEntry));
  }

  /** This node's index was removed by the others (they took it for dead). */
  forgetIndex(): void {
    this.index.forget();
  }

  async peers(roomId: string): Promise<CallPeer[]> {
    return (await this.redis.hVals(keys.callPeers(roomId))).map((json) => toPeer(JSON.parse(json) as CallEntry));
  }

  async inCall(roomId: string, peerId: string): Promise<boolean> {
    return (await this.redis.hExists(keys.callPeers(roomId), peerId)) === 1;
  }

  async setMedia(roomId: string, peerId: string, media: MediaState): Promise<void> {
    await SET_MEDIA.run(this.redis, [keys.callPeers(roomId)], [peerId, JSON.stringify(media)]);
  }
}
