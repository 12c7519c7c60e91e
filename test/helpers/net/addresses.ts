import { sh } from './sh.js';

/** Test addresses come from here only: 10.200.0.0/13 (10.200.x.x – 10.207.x.x), in /30s. */
const BASE = (10 << 24) | (200 << 16);
const BLOCK_SIZE = 1 << 19;

const toInt = (ip: string) => ip.split('.').reduce((n, part) => n * 256 + Number(part), 0);
const toIp = (n: number) => [24, 16, 8, 0].map((shift) => (n >>> shift) & 255).join('.');

/** Every IPv4 prefix the root namespace already has (addresses and routes), as [start, end]. */
function takenRanges(): [number, number][] {
  const ranges: [number, number][] = [];
  const add = (cidr: string) => {
    const [ip, bits = '32'] = cidr.split('/');
    if (!ip || !/^\d+\.\d+\.\d+\.\d+$/.test(ip)) return;
    const size = 2 ** (32 - Number(bits));
    const start = toInt(ip) - (toInt(ip) % size);
    ranges.push([start, start + size - 1]);
  };
  for (const route of JSON.parse(sh('ip', ['-4', '-j', 'route', 'show', 'table', 'all'])) as { dst: string }[]) {
    if (route.dst && route.dst !== 'default') add(route.dst);
  }
  for (const link of JSON.parse(sh('ip', ['-4', '-j', 'addr'])) as { addr_info: { local: string; prefixlen: number }[] }[]) {
    for (const a of link.addr_info) add(`${a.local}/${a.prefixlen}`);
  }
  return ranges;
}

/**
 * A private /30 no interface or route of this machine uses: `.1` for the root side of a veth
 * pair, `.2` for the namespace side. Random within the block, so runs (and a run beside
 * leftovers of a killed one) do not collide; checked against what the root namespace has.
 */
export function freeSubnet(): { gateway: string; addr: string; cidr: string } {
  const taken = takenRanges();
  for (let attempt = 0; attempt < 100; attempt++) {
    const start = BASE + Math.floor(Math.random() * (BLOCK_SIZE / 4)) * 4;
    if (taken.some(([a, b]) => start <= b && start + 3 >= a)) continue;
    return { gateway: toIp(start + 1), addr: toIp(start + 2), cidr: `${toIp(start)}/30` };
  }
  throw new Error('net rig: no free /30 in 10.200.0.0/13');
}
