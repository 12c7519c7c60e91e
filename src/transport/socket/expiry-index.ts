/** Longest delay Node's timers accept; a later due time is reached in several steps. */
const MAX_TIMER_MS = 2 ** 31 - 1;

/**
 * Items by the second at which they expire, with one timer, for the earliest such second,
 * for all of them. It stands in for a timer per connection (a Timeout, its closure and a
 * timer list per distinct delay: ~0.3 KB per idle connection); an item costs an entry in a
 * Set. JWT expiries are whole seconds, so each item expires on time, not up to a second late.
 * An item leaves when it expires or when it is deleted, whichever comes first, and `delete`
 * says which: the caller that takes an item out is the one that cleans up after it.
 */
export class ExpiryIndex<T> {
  private readonly bySecond = new Map<number, Set<T>>();
  private timer: NodeJS.Timeout | null = null;
  /** The second the timer is set for (Infinity: no timer). */
  private timerSecond = Infinity;

  constructor(
    private readonly onExpired: (item: T) => void,
    private readonly onError: (err: unknown) => void,
  ) {}

  /** `expiresAt` in Unix milliseconds; pass the same value to `delete`. */
  add(item: T, expiresAt: number): void {
    const second = Math.ceil(expiresAt / 1000);
    let items = this.bySecond.get(second);
    if (!items) this.bySecond.set(second, (items = new Set()));
    items.add(item);
    if (second < this.timerSecond) this.arm(second);
  }

  /** False when the item is not here (it expired already, or was never added). */
  delete(item: T, expiresAt: number): boolean {
    const second = Math.ceil(expiresAt / 1000);
    const items = this.bySecond.get(second);
    if (!items?.delete(item)) return false;
    if (items.size === 0) this.bySecond.delete(second);
    // No timer without items: nothing outlives the last connection.
    if (this.bySecond.size === 0) this.disarm();
    return true;
  }

  private arm(second: number): void {
    this.disarm();
    this.timerSecond = second;
    this.timer = setTimeout(() => this.fire(), Math.min(Math.max(0, second * 1000 - Date.now()), MAX_TIMER_MS));
    this.timer.unref();
  }

  private disarm(): void {
    if (this.timer) clearTimeout(this.timer);
    this.timer = null;
    this.timerSecond = Infinity;
  }

  private fire(): void {
    this.timer = null;
    this.timerSecond = Infinity;
    const now = Date.now();
    for (const [second, items] of this.bySecond) {
      if (second * 1000 > now) continue;
      // One at a time, each out before its callback: the callback may disconnect others of
      // this second (a transport shared by two namespaces), which then delete themselves.
      for (const item of items) {
        items.delete(item);
        try {
          this.onExpired(item);
        } catch (err) {
          this.onError(err);
        }
      }
      if (items.size === 0) this.bySecond.delete(second);
    }
    let next = Infinity;
    for (const second of this.bySecond.keys()) if (second < next) next = second;
    if (next < this.timerSecond) this.arm(next);
  }
}
