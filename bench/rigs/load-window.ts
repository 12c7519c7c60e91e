import { Histogram } from '../lib/histogram.js';
import type { ServerProc, WindowStats } from '../lib/server-proc.js';
import { sleep } from '../lib/setup.js';
import { nowUs } from '../lib/sio-client.js';
import { cpuMeter, poissonGapUs, round } from '../lib/stats.js';

/** What one measured window produced. */
export interface RunResult {
  /** Messages (relay) or deliveries (fan-out) received per second in the window. */
  rate: number;
  /** Messages sent per second (relay: = rate; fan-out: publications). */
  sentRate: number;
  latencyMs: ReturnType<Histogram['summaryMs']>;
  /** Server CPU per received message, µs (all server processes of the run). */
  serverCpuUsPerMsg: number;
  /** The part of it spent on the servers' main threads (the event loops); absent without /proc. */
  serverMainThreadCpuUsPerMsg?: number;
  /** Server CPU as a share of one core. */
  serverCpu: number;
  generatorCpu: number;
  eventLoopDelayMs: WindowStats['eld'];
  rssMB: number;
  heapMB: number;
  /** GC pauses in the window (first server). */
  gc: WindowStats['gc'];
  /** Sent in the window but never received (after a drain wait), or refused by the server. */
  lost: number;
  errors: number;
  /** The window on the first server's monotonic clock (to cut a CPU profile to it). */
  windowUs: [number, number];
  /** Deliveries/s in each `sliceMs` of the window, when asked for (does throughput hold?). */
  sliceRates?: number[];
  /** What each extra meter (e.g. Redis) saw over the window, by its name. */
  meters: Record<string, unknown>;
}

/** Something else measured over exactly the window (Redis commands and CPU, say). */
export interface WindowMeter {
  readonly name: string;
  /** Starts measuring; the returned function ends it and gives the figures. */
  begin(): Promise<() => Promise<unknown>>;
}

export interface WindowOptions {
  warmupMs: number;
  measureMs: number;
  drainMs?: number;
  sliceMs?: number;
}

/**
 * The shared machinery of a load run: a recording flag, a histogram, counters, and the
 * server/generator CPU meters around the measured window.
 */
export class LoadWindow {
  recording = false;
  running = false;
  delivered = 0;
  sent = 0;
  errors = 0;
  readonly hist = new Histogram();

  /** A message stamped at `stampUs` arrived (counts only while recording). */
  receive(stampUs: number): void {
    if (!this.recording) return;
    this.delivered++;
    if (stampUs >= 0) this.hist.record(nowUs() - stampUs);
  }

  /**
   * Runs `start` (which begins sending), warms up, measures, stops, then waits up to
   * `drainMs` for `inFlight()` to reach zero.
   */
  async measure(
    servers: ServerProc[],
    opts: WindowOptions,
    meters: readonly WindowMeter[],
    start: () => void,
    stop: () => void,
    inFlight: () => number,
  ): Promise<RunResult> {
    this.running = true;
    start();
    await sleep(opts.warmupMs);
    const [fromUs] = await Promise.all(servers.map((s) => s.resetWindow()));
    const ends = await Promise.all(meters.map((m) => m.begin()));
    const gen = cpuMeter();
    this.delivered = 0;
    this.sent = 0;
    this.errors = 0;
    this.hist.reset();
    this.recording = true;
    const t0 = performance.now();
    let sliceRates: number[] | undefined;
    if (opts.sliceMs) sliceRates = await this.slices(opts.measureMs, opts.sliceMs);
    else await sleep(opts.measureMs);
    const elapsedMs = performance.now() - t0;
    const stats = await Promise.all(servers.map((s) => s.windowStats()));
    const metered = await Promise.all(ends.map((end) => end()));
    const generator = gen();
    const deliveredInWindow = this.delivered;
    const sentInWindow = this.sent;
    this.running = false;
    stop();
    // Keep recording while in-flight messages drain, so that "lost" means lost.
    const deadline = Date.now() + (opts.drainMs ?? 3000);
    while (inFlight() > 0 && Date.now() < deadline) await sleep(20);
    this.recording = false;
    const cpuUs = stats.reduce((s, x) => s + x.cpuUs, 0);
    const mainCpuUs = stats.every((x) => x.mainThreadCpuUs !== null) ? stats.reduce((s, x) => s + x.mainThreadCpuUs!, 0) : null;
    const wallMs = stats[0]!.wallMs;
    const worstEld = stats.reduce((w, x) => (x.eld.p99 > w.p99 ? x.eld : w), stats[0]!.eld);
    return {
      rate: Math.round((deliveredInWindow / elapsedMs) * 1000),
      sentRate: Math.round((sentInWindow / elapsedMs) * 1000),
      latencyMs: this.hist.summaryMs(),
      serverCpuUsPerMsg: round(cpuUs / Math.max(1, deliveredInWindow), 2),
      ...(mainCpuUs === null ? {} : { serverMainThreadCpuUsPerMsg: round(mainCpuUs / Math.max(1, deliveredInWindow), 2) }),
      serverCpu: round(cpuUs / 1000 / wallMs, 3),
      generatorCpu: generator.share,
      eventLoopDelayMs: worstEld,
      rssMB: round(stats.reduce((s, x) => s + x.mem.rss, 0) / 1048576, 1),
      heapMB: round(stats.reduce((s, x) => s + x.mem.heapUsed, 0) / 1048576, 1),
      gc: stats[0]!.gc,
      lost: Math.max(0, inFlight()),
      errors: this.errors,
      windowUs: [fromUs!, stats[0]!.hrtimeUs],
      ...(sliceRates ? { sliceRates } : {}),
      meters: Object.fromEntries(meters.map((m, i) => [m.name, metered[i]])),
    };
  }

  /** Sleeps through the window in slices, noting the delivery rate of each. */
  private async slices(measureMs: number, sliceMs: number): Promise<number[]> {
    const rates: number[] = [];
    for (let done = 0; done < measureMs; done += sliceMs) {
      const before = this.delivered;
      const t = performance.now();
      await sleep(Math.min(sliceMs, measureMs - done));
      rates.push(Math.round(((this.delivered - before) / (performance.now() - t)) * 1000));
    }
    return rates;
  }
}

/**
 * An open-loop Poisson schedule: every millisecond, sends each message whose intended time
 * has come, stamped with that intended time (so queueing in the generator or the server is
 * measured, never hidden: no coordinated omission).
 */
export function openLoop(ratePerSec: number, send: (intendedUs: number) => void): () => void {
  let next = nowUs();
  const timer = setInterval(() => {
    const now = nowUs();
    while (next <= now) {
      send(next);
      next += poissonGapUs(ratePerSec);
    }
  }, 1);
  return () => clearInterval(timer);
}
