import type { IncomingMessage } from 'node:http';
import { AppError } from '../../domain/app-error.js';
import type { Logger } from '../../ports/logger.js';
import type { ConnectionCounter } from '../../ports/realtime.js';
import type { TokenService } from '../../services/token-service.js';
import type { AnySocket, ChatSocket } from './socket-types.js';

/** Longest timer Node accepts; a token expiring later is re-armed when the socket reconnects. */
const MAX_TIMER_MS = 2 ** 31 - 1;

type Next = (err?: Error) => void;

/** A refusal the client sees as `connect_error` with `err.message` = the code. */
function refusal(code: string, message: string): Error {
  return Object.assign(new Error(code), { data: { code, message } });
}

/**
 * Namespace middleware: verifies the JWT from `auth.token` (never from the query string),
 * enforces the per-user and per-IP connection caps, and disconnects the socket with
 * `auth:expired` when its token expires. Runs again on a recovered session
 * (`skipMiddlewares: false`), so recovery never bypasses authentication.
 */
export function handshake(deps: {
  tokens: TokenService;
  connections: ConnectionCounter;
  logger: Logger;
  /** The client's address, honouring TRUST_PROXY exactly as the REST API does. */
  clientAddress: (req: IncomingMessage) => string;
}) {
  return async (anySocket: AnySocket, next: Next) => {
    // Both namespaces share the handshake and the `auth:expired` event.
    const socket = anySocket as ChatSocket;
    const auth = socket.handshake.auth as { token?: unknown } | undefined;
    let verified;
    try {
      verified = await deps.tokens.verify(auth?.token);
    } catch (err) {
      const e = err instanceof AppError ? err : new AppError('UNAUTHORIZED', 'token is invalid');
      return next(refusal(e.code, e.message));
    }
    const ip = deps.clientAddress(socket.request);
    // If the shared counter is unreachable (Redis down), the node keeps serving: it admits
    // the connection rather than lock every user out.
    const slot = await deps.connections.acquire(verified.user.id, ip, socket.id).catch((err: unknown) => {
      deps.logger.warn('connection cap unavailable; admitting', { err: (err as Error).message });
      return 'ok' as const;
    });
    if (slot !== 'ok') {
      deps.logger.warn('connection refused: cap reached', { userId: verified.user.id, cap: slot, nsp: socket.nsp.name });
      return next(refusal('TOO_MANY_CONNECTIONS', `too many open connections for this ${slot === 'user' ? 'user' : 'address'}`));
    }
    socket.data.user = verified.user;
    socket.data.tokenExpiresAt = verified.expiresAt;
    const expiry = setTimeout(() => {
      socket.emit('auth:expired', { message: 'your token has expired; reconnect with a fresh one' });
      // `true` closes the underlying connection: a recoverable reason would let the session
      // be restored without a token check, so the whole transport goes.
      socket.disconnect(true);
    }, Math.min(Math.max(0, verified.expiresAt - Date.now()), MAX_TIMER_MS));
    let released = false;
    const release = () => {
      if (released) return;
      released = true;
      clearTimeout(expiry);
      socket.conn.off('close', release);
      deps.connections
        .release(verified.user.id, ip, socket.id)
        .catch((err: unknown) => deps.logger.warn('connection slot release failed', { err: (err as Error).message }));
    };
    socket.once('disconnect', release);
    // A client that drops while this middleware runs never gets 'disconnect' (Socket.IO
    // discards the half-made socket), so the transport closing must free the slot too.
    if (socket.conn.readyState === 'closed') release();
    else socket.conn.once('close', release);
    next();
  };
}
