import { LoadWindow, openLoop, type RunResult, type WindowMeter, type WindowOptions } from './load-window.js';
import type { ServerProc } from '../lib/server-proc.js';
import { nowUs } from '../lib/sio-client.js';

/**
 * The two load shapes, once for every scenario rig: a rig says who sends (`sources`), how
 * one message goes out (`send`), what to zero before a window (`reset`) and how many
 * messages are still on their way (`inFlight`); a completed message sends the next one
 * while `window` is above zero (closed loop).
 */
export abstract class LoadRig<S> {
  readonly win = new LoadWindow();
  /** Messages each source keeps in flight; 0 in the open loop (nothing resends). */
  protected window = 0;
  /** Measured over every window besides the servers (the cluster scenario adds Redis). */
  readonly meters: WindowMeter[] = [];

  protected constructor(readonly servers: ServerProc[]) {}

  protected abstract sources(): S[];
  protected abstract send(source: S, stampUs: number): void;
  protected abstract reset(): void;
  protected abstract inFlight(): number;
  /** Drops every client of the rig. */
  abstract close(): void;

  /** Closed loop: each source keeps `window` messages in flight (saturation). */
  saturation(opts: WindowOptions & { window: number }): Promise<RunResult> {
    this.window = opts.window;
    return this.win.measure(
      this.servers,
      opts,
      this.meters,
      () => {
        this.reset();
        for (const s of this.sources()) for (let k = 0; k < opts.window; k++) this.send(s, nowUs());
      },
      () => (this.window = 0),
      () => this.inFlight(),
    );
  }

  /** Open loop: `rate` messages/s in total, Poisson arrivals over random sources. */
  fixedRate(opts: WindowOptions & { rate: number }): Promise<RunResult> {
    this.window = 0;
    let stop = () => {};
    return this.win.measure(
      this.servers,
      opts,
      this.meters,
      () => {
        this.reset();
        const sources = this.sources();
        stop = openLoop(opts.rate, (t) => this.send(sources[(Math.random() * sources.length) | 0]!, t));
      },
      () => stop(),
      () => this.inFlight(),
    );
  }
}
