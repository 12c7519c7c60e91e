/**
 * Gathers the calls made within one event-loop turn and runs them as one batch, so that
 * many messages share one SQLite transaction (one WAL commit) instead of paying one each.
 * `runBatch` returns one outcome per item, in order; a thrown error fails the whole batch.
 */
export type Outcome<R> = { ok: true; value: R } | { ok: false; error: unknown };

export class GroupCommit<T, R> {
  private pending: { item: T; resolve: (r: R) => void; reject: (e: unknown) => void }[] = [];
  private scheduled = false;

  constructor(
    private readonly runBatch: (items: T[]) => Outcome<R>[],
    private readonly maxBatch = 500,
  ) {}

  submit(item: T): Promise<R> {
    return new Promise<R>((resolve, reject) => {
      this.pending.push({ item, resolve, reject });
      if (!this.scheduled) {
        this.scheduled = true;
        setImmediate(() => this.flush());
      }
    });
  }

  private flush(): void {
    this.scheduled = false;
    while (this.pending.length > 0) {
      const batch = this.pending.splice(0, this.maxBatch);
      let outcomes: Outcome<R>[];
      try {
        outcomes = this.runBatch(batch.map((p) => p.item));
      } catch (error) {
        for (const p of batch) p.reject(error);
        continue;
      }
      batch.forEach((p, i) => {
        const o = outcomes[i]!;
        if (o.ok) p.resolve(o.value);
        else p.reject(o.error);
      });
    }
  }
}
