/**
 * Every Redis key in one place. Keys that belong to a room carry the room as a hash tag
 * (`{roomId}`), so the atomic multi-key steps of one room stay in one slot. Node-wide keys
 * are few and named by node id.
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
