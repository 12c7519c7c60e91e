import type { IncomingMessage, Server as HttpServer } from 'node:http';
import type { Socket } from 'node:net';

/**
 * Lets a graceful stop close the HTTP connections that carry no request. Browsers keep such
 * connections open: spare ones opened ahead of need (preconnect) and keep-alive ones between
 * requests. `server.close()` waits for every connection, and Node's `closeIdleConnections()`
 * misses a connection that never carried a request, so without this one browser tab can hold
 * a SIGTERM for the whole SHUTDOWN_TIMEOUT_MS. A request in flight still finishes; its
 * connection closes right after. WebSocket connections are left to Socket.IO.
 */
export function trackHttpConnections(server: HttpServer): { closeIdle(): void } {
  const requestsInFlight = new Map<Socket, number>();
  let closing = false;
  /** One listener for every connection: Node calls it with `this` set to the socket that closes. */
  function forget(this: Socket): void {
    requestsInFlight.delete(this);
  }
  server.on('connection', (socket: Socket) => {
    requestsInFlight.set(socket, 0);
    socket.on('close', forget);
  });
  // An upgraded connection is Socket.IO's: it leaves the tracking, listener included, and
  // before Socket.IO's own 'upgrade' listener adds its 'close' listener: left in place, ours
  // was a third one on every WebSocket for its whole life (with its array, ~0.4 KB each).
  server.prependListener('upgrade', (req: IncomingMessage) => {
    requestsInFlight.delete(req.socket);
    req.socket.off('close', forget);
  });
  server.on('request', (req, res) => {
    const socket = req.socket;
    if (!requestsInFlight.has(socket)) return;
    requestsInFlight.set(socket, (requestsInFlight.get(socket) ?? 0) + 1);
    res.once('close', () => {
      if (!requestsInFlight.has(socket)) return;
      const left = (requestsInFlight.get(socket) ?? 1) - 1;
      requestsInFlight.set(socket, left);
      if (closing && left === 0) socket.destroy();
    });
  });
  return {
    closeIdle() {
      closing = true;
      for (const [socket, n] of requestsInFlight) if (n === 0) socket.destroy();
    },
  };
}
