import { spawn, type ChildProcess, type SpawnOptions } from 'node:child_process';
import { freeSubnet } from './addresses.js';
import { sh, shQuiet } from './sh.js';
import type { ProcessHost } from '../server-process.js';

/** Which packets a black hole swallows: all that cross the host's link, or only some ports. */
export interface HoleSpec {
  /** Only traffic to or from this port on the far side (e.g. Redis seen from a node). */
  remotePort?: number;
  /** Only traffic of this local port (e.g. one client connection's source port). */
  localPort?: number;
}

/** The nft table a black hole lives in; inside the host's namespace, never the root one. */
const TABLE = 'vcsft';

/**
 * A test host: a network namespace joined to the root namespace by a veth pair, with a /30
 * of its own (`gateway` on the root side, `addr` inside). A dependency runs in it as a child
 * process (`spawn`), and `blackhole` cuts it off with nftables `drop` rules in its own
 * namespace: packets vanish both ways, no RST and no ICMP, so open connections look alive
 * and new ones hang in SYN, as behind a failed switch.
 */
export class NetHost implements ProcessHost {
  readonly gateway: string;
  readonly addr: string;
  /** The namespace-side interface. */
  private readonly inner: string;
  private closed = false;

  constructor(readonly name: string) {
    this.inner = `${name}p`;
    const net = freeSubnet();
    this.gateway = net.gateway;
    this.addr = net.addr;
    sh('ip', ['netns', 'add', name]);
    try {
      sh('ip', ['link', 'add', name, 'type', 'veth', 'peer', 'name', this.inner, 'netns', name]);
      sh('ip', ['addr', 'add', `${this.gateway}/30`, 'dev', name]);
      sh('ip', ['link', 'set', name, 'up']);
      sh('ip', ['-n', name, 'addr', 'add', `${this.addr}/30`, 'dev', this.inner]);
      sh('ip', ['-n', name, 'link', 'set', this.inner, 'up']);
      // Loopback inside too: a dependency may talk to itself (FerretDB's debug handler, redis-cli).
      sh('ip', ['-n', name, 'link', 'set', 'lo', 'up']);
    } catch (err) {
      this.close();
      throw err;
    }
  }

  /** Starts `cmd` inside the namespace (`ip netns exec` execs it: the child's pid is the command's). */
  spawn(cmd: string, args: string[], options: SpawnOptions = {}): ChildProcess {
    return spawn('ip', ['netns', 'exec', this.name, cmd, ...args], options);
  }

  /** Drops the packets `spec` selects, both ways, from now on (replacing an earlier hole). */
  blackhole(spec: HoleSpec = {}): void {
    const match = (dir: 'in' | 'out') => {
      const parts = [`${dir === 'in' ? 'iifname' : 'oifname'} "${this.inner}"`];
      if (spec.remotePort) parts.push(`tcp ${dir === 'in' ? 'sport' : 'dport'} ${spec.remotePort}`);
      if (spec.localPort) parts.push(`tcp ${dir === 'in' ? 'dport' : 'sport'} ${spec.localPort}`);
      return parts.join(' ');
    };
    this.heal();
    sh(
      'ip',
      ['netns', 'exec', this.name, 'nft', '-f', '-'],
      `table inet ${TABLE} {
        chain in { type filter hook input priority -100; policy accept; ${match('in')} drop; };
        chain out { type filter hook output priority -100; policy accept; ${match('out')} drop; };
      }\n`,
    );
  }

  /** Removes the black hole: packets flow again (open connections resume with TCP's retransmits). */
  heal(): void {
    shQuiet('ip', ['netns', 'exec', this.name, 'nft', 'delete', 'table', 'inet', TABLE]);
  }

  /**
   * Removes the veth pair (its nft table goes with the namespace) and the namespace. The root
   * side is deleted explicitly: the kernel removes a namespace's devices asynchronously, and
   * the sweep of the next run must not find it still there. Processes still inside are the
   * caller's to end first. Idempotent; returns what failed.
   */
  close(): string[] {
    if (this.closed) return [];
    this.closed = true;
    return removeHost(this.name);
  }
}

/** Deletes a host's veth and namespace by name, reporting failures instead of throwing. */
export function removeHost(name: string): string[] {
  const failures: string[] = [];
  const linkGone = shQuiet('ip', ['link', 'del', name]);
  if (linkGone && !/Cannot find device/.test(linkGone)) failures.push(linkGone);
  const nsGone = shQuiet('ip', ['netns', 'del', name]);
  if (nsGone && !/No such file/.test(nsGone)) failures.push(nsGone);
  return failures;
}
