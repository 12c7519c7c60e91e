import type { SoakCluster } from './soak-cluster.js';

export interface Fault {
  name: string;
  /** Injects the fault and heals it before resolving. */
  apply(): Promise<string | void>;
}

export interface FaultRecord {
  name: string;
  /** Seconds since the soak started. */
  at: number;
  /** From injection to healed (the fault's own length plus restarts). */
  tookMs: number;
  /** From healed to the next acked send: how long chat needed to come back. */
  acksBackMs: number | null;
  detail?: string;
}

const sleep = (ms: number) => new Promise((r) => setTimeout(r, ms));

/**
 * The faults the soak rotates through: Redis hangs (SIGSTOP … SIGCONT), Redis crashes and
 * restarts on its AOF, node b crashes and restarts, and a share of the clients lose their
 * connection under them. Node a is never killed: it is the process whose memory is judged
 * over the whole run (see verdict.ts).
 */
export function soakFaults(cluster: SoakCluster, dropClients: () => number): Fault[] {
  return [
    {
      name: 'redis SIGSTOP 4 s',
      async apply() {
        cluster.redis.pause();
        await sleep(4000);
        cluster.redis.resume();
      },
    },
    {
      name: 'redis SIGKILL + restart on AOF',
      async apply() {
        await cluster.redis.crash();
        await sleep(1000);
        await cluster.redis.start();
      },
    },
    {
      name: 'node b SIGKILL + restart',
      apply: () => cluster.crashAndRestart(1, 1000),
    },
    {
      name: 'client transports dropped',
      async apply() {
        return `${dropClients()} connections cut`;
      },
    },
  ];
}

/**
 * Runs the faults in turn, one every `periodMs`, the first after `firstAfterMs`; each one is
 * healed before the next can start. `acked` is the total of acked sends, to time chat's return.
 */
export class FaultSchedule {
  readonly records: FaultRecord[] = [];
  private stopped = false;
  private inFlight: Promise<void> = Promise.resolve();
  private timer: NodeJS.Timeout | null = null;
  private turn = 0;

  constructor(
    private readonly faults: Fault[],
    private readonly acked: () => number,
    private readonly startedAt: number,
    private readonly log: (msg: string) => void,
  ) {}

  start(firstAfterMs: number, periodMs: number): void {
    const next = (delay: number) => {
      if (this.stopped) return;
      this.timer = setTimeout(() => {
        if (this.stopped) return;
        this.inFlight = this.runOne().then(() => next(periodMs));
      }, delay);
    };
    next(firstAfterMs);
  }

  private async runOne(): Promise<void> {
    const fault = this.faults[this.turn++ % this.faults.length]!;
    const at = Math.round((Date.now() - this.startedAt) / 1000);
    const t0 = Date.now();
    let detail: string | void;
    try {
      detail = await fault.apply();
    } catch (err) {
      detail = `failed: ${(err as Error).message}`;
    }
    const healed = Date.now();
    const ackedAtHeal = this.acked();
    while (this.acked() === ackedAtHeal && Date.now() - healed < 30_000) await sleep(20);
    const record: FaultRecord = {
      name: fault.name,
      at,
      tookMs: healed - t0,
      acksBackMs: this.acked() > ackedAtHeal ? Date.now() - healed : null,
      ...(detail ? { detail } : {}),
    };
    this.records.push(record);
    this.log(`fault ${record.name}: healed after ${record.tookMs} ms, acks back ${record.acksBackMs ?? '—'} ms later${detail ? ` (${detail})` : ''}`);
  }

  /** No new fault; waits for the one in flight to heal. */
  async stop(): Promise<void> {
    this.stopped = true;
    if (this.timer) clearTimeout(this.timer);
    await this.inFlight;
  }
}
