import type { FanOutBacklog } from '../../ports/realtime.js';

/**
 * The adapter's publishes to Redis that have not settled yet, and the brake senders wait on
 * while there are too many.
 *
 * A broadcast is delivered to other nodes through one Redis stream (the streams adapter's
 * XADD) on a connection whose command queue is bounded; nothing waits for it, so a sender
 * acked quickly enough outruns a saturated Redis master, the queue fills and node-redis
 * refuses the XADD: the message reaches this node's sockets only (measured on a 3-master
 * Redis Cluster: about half the live deliveries lost at saturation). A send's ack waits here
 * instead while the backlog is at `highWater`, until it is back at `lowWater`: senders slow
 * to what Redis takes and no live delivery is dropped for speed. Every publish settles within
 * the publish deadline (withPublishDeadline), so a wait is bounded by it.
 */
export class PublishBacklog implements FanOutBacklog {
  private inFlight = 0;
  private waiting: (() => void)[] = [];
  private readonly lowWater: number;

  constructor(private readonly highWater: number) {
    this.lowWater = Math.floor(highWater * 0.8);
  }

  /** A publish went out. */
  started(): void {
    this.inFlight++;
  }

  /** A publish was taken by Redis, failed, or passed its deadline. */
  settled(): void {
    this.inFlight--;
    if (this.waiting.length > 0 && this.inFlight <= this.lowWater) {
      const waiting = this.waiting;
      this.waiting = [];
      for (const resume of waiting) resume();
    }
  }

  whenBelow(): Promise<void> | null {
    if (this.inFlight < this.highWater) return null;
    return new Promise((resume) => this.waiting.push(resume));
  }
}
