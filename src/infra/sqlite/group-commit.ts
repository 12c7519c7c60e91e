/**
 * Group commit, the one batching stage of the SQLite write path: appends go to the writer
 * thread in batches, one batch in flight at a time. What arrives while a batch is being
 * committed waits and goes as the next batch, so under load the batch grows with the load
 * (one wake-up of the writer thread and one WAL commit serve many messages), and when idle
 * a message goes at the end of the current event-loop turn, without waiting. `runBatch`
 * answers one settled result per item, in order; a failure of the whole batch fails every
 * item in it.
 */
export class GroupCommit<T, R> {
  private pending: { item: T; resolve: (r: R) => void; reject: (e: unknown) => void }[] = [];
  private scheduled = false;
  private inFlight = false;
  private idleWaiters: (() => void)[] = [];

  constructor(
    private readonly runBatch: (items: T[]) => Promise<PromiseSettledResult<R>[]>,
    /** Most items one batch (one transaction) takes; the rest go in the next. */
    private readonly maxBatch = 1000,
  ) {}

  submit(item: T): Promise<R> {
    return new Promise<R>((resolve, reject) => {
      this.pending.push({ item, resolve, reject });
      if (!this.scheduled && !this.inFlight) {
        this.scheduled = true;
        setImmediate(() => this.flush());
      }
    });
  }

  /** Resolves once everything submitted so far has been answered. */
  drain(): Promise<void> {
    if (!this.inFlight && this.pending.length === 0) return Promise.resolve();
    return new Promise((resolve) => this.idleWaiters.push(resolve));
  }

  private flush(): void {
    this.scheduled = false;
    if (this.inFlight) return;
    if (this.pending.length === 0) {
      for (const resolve of this.idleWaiters.splice(0)) resolve();
      return;
    }
    this.inFlight = true;
    const batch = this.pending.splice(0, this.maxBatch);
    const settle = (results: PromiseSettledResult<R>[] | null, error?: unknown) => {
      this.inFlight = false;
      batch.forEach((p, i) => {
        const r = results?.[i];
        if (!r) p.reject(error);
        else if (r.status === 'fulfilled') p.resolve(r.value);
        else p.reject(r.reason);
      });
      this.flush();
    };
    this.runBatch(batch.map((p) => p.item)).then(
      (results) => settle(results),
      (error: unknown) => settle(null, error),
    );
  }
}
