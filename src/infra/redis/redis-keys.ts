/**
 * Every Redis key in one place, but for a room's message keys and the persistence queue,
 * which QueueLayout places (one hash slot per partition, so the append and the consumer's
 * transactions are each one slot). Keys that belong to a room carry the room as a hash tag
 * (`{roomId}`); node-wide keys are few and named by node id.
 *
 * Not yet one slot per step (this is what Redis Cluster support has to change): the
 * presence, call-registry and connection-counter scripts mix a room's or a user's keys with
 * node-wide ones (`node:<id>:…`, `nodes:heartbeat`). On one Redis, or on Sentinel, every
 * script is atomic as written.
 */
export const keys = {
  roomCache: (roomId: string) => `room:{${roomId}}:cache`,
  roomMembersCache: (roomId: string) => `room:{${roomId}}:members`,
  presence: (roomId: string) => `chat:{${roomId}}:presence`,
  presenceUsers: (roomId: string) => `chat:{${roomId}}:users`,
  callPeers: (roomId: string) => `call:{${roomId}}:peers`,
  peerRoom: (peerId: string) => `call:peer:${peerId}`,
  nodes: 'nodes:heartbeat',
  nodePresence: (nodeId: string) => `node:${nodeId}:presence`,
  nodePeers: (nodeId: string) => `node:${nodeId}:peers`,
  nodeConnections: (nodeId: string) => `node:${nodeId}:connections`,
  userConnections: (userId: string) => `conn:user:${userId}`,
  ipConnections: (ip: string) => `conn:ip:${ip}`,
  reaperLock: 'nodes:reaper-lock',
};
