/**
 * Every Redis key in one place, but for a room's message keys and the persistence queue,
 * which QueueLayout places (one hash slot per partition: the append and the consumer's
 * transactions are each one slot). Keys that belong to a room carry the room as a hash tag
 * (`{roomId}`); node-wide keys carry the node (`node:{nodeId}:…`) and are few, spread over
 * the slots by node id.
 *
 * One slot per step (what a Redis Cluster requires of a script or a MULTI): presence join,
 * leave and a dead node's removal touch only the room's `presence` and `users` hashes; the
 * call registry's steps only the room's `peers` hash; each connection-counter step one set
 * (the user's, or the address's). Each node's room indexes (`node:{id}:presence-rooms`,
 * `node:{id}:call-rooms`) are written in steps of their own, before a room's first entry
 * and after its last (see NodeRoomIndex).
 */
export const keys = {
  roomCache: (roomId: string) => `room:{${roomId}}:cache`,
  /** Members as earlier releases cached them (a set); only ever deleted now. */
  roomMembersCache: (roomId: string) => `room:{${roomId}}:members`,
  /** user id → the user's membership row in the room (JSON), or "-" for none. */
  roomRolesCache: (roomId: string) => `room:{${roomId}}:roles`,
  presence: (roomId: string) => `chat:{${roomId}}:presence`,
  presenceUsers: (roomId: string) => `chat:{${roomId}}:users`,
  callPeers: (roomId: string) => `call:{${roomId}}:peers`,
  /** requestId → a lobby request (JSON). */
  lobby: (roomId: string) => `call:{${roomId}}:lobby`,
  /** The id of the room's running call (see RedisCallMarks). */
  callInstance: (roomId: string) => `call:{${roomId}}:instance`,
  /** userId → participation id of each user taking part in the room's call (webhooks). */
  callParticipants: (roomId: string) => `call:{${roomId}}:participants`,
  /** "<roomId>\n<userId>" of users away from a call, scored by when they count as gone. */
  callsAway: '{calls-away}:due',
  /** The same members → the user's name. */
  callsAwayNames: '{calls-away}:names',
  /** userId → admitted from the lobby until (ms). */
  lobbyAdmitted: (roomId: string) => `call:{${roomId}}:admitted`,
  nodes: 'nodes:heartbeat',
  /** node id → the key layout its release writes (see setUpQueueLayout); removed with the node. */
  nodeReleases: 'nodes:release',
  /** Rooms where a node has (or may have) presence entries: what its cleanup visits. */
  nodePresenceRooms: (nodeId: string) => `node:{${nodeId}}:presence-rooms`,
  /** Rooms where a node has (or may have) call peers. */
  nodeCallRooms: (nodeId: string) => `node:{${nodeId}}:call-rooms`,
  /** A node's connection slots: connId → the user's and the address's set. */
  nodeConnections: (nodeId: string) => `node:{${nodeId}}:connections`,
  userConnections: (userId: string) => `conn:user:${userId}`,
  ipConnections: (ip: string) => `conn:ip:${ip}`,
  reaperLock: 'nodes:reaper-lock',
  /** userId → revocation second (Unix s); one tag with its version, so a revoke is one slot. */
  tokenRevocations: '{revocations}:users',
  /** Renewed by every revoke: a node whose copy is of another version reloads the hash. */
  tokenRevocationsVersion: '{revocations}:version',
  /** Pub/sub channel announcing each revoke as `<second> <userId>` (sharded on a Redis Cluster). */
  tokenRevocationsChannel: '{revocations}:announce',
};

/**
 * The webhook outbox (RedisWebhookOutbox): every key carries the one tag `{webhooks}`, so
 * that each of its scripts touches a single hash slot on a Redis Cluster.
 */
export const webhookKeys = {
  /** delivery id → when it is due (ms, Redis clock); a claimed one: when its lease runs out. */
  due: 'webhooks:{webhooks}:due',
  /** delivery id → `{url, event, firstSeenAt}` as JSON, never rewritten. */
  deliveries: 'webhooks:{webhooks}:deliveries',
  attempts: 'webhooks:{webhooks}:attempts',
  errors: 'webhooks:{webhooks}:errors',
  /** delivery id → the lease token of the dispatcher holding it. */
  leases: 'webhooks:{webhooks}:leases',
  /** delivery id → when it was given up (ms): the dead letters, oldest first. */
  dead: 'webhooks:{webhooks}:dead',
  /** A published occurrence, kept for the dedup window (a digest, to keep keys short). */
  seen: (digest: string) => `webhooks:{webhooks}:seen:${digest}`,
};
