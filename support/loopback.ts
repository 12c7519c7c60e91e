/**
 * What test/ and bench/ both need to run real servers on loopback. Neither ships, and bench
 * must not reach into test/, so the two share this module instead.
 */
import { createConnection, createServer } from 'node:net';

/** A free loopback port (bind to 0, read, close; the caller retries on a rare clash). */
export function freePort(): Promise<number> {
  return new Promise((resolve, reject) => {
    const srv = createServer();
    srv.once('error', reject);
    srv.listen(0, '127.0.0.1', () => {
      const port = (srv.address() as { port: number }).port;
      srv.close(() => resolve(port));
    });
  });
}

/** True when something accepts TCP connections on this port (of loopback, or of `host`). */
export function portAccepts(port: number, host = '127.0.0.1'): Promise<boolean> {
  return new Promise((resolve) => {
    const sock = createConnection({ host, port });
    sock.once('error', () => resolve(false));
    sock.once('connect', () => {
      sock.destroy();
      resolve(true);
    });
  });
}

/** True when a Redis on this loopback port answers PING (a raw RESP probe, no client). */
export function redisAnswersPing(port: number): Promise<boolean> {
  return new Promise((resolve) => {
    const sock = createConnection({ host: '127.0.0.1', port });
    sock.once('error', () => resolve(false));
    sock.once('connect', () => sock.write('PING\r\n'));
    sock.once('data', (d) => {
      sock.destroy();
      resolve(d.toString().startsWith('+PONG'));
    });
  });
}

/** Polls until a just-started redis-server answers PING; throws after `deadlineMs`. */
export async function waitForRedisPing(port: number, deadlineMs = 5000): Promise<void> {
  const deadline = Date.now() + deadlineMs;
  while (Date.now() < deadline) {
    if (await redisAnswersPing(port)) return;
    await new Promise((r) => setTimeout(r, 50));
  }
  throw new Error(`redis-server did not answer PING on port ${port}`);
}
