import { AppError } from '../domain/app-error.js';
import type { Logger } from '../ports/logger.js';
import type { ReadMarker, ReadMarkerStore } from '../ports/store.js';

export interface ReadMarkersOptions {
  /** How long the markers of own sends gather before one batched write. */
  flushDelayMs?: number;
  /**
   * Most (room, user) markers held for the next write. Past it, a send does not move its
   * sender's marker (the message counts as unread to them until they read it): memory stays
   * bounded through a long store outage.
   */
  maxPending?: number;
  /** Wait after a failed write before the next try. */
  retryDelayMs?: number;
}

/** Messages after the marker: from the room's counter, never by counting rows. */
export const unreadCount = (lastSeq: number, marker: number): number => Math.max(0, lastSeq - marker);

const keyOf = (roomId: string, userId: string) => `${roomId}\n${userId}`;

/**
 * Read markers: how far each member has read in each room. `chat:read` writes straight to the
 * store (its answer and the receipts depend on whether the marker moved). A member's own sends
 * move their marker too, but never on the send's path: they are gathered here, one per (room,
 * user), and written in one batch a moment later; reads of this node see them meanwhile.
 */
export class ReadMarkers {
  private pending = new Map<string, ReadMarker>();
  /** The batch being written, still visible to reads until it is stored. */
  private inFlight = new Map<string, ReadMarker>();
  private timer: NodeJS.Timeout | null = null;
  private flushing: Promise<void> | null = null;
  private failing = false;
  private stopped = false;
  private readonly flushDelayMs: number;
  private readonly maxPending: number;
  private readonly retryDelayMs: number;

  constructor(
    private readonly store: ReadMarkerStore,
    private readonly logger: Logger,
    options: ReadMarkersOptions = {},
  ) {
    this.flushDelayMs = options.flushDelayMs ?? 100;
    this.maxPending = options.maxPending ?? 10_000;
    this.retryDelayMs = options.retryDelayMs ?? 1000;
  }

  /**
   * An explicit read up to `seq`, which may not pass the room's `lastSeq` (VALIDATION_FAILED,
   * nothing changes). True when the marker moved (false: it was there or further already).
   */
  async read(roomId: string, userId: string, seq: number, lastSeq: number): Promise<boolean> {
    if (seq > lastSeq) {
      throw new AppError('VALIDATION_FAILED', `seq ${seq} is past the last message of the room (${lastSeq})`, [
        { path: ['seq'], message: `must be at most ${lastSeq}, the room's last seq` },
      ]);
    }
    return this.store.setReadMarker(roomId, userId, seq);
  }

  /** The user sent message `seq`: their marker follows, written with the next batch. */
  sent(roomId: string, userId: string, seq: number): void {
    if (this.stopped) return;
    this.hold({ roomId, userId, seq });
    this.schedule(this.flushDelayMs);
  }

  /** The user's marker in the room, counting own sends not written yet. */
  async markerOf(roomId: string, userId: string): Promise<number> {
    return Math.max(await this.store.getReadMarker(roomId, userId), this.heldSeq(roomId, userId));
  }

  /** The user's markers in the rooms (0 where none), in one store read. */
  async markersOf(userId: string, roomIds: string[]): Promise<Map<string, number>> {
    const stored = await this.store.readMarkers(userId, roomIds);
    return new Map(roomIds.map((roomId) => [roomId, Math.max(stored.get(roomId) ?? 0, this.heldSeq(roomId, userId))]));
  }

  /** Writes what is held (shutdown: before the store closes); later sends are not followed. */
  async stop(): Promise<void> {
    this.stopped = true;
    if (this.timer) clearTimeout(this.timer);
    this.timer = null;
    await this.flushing;
    await this.flush();
  }

  private heldSeq(roomId: string, userId: string): number {
    const key = keyOf(roomId, userId);
    return Math.max(this.pending.get(key)?.seq ?? 0, this.inFlight.get(key)?.seq ?? 0);
  }

  private hold(marker: ReadMarker): void {
    const key = keyOf(marker.roomId, marker.userId);
    const held = this.pending.get(key);
    if (held) held.seq = Math.max(held.seq, marker.seq);
    else if (this.pending.size < this.maxPending) this.pending.set(key, { ...marker });
    else this.logger.debug('read marker of an own send dropped: too many waiting for the store', { roomId: marker.roomId });
  }

  private schedule(delayMs: number): void {
    if (this.timer || this.stopped) return;
    this.timer = setTimeout(() => {
      this.timer = null;
      this.flushing ??= this.flush().finally(() => (this.flushing = null));
    }, delayMs);
    this.timer.unref();
  }

  private async flush(): Promise<void> {
    if (this.pending.size === 0) return;
    this.inFlight = this.pending;
    this.pending = new Map();
    let failed = false;
    try {
      await this.store.setReadMarkers([...this.inFlight.values()]);
      if (this.failing) this.logger.info('read markers of own sends are stored again');
      this.failing = false;
    } catch (err) {
      failed = true;
      if (!this.failing) this.logger.warn('read markers of own sends not stored; retrying', { err: (err as Error).message, markers: this.inFlight.size });
      this.failing = true;
      for (const marker of this.inFlight.values()) this.hold(marker);
    } finally {
      this.inFlight = new Map();
    }
    if (this.pending.size > 0) this.schedule(failed ? this.retryDelayMs : this.flushDelayMs);
  }
}
