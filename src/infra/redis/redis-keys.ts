/**
 * Every Redis key in one place. Keys that belong to a room carry the room as a hash tag
 * (`{roomId}`); node-wide keys are few and named by node id.
 *
 * Not yet one slot per step (this is what Redis Cluster support has to change): the append
 * script writes the room's keys and the global `chat:queue`; the presence, call-registry
 * and connection-counter scripts mix a room's or a user's keys with node-wide ones
 * (`node:<id>:…`, `nodes:heartbeat`); the consumer's ack and dead-letter transactions mix
 * the queue with `chat:queue:attempts` and `chat:dead-letters`. On one Redis, or on
 * Sentinel, every script is atomic as written.
 */
export const keys = {
  roomSeq: (roomId: string) => `chat:{${roomId}}:seq`,
  roomLog: (roomId: string) => `chat:{${roomId}}:log`,
  idempotency: (roomId: string, clientMsgId: string) => `chat:{${roomId}}:idem:${clientMsgId}`,
  roomCache: (roomId: string) => `room:{${roomId}}:cache`,
  roomMembersCache: (roomId: string) => `room:{${roomId}}:members`,
  presence: (roomId: string) => `chat:{${roomId}}:presence`,
  presenceUsers: (roomId: string) => `chat:{${roomId}}:users`,
  callPeers: (roomId: string) => `call:{${roomId}}:peers`,
  peerRoom: (peerId: string) => `call:peer:${peerId}`,
  /** The persistence queue (outbox): accepted messages not yet written to the store. */
  queue: 'chat:queue',
  queueGroup: 'persist',
  /** entry id → failed attempts on a working store. */
  queueAttempts: 'chat:queue:attempts',
  deadLetters: 'chat:dead-letters',
  nodes: 'nodes:heartbeat',
  nodePresence: (nodeId: string) => `node:${nodeId}:presence`,
  nodePeers: (nodeId: string) => `node:${nodeId}:peers`,
  nodeConnections: (nodeId: string) => `node:${nodeId}:connections`,
  userConnections: (userId: string) => `conn:user:${userId}`,
  ipConnections: (ip: string) => `conn:ip:${ip}`,
  reaperLock: 'nodes:reaper-lock',
};
