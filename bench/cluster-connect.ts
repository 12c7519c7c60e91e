/**
 * How long a handshake takes on a cluster node, one at a time: a WebSocket, a /rtc CONNECT
 * with the token and `call:join`, against one node in cluster mode over a Redis with AOF
 * `appendfsync always` (started here on a free port and stopped at the end). With one
 * connect in flight nothing queues, so the time is the path's own: its Redis round trips
 * and its CPU. The node runs this checkout's sources (tsx), pinned to CPU 0; the generator
 * runs on CPU 1.
 *
 *   node --import tsx bench/cluster-connect.ts [connectsPerRound=1000] [rounds=4] [--concurrency 1]
 *
 * Prints p50 / p99 ms and connects per second for each round, after four unrecorded
 * warm-up rounds. To compare two commits, run it in a checkout of each, alternating.
 */
import { execFileSync } from 'node:child_process';
import { parseArgs } from 'node:util';
import { BenchRedis } from './lib/redis.js';
import { ServerProc } from './lib/server-proc.js';
import { guests, rooms } from './lib/setup.js';
import { connectStorm } from './rigs/connect-storm.js';

const { values, positionals } = parseArgs({ allowPositionals: true, options: { concurrency: { type: 'string', default: '1' } } });
const perRound = Number(positionals[0] ?? 1000);
const rounds = Number(positionals[1] ?? 4);
const concurrency = Number(values.concurrency);

try {
  execFileSync('taskset', ['-a', '-p', '-c', '1', String(process.pid)], { stdio: 'ignore' });
} catch {
  console.log('(taskset unavailable: not pinned)');
}
const redis = new BenchRedis({ aof: true });
await redis.start();
const node = await ServerProc.spawn({ kind: 'ours', runtime: 'tsx', cpu: 0, redisUrl: redis.url, nodeId: 'bench-node' });
try {
  await node.waitForHealth();
  const users = await guests(node, 100);
  const callRooms = await rooms(node, users[0]!, Math.ceil(perRound / 4));
  for (let i = 0; i < 4; i++) await connectStorm(node, users, callRooms, perRound, concurrency);
  console.log(`| round | p50 ms | p99 ms | connects/s |\n| ---: | ---: | ---: | ---: |`);
  for (let i = 1; i <= rounds; i++) {
    const r = await connectStorm(node, users, callRooms, perRound, concurrency);
    console.log(`| ${i} | ${r.connectMs.p50} | ${r.connectMs.p99} | ${r.rate} |`);
  }
} finally {
  await node.stop();
  await redis.stop();
}
process.exit(0);
