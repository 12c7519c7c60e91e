import type { IncomingMessage } from 'node:http';
import { AppError } from '../../domain/app-error.js';
import type { Logger } from '../../ports/logger.js';
import type { ConnectionCounter, RateLimiter } from '../../ports/realtime.js';
import type { TokenService } from '../../services/token-service.js';
import { ExpiryIndex } from './expiry-index.js';
import { takeHeldPackets } from './held-recovery.js';
import type { AnySocket, ChatSocket } from './socket-types.js';

type Next = (err?: Error) => void;

/** `handshake.auth` once the token is taken out and nothing else was sent: one for all sockets. */
const NO_AUTH_FIELDS: Readonly<Record<string, unknown>> = Object.freeze({});

/** A refusal the client sees as `connect_error` with `err.message` = the code. */
function refusal(code: string, message: string, retryAfterMs?: number): Error {
  return Object.assign(new Error(code), { data: retryAfterMs === undefined ? { code, message } : { code, message, retryAfterMs } });
}

/**
 * Namespace middleware: limits handshakes per client address (handshake storms), verifies the
 * JWT from `auth.token` (never from the query string), enforces the per-user and per-IP
 * connection caps, and disconnects the socket with
 * `auth:expired` when its token expires. Runs again on a recovered session
 * (`skipMiddlewares: false`), so recovery never bypasses authentication.
 */
export function handshake(deps: {
  tokens: TokenService;
  connections: ConnectionCounter;
  /** Handshakes per client address (RATE_LIMIT_HANDSHAKES per 10 s). */
  limiter: RateLimiter;
  logger: Logger;
  /** The client's address, honouring TRUST_PROXY exactly as the REST API does. */
  clientAddress: (req: IncomingMessage) => string;
}) {
  const clientAddress = (socket: ChatSocket) => deps.clientAddress(socket.request);
  /**
   * Sockets holding a connection slot, by token expiry. Being here is holding the slot: the
   * slot is freed by whoever takes the socket out (its disconnect, or its token expiring).
   */
  const holders = new ExpiryIndex<ChatSocket>(
    (socket) => {
      socket.emit('auth:expired', { message: 'your token has expired; reconnect with a fresh one' });
      // `true` closes the underlying connection: a recoverable reason would let the session
      // be restored without a token check, so the whole transport goes.
      socket.disconnect(true);
      freeSlot(socket);
    },
    (err) => deps.logger.error('token expiry failed', { err }),
  );
  const freeSlot = (socket: ChatSocket) => {
    deps.connections
      .release(socket.data.user.id, clientAddress(socket), socket.id)
      .catch((err: unknown) => deps.logger.warn('connection slot release failed', { err: (err as Error).message }));
  };
  const release = (socket: ChatSocket) => {
    if (holders.delete(socket, socket.data.tokenExpiresAt)) freeSlot(socket);
  };
  /** One listener for every socket: Node calls it with `this` set to the socket that emits. */
  function onDisconnect(this: ChatSocket): void {
    release(this);
  }

  return async (anySocket: AnySocket, admitted: Next) => {
    // Both namespaces share the handshake and the `auth:expired` event.
    const socket = anySocket as ChatSocket;
    const held = takeHeldPackets(socket);
    const next = (err?: Error) => {
      if (err) held.drop();
      admitted(err);
    };
    const auth = socket.handshake.auth as { token?: unknown } | undefined;
    const ip = deps.clientAddress(socket.request);
    // Counted before the token is checked: a storm of bad tokens costs its sender too. With
    // Redis down the cluster limiter falls back to a per-node budget; should a limiter fail
    // outright, the handshake is admitted (the connection caps below still apply).
    const budget = await deps.limiter.consume(ip).catch((err: unknown) => {
      deps.logger.warn('handshake limiter unavailable; admitting', { err: (err as Error).message });
      return { allowed: true } as const;
    });
    if (!budget.allowed) {
      return next(refusal('RATE_LIMITED', 'too many connection attempts from this address; retry later', budget.retryAfterMs));
    }
    let verified;
    try {
      verified = await deps.tokens.verify(auth?.token);
    } catch (err) {
      const e = err instanceof AppError ? err : new AppError('UNAUTHORIZED', 'token is invalid');
      return next(refusal(e.code, e.message));
    }
    // A recovered session keeps its rooms and data (private rooms included): it goes back to
    // the user it belonged to, never to whoever presents its session id.
    if (socket.recovered && socket.data.user?.id !== verified.user.id) {
      deps.logger.warn('recovery refused: the session belongs to another user', { userId: verified.user.id, nsp: socket.nsp.name });
      return next(refusal('FORBIDDEN', 'this session belongs to another user'));
    }
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
    holders.add(socket, verified.expiresAt);
    socket.on('disconnect', onDisconnect);
    // The token is not needed past this check: kept in `handshake.auth` it cost ~0.25 KB per
    // connection, and a bearer credential is better not kept longer than needed.
    const { token: _token, ...rest } = auth ?? {};
    socket.handshake.auth = Object.keys(rest).length > 0 ? rest : NO_AUTH_FIELDS;
    held.send();
    next();
    // A client that drops while the handshake runs never gets 'disconnect': Socket.IO drops
    // the half-made socket in the tick that `next()` scheduled (namespace.js, `_add`), so the
    // slot is freed here, right after that tick, if the socket did not connect.
    // Held broadcasts stop there too: a connected socket gets them from the adapter itself.
    process.nextTick(() => {
      if (socket.connected) return held.drop();
      if (socket.conn.readyState !== 'open') return (held.drop(), release(socket));
      // Still connecting (a later middleware is running): until the transport closes.
      socket.conn.once('close', () => {
        held.drop();
        if (!socket.connected) release(socket);
      });
    });
  };
}
