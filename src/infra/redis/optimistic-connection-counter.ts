import type { Logger } from '../../ports/logger.js';
import type { ConnectionCounter } from '../../ports/realtime.js';
import type { CountedAnswer } from './redis-connection-counter.js';

/** The cluster-wide counter behind this one (RedisConnectionCounter, through the breaker). */
export interface CountingConnectionCounter {
  take(userId: string, ip: string, connId: string, admitted: boolean): Promise<CountedAnswer>;
  release(userId: string, ip: string, connId: string): Promise<void>;
}

/** How long a set with no connection of this node is remembered (a reconnect finds it). */
const VIEW_TTL_MS = 10_000;

/** What this node knows of one set (a user's or an address's slots). */
interface SetView {
  readonly key: string;
  /**
   * Slots held cluster-wide by the newest answer, less this node's counted connections closed
   * since; null: no answer to go by (never asked, or a step failed), so the next step waits.
   */
  held: number | null;
  /** Steps sent and not answered yet. */
  unanswered: number;
  /** Order of the steps sent, and the newest whose answer is in `held`: an older answer never overwrites a newer one. */
  sent: number;
  applied: number;
  /** This node's connections in the set. */
  mine: number;
  lastUsed: number;
}

interface Holder {
  views: [SetView, SetView];
  /** Its slot is in a size `held` was set from (a failed step's is not, and closing it takes nothing off). */
  counted: boolean;
}

/**
 * Connection caps across the cluster without a Redis round trip on the connect path. A
 * connection is admitted at once when, for its user and for its address, this node has an
 * answer from Redis that left room and no step on its way; its slots are then recorded behind
 * it, counted whatever the caps. Otherwise it waits for the shared counter's exact, atomic
 * check, as before.
 *
 * How far a cap can be overshot: a node admits ahead of an answer only one connection per
 * set at a time, and only when its newest answer left room. So when other nodes admitted
 * connections of the same user (or address) after that answer (a race, or a view up to
 * VIEW_TTL_MS old), each node adds at most one over the cap; its next connection waits for
 * Redis, which counts that one, and is refused while the set is full. The excess ends as
 * connections close. On one node the caps stay exact. A set this node has no answer for
 * (a user's first connection here) waits for Redis: a user at the cap on other nodes is
 * refused here too.
 *
 * When the shared counter fails, the handshake admits the connection; it is held here so that
 * its release undoes whatever of its step reached Redis, and the sets it is in wait for a
 * fresh answer before admitting anyone ahead again.
 */
export class OptimisticConnectionCounter implements ConnectionCounter {
  private readonly views = new Map<string, SetView>();
  private readonly holders = new Map<string, Holder>();
  private nextSweep = 0;

  constructor(
    private readonly shared: CountingConnectionCounter,
    private readonly caps: { perUser: number; perIp: number },
    private readonly logger: Logger,
    private readonly now: () => number = Date.now,
  ) {}

  /** Sets this node keeps a view of (exposed for tests: it must not grow without bound). */
  get viewCount(): number {
    return this.views.size;
  }

  async acquire(userId: string, ip: string, connId: string): Promise<'ok' | 'user' | 'ip'> {
    if (this.holders.has(connId)) return 'ok';
    const now = this.now();
    if (now >= this.nextSweep) this.sweep(now);
    const user = this.view(`u\n${userId}`, now);
    const addr = this.view(`a\n${ip}`, now);
    const ahead = hasRoom(user, this.caps.perUser) && hasRoom(addr, this.caps.perIp);
    const [userStep, addrStep] = [++user.sent, ++addr.sent];
    user.unanswered++;
    addr.unanswered++;
    const holder: Holder = { views: [user, addr], counted: false };
    if (ahead) this.hold(connId, holder);
    // Views in use (a step unanswered, or a connection held) are never swept, so `user` and
    // `addr` stay the ones in the map while this step is out.
    const answered = this.shared.take(userId, ip, connId, ahead).then(
      (counted) => {
        applyAnswer(user, userStep, counted.held.user);
        applyAnswer(addr, addrStep, counted.held.ip);
        if (counted.answer === 'ok') {
          // Counted unless it was admitted ahead and has closed already: that release took
          // nothing off the view, and this answer's size still includes its slot (too high
          // by one until the next answer, which errs towards asking Redis).
          holder.counted = !ahead || this.holders.get(connId) === holder;
          if (!ahead) this.hold(connId, holder);
        }
        return counted.answer;
      },
      (err: unknown) => {
        // No answer to go by, nor from a step sent before this one: the next connection of
        // these sets waits for a fresh answer.
        for (const view of [user, addr]) {
          view.held = null;
          view.applied = view.sent;
        }
        if (ahead) this.logger.debug('connection slot not recorded; admitted all the same', { err: (err as Error).message });
        else this.hold(connId, holder); // the handshake admits it
        throw err;
      },
    );
    const settled = answered.finally(() => {
      user.unanswered--;
      addr.unanswered--;
    });
    if (!ahead) return settled;
    settled.catch(() => undefined);
    return 'ok';
  }

  async release(userId: string, ip: string, connId: string): Promise<void> {
    const holder = this.holders.get(connId);
    if (!holder) return;
    this.holders.delete(connId);
    const now = this.now();
    for (const view of holder.views) {
      view.mine--;
      view.lastUsed = now;
      if (holder.counted && view.held !== null) view.held = Math.max(0, view.held - 1);
    }
    // Sent at once, even if the take is still on its way: both go over the one connection to
    // the set's Redis, in order, and a later connection reusing this id (a recovered session)
    // must not have its slot removed by this release arriving after its take.
    await this.shared.release(userId, ip, connId);
  }

  private hold(connId: string, holder: Holder): void {
    if (this.holders.has(connId)) return;
    this.holders.set(connId, holder);
    for (const view of holder.views) view.mine++;
  }

  private view(key: string, now: number): SetView {
    let view = this.views.get(key);
    if (!view) this.views.set(key, (view = { key, held: null, unanswered: 0, sent: 0, applied: 0, mine: 0, lastUsed: now }));
    view.lastUsed = now;
    return view;
  }

  /** Forgets sets with no connection of this node, no step out and no use for VIEW_TTL_MS. */
  private sweep(now: number): void {
    this.nextSweep = now + VIEW_TTL_MS;
    for (const [key, view] of this.views) {
      if (view.mine === 0 && view.unanswered === 0 && now - view.lastUsed >= VIEW_TTL_MS) this.views.delete(key);
    }
  }
}

/** Room for one more by an answer, with no step on its way that could change that. */
const hasRoom = (view: SetView, cap: number): boolean => view.unanswered === 0 && view.held !== null && view.held < cap;

function applyAnswer(view: SetView, step: number, held: number): void {
  if (step < view.applied) return;
  view.applied = step;
  view.held = held;
}
