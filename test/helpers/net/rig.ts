import { spawnSync } from 'node:child_process';
import { NetHost, removeHost } from './host.js';
import { sh } from './sh.js';

/** Every namespace and veth of the rig is named `vcsft-<pid of the test run, base 36>-<n>`. */
const PREFIX = 'vcsft-';
const OURS = /^vcsft-([0-9a-z]+)-[0-9a-z]+$/;

/** Why the rig cannot run here (not root, no `ip netns`, no `nft`), or null when it can. */
export function netRigUnavailable(): string | null {
  if (process.getuid?.() !== 0) return 'the network rig needs root (network namespaces and nftables)';
  for (const [cmd, args] of [['ip', ['netns', 'list']], ['nft', ['--version']]] as const) {
    const res = spawnSync(cmd, args, { encoding: 'utf8', timeout: 5000 });
    if (res.error || res.status !== 0) return `\`${cmd} ${args.join(' ')}\` failed (${res.error?.message ?? res.stderr.trim()}): apt-get install iproute2 nftables`;
  }
  return null;
}

const alive = (pid: number) => {
  try {
    process.kill(pid, 0);
    return true;
  } catch (err) {
    return (err as NodeJS.ErrnoException).code === 'EPERM';
  }
};

/** SIGKILLs whatever still runs inside namespace `name` (ours by its name). */
function killInside(name: string): void {
  let pids: string[];
  try {
    pids = sh('ip', ['netns', 'pids', name]).split(/\s+/).filter(Boolean);
  } catch {
    return; // no such namespace
  }
  for (const pid of pids) {
    try {
      process.kill(Number(pid), 'SIGKILL');
    } catch {
      /* already gone */
    }
  }
}

/**
 * The hosts of one suite. `host()` makes one; `teardown()` ends what runs inside each and
 * removes every namespace and veth the rig made, and says so if any is left. `sweep()`
 * removes what a killed run left behind: names carry the run's pid, and only those of runs
 * no longer alive are touched, so a concurrent run keeps its hosts.
 */
export class NetRig {
  private readonly hosts: NetHost[] = [];
  private counter = 0;
  private readonly onExit = () => this.removeAll();

  host(): NetHost {
    if (this.hosts.length === 0) process.once('exit', this.onExit);
    const name = `${PREFIX}${process.pid.toString(36)}-${(++this.counter).toString(36).padStart(2, '0')}`;
    const host = new NetHost(name);
    this.hosts.push(host);
    return host;
  }

  /** Removes namespaces and veths of test runs that are not running any more. */
  static sweep(): void {
    const names = new Set<string>();
    for (const line of sh('ip', ['netns', 'list']).split('\n')) names.add(line.split(' ')[0] ?? '');
    for (const link of JSON.parse(sh('ip', ['-j', 'link'])) as { ifname: string }[]) names.add(link.ifname.split('@')[0] ?? '');
    for (const name of names) {
      const m = OURS.exec(name);
      if (!m || alive(parseInt(m[1]!, 36))) continue;
      killInside(name);
      removeHost(name);
    }
  }

  /** Ends what runs inside the hosts and removes them; throws if anything of ours is left. */
  teardown(): void {
    const failures = this.removeAll();
    const mine = `${PREFIX}${process.pid.toString(36)}-`;
    const left = [
      ...sh('ip', ['netns', 'list']).split('\n').filter((l) => l.startsWith(mine)),
      ...(JSON.parse(sh('ip', ['-j', 'link'])) as { ifname: string }[]).map((l) => l.ifname).filter((n) => n.startsWith(mine)),
    ];
    if (failures.length || left.length) throw new Error(`net rig teardown left ${left.join(', ') || 'nothing'}; errors: ${failures.join('; ')}`);
  }

  private removeAll(): string[] {
    process.off('exit', this.onExit);
    const failures: string[] = [];
    for (const host of this.hosts.splice(0)) {
      killInside(host.name);
      failures.push(...host.close());
    }
    return failures;
  }
}

/**
 * The rig for the enclosing `describe`: checked and swept before its first test, torn down
 * after its last (failed or not). Without root or `ip netns` the suite prints why and is
 * skipped; under CI (CI=true, as .ci/run sets it), where the rig must work, it fails instead.
 */
export function useNetRig(): NetRig {
  const rig = new NetRig();
  before(function () {
    const why = netRigUnavailable();
    if (why) {
      if (process.env.CI) throw new Error(`network fault suite cannot run under CI: ${why}`);
      console.log(`      (skipped: ${why})`);
      this.skip();
    }
    NetRig.sweep();
  });
  after(() => rig.teardown());
  return rig;
}
