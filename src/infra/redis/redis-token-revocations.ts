import { randomUUID } from 'node:crypto';
import { unavailable } from '../../domain/app-error.js';
import type { Logger } from '../../ports/logger.js';
import { applyRevocation, type TokenRevocations } from '../../ports/token-revocations.js';
import { LuaScript } from './lua-script.js';
import type { RedisClient } from './redis-client.js';
import { keys } from './redis-keys.js';

/**
 * Moves a user's revocation second forward (never back) and gives the list a new version, in
 * one slot. The version is a fresh id, not a counter: a counter restarted by a Redis that lost
 * its data could come back to the very value a node holds, and that node would miss a change.
 */
const REVOKE = new LuaScript(`
local known = redis.call('HGET', KEYS[1], ARGV[1])
if not known or tonumber(known) < tonumber(ARGV[2]) then redis.call('HSET', KEYS[1], ARGV[1], ARGV[2]) end
redis.call('SET', KEYS[2], ARGV[3])
`);

/** How often a node checks that its copy is current (one GET; a reload only when it is not). */
export const REVOCATIONS_RESYNC_MS = 1000;

/**
 * Token revocations of cluster mode. Every node checks tokens against a copy in memory, so a
 * handshake or REST call costs a Map lookup, never a Redis round trip. The copy is:
 * - loaded whole at start (one hash: revocations are few, one entry per revoked user);
 * - kept current by pub/sub: a revoke publishes `<second> <userId>`, which every node applies
 *   as it arrives. Redis writes it to every subscriber before it answers the publisher, so it
 *   is on its way to each node before the operator has the answer. On a Redis Cluster that
 *   takes sharded pub/sub: a classic PUBLISH answers first and reaches the other shards over
 *   the cluster bus afterwards (seen: a node still admitted the token right after the answer);
 * - checked every REVOCATIONS_RESYNC_MS against the version every revoke renews, and
 *   reloaded when it differs. That is the fallback for what pub/sub loses (a node cut off from
 *   Redis while a revoke was published, a subscription being re-made): a missed revoke is
 *   applied at most one interval after the node reaches Redis again.
 * While Redis is unreachable a node keeps its copy and serves from it: refusing every token
 * would lock every user out for an outage of a dependency that revocations rarely change.
 * Entries are only ever moved forward, so a reload from a Redis that lost writes (a failover)
 * never un-revokes what this node already knew.
 */
export class RedisTokenRevocations implements TokenRevocations {
  private readonly view = new Map<string, number>();
  private version: string | null = null;
  private timer: NodeJS.Timeout | null = null;
  private resyncing = false;
  private warned = false;

  /**
   * `subscriber` is a connection of this instance's own: subscribing takes a connection over
   * (RESP2). It is subscribed at start and closed by its owner.
   */
  constructor(
    private readonly redis: RedisClient,
    private readonly subscriber: RedisClient,
    private readonly logger: Logger,
    options: { resyncMs?: number; sharded?: boolean } = {},
  ) {
    this.resyncMs = options.resyncMs ?? REVOCATIONS_RESYNC_MS;
    this.sharded = options.sharded ?? false;
  }

  private readonly resyncMs: number;
  /** Sharded pub/sub (SPUBLISH, SSUBSCRIBE): on a Redis Cluster. */
  private readonly sharded: boolean;

  revokedThrough(userId: string): number | null {
    return this.view.get(userId) ?? null;
  }

  /**
   * Not behind the Redis breaker (its lookups must stay a plain method call, and a Proxy is
   * not one): a Redis error is turned into UNAVAILABLE here, and the main connection's
   * silence deadline bounds the wait.
   */
  async revoke(userId: string, second: number): Promise<void> {
    try {
      await REVOKE.run(this.redis, [keys.tokenRevocations, keys.tokenRevocationsVersion], [userId, second, randomUUID()]);
    } catch (err) {
      throw unavailable('the revocation could not be stored: Redis is unreachable; retry', err);
    }
    applyRevocation(this.view, userId, second);
    // Stored first: a node that misses this message finds the revocation on its next check.
    const announce = `${second} ${userId}`;
    const published = this.sharded ? this.redis.sPublish(keys.tokenRevocationsChannel, announce) : this.redis.publish(keys.tokenRevocationsChannel, announce);
    await published.catch((err: unknown) => {
      this.logger.warn('revocation stored but not announced; other nodes apply it on their next check', { userId, err: (err as Error).message });
    });
  }

  async start(): Promise<void> {
    const listener = (message: string) => this.heard(message);
    if (this.sharded) await this.subscriber.sSubscribe(keys.tokenRevocationsChannel, listener);
    else await this.subscriber.subscribe(keys.tokenRevocationsChannel, listener);
    await this.reload();
    this.timer = setInterval(() => void this.resync(), this.resyncMs);
    this.timer.unref();
  }

  async stop(): Promise<void> {
    if (this.timer) clearInterval(this.timer);
    this.timer = null;
  }

  private heard(message: string): void {
    const space = message.indexOf(' ');
    const second = Number(message.slice(0, space));
    if (space > 0 && Number.isFinite(second)) applyRevocation(this.view, message.slice(space + 1), second);
  }

  /** Reloads the hash when the version says another node revoked something this one missed. */
  private async resync(): Promise<void> {
    if (this.resyncing) return;
    this.resyncing = true;
    try {
      const version = await this.redis.get(keys.tokenRevocationsVersion);
      if (version !== this.version) await this.reload();
      if (this.warned) this.logger.info('token revocations in sync with Redis again');
      this.warned = false;
    } catch (err) {
      if (!this.warned) this.logger.warn('token revocations cannot be checked against Redis; serving the copy in memory', { err: (err as Error).message });
      this.warned = true;
    } finally {
      this.resyncing = false;
    }
  }

  private async reload(): Promise<void> {
    // Version first: a revoke between the two reads makes the next check reload again.
    const version = await this.redis.get(keys.tokenRevocationsVersion);
    const all = await this.redis.hGetAll(keys.tokenRevocations);
    for (const [userId, second] of Object.entries(all)) applyRevocation(this.view, userId, Number(second));
    this.version = version;
  }
}
