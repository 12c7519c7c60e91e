import { Histogram } from '../lib/histogram.js';
import type { ServerProc } from '../lib/server-proc.js';
import { closeAll, connect, joinCall, sleep, type Guest } from '../lib/setup.js';
import { connectMany, nowUs, type SioClient } from '../lib/sio-client.js';
import { cpuMeter, round } from '../lib/stats.js';

/**
 * S5 connect + auth rate: `count` handshakes with `concurrency` in flight, each a WebSocket
 * open, a /rtc CONNECT carrying the token (ours verifies the JWT and takes connection
 * slots), and `call:join` into a call of four. Rate = completed / elapsed.
 */
export interface ConnectResult {
  rate: number;
  connectMs: ReturnType<Histogram['summaryMs']>;
  errors: number;
  serverCpuUsPerConn: number;
  generatorCpu: number;
  /** The window on the server's monotonic clock (to cut a CPU profile to it). */
  windowUs: [number, number];
}

export async function connectStorm(server: ServerProc, users: Guest[], roomIds: string[], count: number, concurrency: number): Promise<ConnectResult> {
  const hist = new Histogram();
  const fromUs = await server.resetWindow();
  const gen = cpuMeter();
  const t0 = performance.now();
  const { ok, errors } = await connectMany(count, concurrency, async (i) => {
    const start = nowUs();
    const client: SioClient = await connect(server, '/rtc', users[i % users.length]!.token);
    try {
      await joinCall(client, roomIds[Math.floor(i / 4) % roomIds.length]!);
    } catch (err) {
      client.terminate();
      throw err;
    }
    hist.record(nowUs() - start);
    return client;
  });
  const elapsedMs = performance.now() - t0;
  const stats = await server.windowStats();
  const generator = gen();
  closeAll(ok);
  if (errors.length) console.error(`  ${server.label}: ${errors.length} handshakes failed (${errors[0]})`);
  await sleep(1500); // let the server finish the disconnects before the next run
  return {
    rate: Math.round((ok.length / elapsedMs) * 1000),
    connectMs: hist.summaryMs(),
    errors: errors.length,
    serverCpuUsPerConn: round(stats.cpuUs / Math.max(1, ok.length), 1),
    generatorCpu: generator.share,
    windowUs: [fromUs, stats.hrtimeUs],
  };
}
