/** One dependency as readiness sees it. */
export interface DependencyProbe {
  name: string;
  /** Resolves when the dependency answers. */
  check(): Promise<void>;
  /** True for what can make an accepted message durable (the store, the queue). */
  durable: boolean;
}

export type DependencyState = 'up' | 'down';

export interface ReadinessReport {
  status: 'ok' | 'degraded' | 'unavailable';
  dependencies: Record<string, DependencyState>;
}

/**
 * Readiness for a load balancer. Only a node that is shutting down, or that can make
 * nothing durable, is `unavailable` (503). One dependency down is `degraded` (200), so a
 * shared database outage does not drain every node at once.
 */
export class Readiness {
  private shuttingDown = false;

  constructor(
    private readonly probes: DependencyProbe[],
    private readonly timeoutMs = 1000,
  ) {}

  markShuttingDown(): void {
    this.shuttingDown = true;
  }

  async report(): Promise<ReadinessReport> {
    const states = await Promise.all(this.probes.map((p) => this.probe(p)));
    const dependencies = Object.fromEntries(this.probes.map((p, i) => [p.name, states[i]!]));
    const anyDurableUp = this.probes.some((p, i) => p.durable && states[i] === 'up');
    const status = this.shuttingDown || !anyDurableUp ? 'unavailable' : states.every((s) => s === 'up') ? 'ok' : 'degraded';
    return { status, dependencies };
  }

  private async probe(p: DependencyProbe): Promise<DependencyState> {
    let timer: NodeJS.Timeout | undefined;
    const timeout = new Promise<never>((_, reject) => {
      timer = setTimeout(() => reject(new Error('timeout')), this.timeoutMs);
    });
    try {
      await Promise.race([p.check(), timeout]);
      return 'up';
    } catch {
      return 'down';
    } finally {
      clearTimeout(timer);
    }
  }
}
