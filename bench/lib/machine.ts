import { spawnSync } from 'node:child_process';
import { readFileSync } from 'node:fs';
import { cpus, loadavg, release, totalmem } from 'node:os';
import { join } from 'node:path';
import { pinningDescription } from './cpu-pinning.js';
import { ROOT } from './paths.js';
import { round } from './stats.js';

/** The machine and versions of a run, for the results' `machine`: ratios mean little without them. */
export function describeMachine() {
  const version = (pkg: string) => {
    try {
      return (JSON.parse(readFileSync(join(ROOT, 'node_modules', pkg, 'package.json'), 'utf8')) as { version: string }).version;
    } catch {
      return null;
    }
  };
  const sh = (cmd: string) => spawnSync('sh', ['-c', cmd], { encoding: 'utf8' }).stdout?.trim() || null;
  return {
    cpuModel: cpus()[0]?.model ?? 'unknown',
    cpus: cpus().length,
    memGiB: round(totalmem() / 2 ** 30, 1),
    kernel: release(),
    node: process.version,
    socketIo: version('socket.io'),
    ws: version('ws'),
    redisStreamsAdapter: version('@socket.io/redis-streams-adapter'),
    redisServer: sh('redis-server --version')?.match(/v=([\d.]+)/)?.[1] ?? null,
    nofile: Number(sh('ulimit -n')),
    loadAvgAtStart: loadAverage(),
    pinning: pinningDescription(),
  };
}

export const loadAverage = () => loadavg().map((x) => round(x, 2));
