import type { RunResult } from './load-window.js';
import type { ServerProc } from '../lib/server-proc.js';
import { FanoutRig } from './fanout-rig.js';
import { RelayRig } from './relay-rig.js';

/**
 * S3 cross-node latency: two nodes on one Redis (ours: cluster mode, the Redis streams
 * adapter; bare: the same adapter and options). Rooms of four with one sender each: "single"
 * puts the whole room on node A, "cross" puts the sender on A and the three receivers on B.
 * The relay variant does the same with call pairs. Open-loop rates; the penalty is
 * latency(cross) / latency(single), per server.
 */
export class CrossNodeRigs {
  private constructor(
    readonly chatSingle: FanoutRig,
    readonly chatCross: FanoutRig,
    readonly relaySingle: RelayRig,
    readonly relayCross: RelayRig,
  ) {}

  static async create(a: ServerProc, b: ServerProc, rooms: number, pairs: number): Promise<CrossNodeRigs> {
    const shape = { rooms, members: 4, sendersPerRoom: 1 };
    const chatSingle = await FanoutRig.create([a, b], { ...shape, place: () => a });
    const chatCross = await FanoutRig.create([a, b], { ...shape, place: (_room, m) => (m === 0 ? a : b) });
    const relaySingle = await RelayRig.create(a, pairs, a);
    const relayCross = await RelayRig.create(a, pairs, b);
    // Both nodes' CPU counts in every run.
    relaySingle.servers.splice(0, relaySingle.servers.length, a, b);
    return new CrossNodeRigs(chatSingle, chatCross, relaySingle, relayCross);
  }

  async chat(layout: 'single' | 'cross', opts: { warmupMs: number; measureMs: number; rate: number }): Promise<RunResult> {
    return (layout === 'single' ? this.chatSingle : this.chatCross).fixedRate(opts);
  }

  async relay(layout: 'single' | 'cross', opts: { warmupMs: number; measureMs: number; rate: number }): Promise<RunResult> {
    return (layout === 'single' ? this.relaySingle : this.relayCross).fixedRate(opts);
  }

  close(): void {
    this.chatSingle.close();
    this.chatCross.close();
    this.relaySingle.close();
    this.relayCross.close();
  }
}
