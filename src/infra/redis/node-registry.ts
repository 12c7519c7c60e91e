import type { Logger } from '../../ports/logger.js';
import type { Participant } from '../../protocol/models.js';
import type { RedisClient } from './redis-client.js';
import { keys } from './redis-keys.js';
import type { RedisCallRegistry } from './redis-call-registry.js';
import type { RedisConnectionCounter } from './redis-connection-counter.js';
import type { RedisPresence } from './redis-presence.js';

export interface DeadNodeCleanup {
  left: { roomId: string; participant: Participant }[];
  peersLeft: { roomId: string; peerId: string; userId: string; name: string }[];
}

export interface NodeRegistryOptions {
  nodeId: string;
  heartbeatMs?: number;
  /** A node silent for this long is dead: its presence and call peers are removed. */
  timeoutMs?: number;
  /** Told what was removed, so that the rooms hear of it. */
  onCleanup: (cleanup: DeadNodeCleanup) => void;
  /**
   * Told when this node finds that the others took it for dead and removed its participants
   * (it was cut off from Redis longer than `timeoutMs`, yet kept running): what the cluster
   * now believes about its clients must be made true again.
   */
  onPresumedDead?: () => void;
}

/**
 * Node liveness in Redis: each node stamps its heartbeat in a sorted set; any node that sees
 * a stale stamp takes a short lock and removes that node's presence entries, call peers
 * (in the rooms each node indexes, see NodeRoomIndex) and connection slots, so a SIGKILLed
 * node's participants are gone within seconds. No step here mixes slots: the heartbeats are
 * one key, the lock one key, each room's removal one room. A node starting under a NODE_ID
 * that a crashed process had (a supervisor's quick restart) first removes what that process
 * left: its stamp is fresh again before anyone could see it stale, so no survivor would ever
 * reap those entries.
 */
export class NodeRegistry {
  private timer: NodeJS.Timeout | null = null;
  private registered = false;
  readonly heartbeatMs: number;
  readonly timeoutMs: number;

  constructor(
    private readonly redis: RedisClient,
    private readonly presence: RedisPresence,
    private readonly calls: RedisCallRegistry,
    private readonly connections: RedisConnectionCounter,
    private readonly logger: Logger,
    private readonly options: NodeRegistryOptions,
  ) {
    this.heartbeatMs = options.heartbeatMs ?? 1000;
    this.timeoutMs = options.timeoutMs ?? 5000;
  }

  async start(): Promise<void> {
    // This process has no clients yet: whatever is indexed under its id is a previous one's.
    const left = await this.cleanup(this.options.nodeId);
    if (left.participants || left.peers || left.connections) this.logger.warn('removed what an earlier process of this node id left (it ended without cleaning up)', { nodeId: this.options.nodeId, ...left });
    await this.beat();
    this.timer = setInterval(() => {
      void this.beat()
        .then(() => this.reapDead())
        .catch((err: unknown) => this.logger.debug('node heartbeat failed', { err: (err as Error).message }));
    }, this.heartbeatMs);
    this.timer.unref();
  }

  /** Stops the heartbeat and removes this node's own entries (graceful shutdown). */
  async stop(): Promise<void> {
    if (this.timer) clearInterval(this.timer);
    this.timer = null;
    await this.cleanup(this.options.nodeId);
    await this.forget(this.options.nodeId);
  }

  /** A node id leaves the registry with its release record: node ids are per process by default, so they must not pile up. */
  private async forget(nodeId: string): Promise<void> {
    await Promise.all([this.redis.zRem(keys.nodes, nodeId), this.redis.hDel(keys.nodeReleases, nodeId)]);
  }

  private async beat(): Promise<void> {
    const added = await this.redis.zAdd(keys.nodes, { score: Date.now(), value: this.options.nodeId });
    // Our stamp was gone: a survivor reaped us while we could not reach Redis (a partition,
    // not a crash). Checked on every beat, so a beat that fails during the cut changes nothing.
    if (added === 1 && this.registered) {
      this.logger.warn('this node was taken for dead (its heartbeats did not reach Redis) and its participants removed', { nodeId: this.options.nodeId });
      // Its room indexes went with them: the next entry in any room adds that room again.
      this.presence.forgetIndex();
      this.calls.forgetIndex();
      this.options.onPresumedDead?.();
    }
    this.registered = true;
  }

  private async reapDead(): Promise<void> {
    const dead = await this.redis.zRangeByScore(keys.nodes, '-inf', Date.now() - this.timeoutMs);
    for (const nodeId of dead) {
      if (nodeId === this.options.nodeId) continue;
      const lock = await this.redis.set(`${keys.reaperLock}:${nodeId}`, this.options.nodeId, { condition: 'NX', expiration: { type: 'PX', value: 10_000 } });
      if (lock !== 'OK') continue;
      this.logger.warn('node missed its heartbeats: removing its participants', { deadNode: nodeId });
      await this.cleanup(nodeId);
      await this.forget(nodeId);
    }
  }

  /**
   * Removes a node's presence entries and call peers, visiting each room its indexes list
   * (all rooms at once: one round trip, pipelined); each room's removal is one step of the
   * room's own slot, and removes only what the node still owns there. Its connection slots
   * are released from its own index.
   */
  private async cleanup(nodeId: string): Promise<{ participants: number; peers: number; connections: number }> {
    const connections = await this.connections.releaseAllOf(nodeId);
    const [presenceRooms, callRooms] = await Promise.all([this.redis.sMembers(keys.nodePresenceRooms(nodeId)), this.redis.sMembers(keys.nodeCallRooms(nodeId))]);
    const [left, peersLeft] = await Promise.all([
      Promise.all(presenceRooms.map(async (roomId) => (await this.presence.removeNode(nodeId, roomId)).map((participant) => ({ roomId, participant })))),
      Promise.all(callRooms.map(async (roomId) => (await this.calls.removeNode(nodeId, roomId)).map(({ peerId, userId, name }) => ({ roomId, peerId, userId, name })))),
    ]);
    // Both keys carry the node's hash tag: one slot.
    await this.redis.del([keys.nodePresenceRooms(nodeId), keys.nodeCallRooms(nodeId)]);
    const result: DeadNodeCleanup = { left: left.flat(), peersLeft: peersLeft.flat() };
    if (result.left.length || result.peersLeft.length) this.options.onCleanup(result);
    return { participants: result.left.length, peers: result.peersLeft.length, connections };
  }
}
