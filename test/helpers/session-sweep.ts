import { startServer, type TestServer } from './test-server.js';

/** The period of the in-memory adapter's sweep, fixed in socket.io-adapter 2.5 (in-memory-adapter.js). */
const SWEEP_PERIOD_MS = 60_000;

/**
 * A single-node server (startServer with `env`) whose in-memory adapter sweeps expired
 * sessions and buffered packets every `periodMs` instead of every minute.
 *
 * The sweep is what makes an idle client's recovery offset vanish (socket.io#5282), and
 * Socket.IO offers no way to run it sooner: its period is a literal in the adapter's
 * constructor. Only that one timer is shortened, told apart by its period and by being set
 * from socket.io-adapter; the sweep's own code runs unchanged against the real buffer, and
 * every other timer keeps its period. `setInterval` is itself again once the server is up.
 */
export async function startServerWithFastSweep(periodMs: number, env: Record<string, string>): Promise<TestServer> {
  const original = globalThis.setInterval;
  const call = original as (handler: unknown, ms?: number, ...args: unknown[]) => ReturnType<typeof setInterval>;
  let shortened = 0;
  const fast = ((handler: unknown, ms?: number, ...args: unknown[]) => {
    const fromAdapter = ms === SWEEP_PERIOD_MS && /socket\.io-adapter[\\/]dist[\\/]in-memory-adapter/.test(new Error().stack ?? '');
    if (fromAdapter) shortened++;
    return call(handler, fromAdapter ? periodMs : ms, ...args);
  }) as typeof setInterval;
  globalThis.setInterval = fast;
  let server: TestServer;
  try {
    server = await startServer(env);
  } finally {
    globalThis.setInterval = original;
  }
  // A test that believes the sweep runs when it does not would pass without meeting the trap.
  if (shortened === 0) {
    await server.stop();
    throw new Error('no in-memory adapter sweep was set up: socket.io-adapter changed how it sweeps sessions');
  }
  return server;
}
