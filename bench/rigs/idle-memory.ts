import type { ServerProc } from '../lib/server-proc.js';
import { closeAll, connect, guests, joinRoom, rooms, sleep, type Guest } from '../lib/setup.js';
import { connectMany, type SioClient } from '../lib/sio-client.js';
import { linearFit, round } from '../lib/stats.js';

/**
 * S4 idle capacity and memory: ramps /chat connections (each joined to one room of 50 plus
 * its own socket room, default heartbeat) through several counts; at each count, two full
 * GCs, then RSS and heap. The slope of a least-squares line is the memory per connection.
 * At the top count, the heartbeat's CPU is measured over one full ping interval.
 */

export interface IdleResult {
  points: { conns: number; rssMB: number; heapMB: number }[];
  rssKBPerConn: number;
  heapKBPerConn: number;
  r2: number;
  held: number;
  connectErrors: number;
  heartbeatCpu: number | null;
}

const ROOM_SIZE = 50;

export async function idleMemory(server: ServerProc, counts: number[], opts: { heartbeatMs: number; users?: number }): Promise<IdleResult> {
  const users: Guest[] = await guests(server, opts.users ?? 100);
  const top = counts[counts.length - 1]!;
  const roomIds = await rooms(server, users[0]!, Math.ceil(top / ROOM_SIZE));
  const clients: SioClient[] = [];
  const points: IdleResult['points'] = [];
  let errors = 0;
  try {
    for (const target of counts) {
      const from = clients.length;
      const { ok, errors: failed } = await connectMany(target - from, 200, async (k) => {
        const i = from + k;
        const client = await connect(server, '/chat', users[i % users.length]!.token);
        await joinRoom(client, roomIds[Math.floor(i / ROOM_SIZE)]!);
        return client;
      });
      clients.push(...ok);
      errors += failed.length;
      if (failed.length) console.error(`  ${server.label}: ${failed.length} connections failed at ${target} (${failed[0]})`);
      await sleep(1000);
      const mem = await server.memoryAfterGc();
      points.push({ conns: clients.length, rssMB: round(mem.rss / 1048576, 1), heapMB: round(mem.heapUsed / 1048576, 1) });
    }
    let heartbeatCpu: number | null = null;
    if (opts.heartbeatMs > 0) {
      await server.resetWindow();
      await sleep(opts.heartbeatMs);
      const stats = await server.windowStats();
      heartbeatCpu = round(stats.cpuUs / 1000 / stats.wallMs, 4);
    }
    const alive = clients.filter((c) => c.connected).length;
    const rss = linearFit(points.map((p) => ({ x: p.conns, y: p.rssMB * 1024 })));
    const heap = linearFit(points.map((p) => ({ x: p.conns, y: p.heapMB * 1024 })));
    return {
      points,
      rssKBPerConn: round(rss.slope, 2),
      heapKBPerConn: round(heap.slope, 2),
      r2: round(rss.r2, 3),
      held: alive,
      connectErrors: errors,
      heartbeatCpu,
    };
  } finally {
    closeAll(clients);
    await sleep(500);
  }
}
