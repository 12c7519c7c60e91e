import type { Server as HttpServer } from 'node:http';
import { Server, type ServerOptions } from 'socket.io';
import type { AppConfig } from '../../config/app-config.js';
import type { InterServerEvents } from '../../protocol/events.js';
import { NAMESPACES } from '../../protocol/index.js';
import type { OriginPolicy } from '../origin-policy.js';
import type { SocketData } from './socket-types.js';

export type IoServer = Server<Record<string, never>, Record<string, never>, InterServerEvents, SocketData>;

/**
 * The Socket.IO server with the contract's transport settings. Origins are checked on the
 * handshake itself (`allowRequest`), for polling and WebSocket alike: browsers do not apply
 * CORS to WebSocket upgrades, so CORS alone would not stop cross-site WebSocket hijacking.
 */
export function createIo(
  httpServer: HttpServer,
  config: AppConfig,
  originPolicy: OriginPolicy,
  adapter: ServerOptions['adapter'] | null,
): IoServer {
  const io: IoServer = new Server(httpServer, {
    path: config.socketPath,
    serveClient: false,
    maxHttpBufferSize: config.maxPayloadBytes,
    pingInterval: config.pingIntervalMs,
    pingTimeout: config.pingTimeoutMs,
    connectTimeout: 10_000,
    perMessageDeflate: false,
    ...(adapter ? { adapter } : {}),
    httpCompression: false,
    allowRequest: (req, callback) => {
      const allowed = originPolicy(req.headers.origin, req.headers.host);
      callback(allowed ? null : 'origin not allowed', allowed);
    },
    cors: { origin: (origin, cb) => cb(null, originPolicy(origin, undefined) ? (origin ?? false) : false) },
    ...(config.recoveryWindowMs > 0
      ? { connectionStateRecovery: { maxDisconnectionDuration: config.recoveryWindowMs, skipMiddlewares: false } }
      : {}),
  });
  // The main namespace is not part of the contract: refuse it instead of leaving it open.
  io.of('/').use((_socket, next) => {
    next(
      Object.assign(new Error('NOT_FOUND'), {
        data: { code: 'NOT_FOUND', message: `connect to ${NAMESPACES.chat} or ${NAMESPACES.rtc}` },
      }),
    );
  });
  return io;
}
