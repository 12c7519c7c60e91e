import type { Logger } from '../../ports/logger.js';
import type { Participant } from '../../protocol/models.js';
import type { RedisClient } from './redis-client.js';
import { keys } from './redis-keys.js';
import type { RedisCallRegistry } from './redis-call-registry.js';
import type { RedisPresence } from './redis-presence.js';

export interface DeadNodeCleanup {
  left: { roomId: string; participant: Participant }[];
  peersLeft: { roomId: string; peerId: string }[];
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
 * a stale stamp takes a short lock and removes that node's presence entries and call peers
 * (indexed per node), so a SIGKILLed node's participants are gone within seconds.
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
    private readonly logger: Logger,
    private readonly options: NodeRegistryOptions,
  ) {
    this.heartbeatMs = options.heartbeatMs ?? 1000;
    this.timeoutMs = options.timeoutMs ?? 5000;
  }

  async start(): Promise<void> {
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
    await this.redis.zRem(keys.nodes, this.options.nodeId);
  }

  private async beat(): Promise<void> {
    const added = await this.redis.zAdd(keys.nodes, { score: Date.now(), value: this.options.nodeId });
    // Our stamp was gone: a survivor reaped us while we could not reach Redis (a partition,
    // not a crash). Checked on every beat, so a beat that fails during the cut changes nothing.
    if (added === 1 && this.registered) {
      this.logger.warn('this node was taken for dead (its heartbeats did not reach Redis) and its participants removed', { nodeId: this.options.nodeId });
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
      await this.redis.zRem(keys.nodes, nodeId);
    }
  }

  private async cleanup(nodeId: string): Promise<void> {
    const result: DeadNodeCleanup = { left: [], peersLeft: [] };
    for (const member of await this.redis.sMembers(keys.nodePresence(nodeId))) {
      const [roomId, socketId] = splitMember(member);
      const participant = await this.presence.leaveFor(nodeId, roomId, socketId);
      if (participant) result.left.push({ roomId, participant });
    }
    for (const member of await this.redis.sMembers(keys.nodePeers(nodeId))) {
      const [roomId, peerId] = splitMember(member);
      if (await this.calls.leaveFor(nodeId, roomId, peerId)) result.peersLeft.push({ roomId, peerId });
    }
    await this.redis.del([keys.nodePresence(nodeId), keys.nodePeers(nodeId)]);
    if (result.left.length || result.peersLeft.length) this.options.onCleanup(result);
  }
}

/** "roomId|id": room ids are opaque and may hold '|', socket and peer ids never do. */
function splitMember(member: string): [string, string] {
  const cut = member.lastIndexOf('|');
  return [member.slice(0, cut), member.slice(cut + 1)];
}
