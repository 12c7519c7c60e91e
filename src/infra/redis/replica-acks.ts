import { unconfirmed } from '../../domain/app-error.js';
import { sendRaw, type RedisClient } from './redis-client.js';

/** How long an ack may wait for replicas before the sender is told to retry. */
export const REPLICA_WAIT_MS = 1000;

/**
 * REDIS_MIN_REPLICAS_ACK: a chat message is acked only once that many replicas hold it.
 *
 * Redis replicates asynchronously; `WAIT n ms` blocks a connection until n replicas have
 * every write *that connection* sent before it. So the appends that need the guarantee go
 * on a connection of their own (presence and rate limits never queue behind a WAIT), and
 * the appends answered in one turn of the event loop share one WAIT: `confirm()` joins the
 * WAIT not yet sent, or schedules one. While a WAIT is in flight, Redis holds the
 * connection's next appends, which then share the next WAIT: one per batch, not per message.
 * Replication is one ordered stream, so a WAIT also covers writes other nodes made before.
 *
 * On a Redis Cluster each master replicates on its own: the WAIT goes where the write went,
 * routed by the write's key, and a batch is one WAIT per key that turn (at most one per
 * queue partition), each on the cluster client's connection to that key's master.
 */
export class ReplicaAcks {
  private readonly next = new Map<string, Promise<void>>();
  /**
   * Bumped whenever a connection of `client` may have been replaced: WAIT counts only the
   * writes of the connection it runs on, so a WAIT on a new connection (a reconnect, or a
   * Sentinel client that moved to a promoted replica and resent it there) would confirm
   * nothing about an append made on the old one, and must not ack it.
   */
  private epoch = 0;

  constructor(
    /** The connection the appends were sent on. */
    readonly client: RedisClient,
    private readonly replicas: number,
    private readonly cluster = false,
    private readonly timeoutMs = REPLICA_WAIT_MS,
  ) {
    const bump = () => void this.epoch++;
    // Single client: 'error' precedes every reconnect; cluster: its nodes' events; Sentinel:
    // its connections' errors (passed through as 'error', see connectRedis) and a master change.
    for (const event of ['error', 'reconnecting', 'end', 'node-error', 'node-reconnecting', 'node-disconnect', 'topology-change']) {
      (client as unknown as NodeJS.EventEmitter).on(event, bump);
    }
  }

  /** Resolves once `replicas` replicas hold every write sent on `client` (to `key`'s master) before this call. */
  confirm(key: string): Promise<void> {
    const epoch = this.epoch;
    return this.waitFor(key).then(() => {
      if (this.epoch !== epoch) throw unconfirmed('the Redis connection changed before the replicas confirmed the message (REDIS_MIN_REPLICAS_ACK); try again');
    });
  }

  /** The WAIT of this turn's batch (per key's master on a cluster): joined, or scheduled. */
  private waitFor(key: string): Promise<void> {
    const batch = this.cluster ? key : '';
    let next = this.next.get(batch);
    if (!next) {
      next = new Promise<void>((resolve) => setImmediate(resolve)).then(async () => {
        // From here on a confirm needs a WAIT of its own: its write may come after this one.
        this.next.delete(batch);
        const acked = Number(await this.wait(key));
        if (acked < this.replicas) {
          throw unconfirmed(`only ${acked} of the ${this.replicas} Redis replicas required (REDIS_MIN_REPLICAS_ACK) confirmed the message in time; try again`);
        }
      });
      this.next.set(batch, next);
    }
    return next;
  }

  private wait(key: string): Promise<unknown> {
    return sendRaw(this.client, key, ['WAIT', String(this.replicas), String(this.timeoutMs)]);
  }
}
