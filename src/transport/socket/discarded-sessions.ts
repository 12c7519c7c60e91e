import type { Namespace } from 'socket.io';

/**
 * Disconnect reasons Socket.IO (4.8, socket.js) keeps a session for; on any other (a
 * server-side `disconnect()`, the client leaving the namespace) it keeps none.
 */
const RECOVERABLE_REASONS = new Set(['transport error', 'transport close', 'forced close', 'ping timeout', 'server shutting down', 'forced server close']);

/**
 * After a disconnect Socket.IO keeps no session for (an operator's, a token expiry's), no
 * earlier session of the socket may be restored either, in embedded mode too.
 *
 * Socket.IO's in-memory adapter keeps a session after restoring it, until it expires: a
 * client that had recovered once could present its session id again after such a disconnect
 * and get back the socket it had at its first drop, rooms and all. (The Redis Streams adapter
 * deletes a session as it restores it, GETDEL.) The session is deleted when the socket goes
 * for such a reason, not when it is restored: a refused restore (a stolen session id
 * presented with another user's token) must leave the owner's session to its owner.
 */
export function discardSessionOnServerDisconnect(nsp: Pick<Namespace, 'adapter' | 'on'>): void {
  const sessions = (nsp.adapter as unknown as { sessions?: unknown }).sessions;
  // The Redis adapters keep sessions in Redis and delete them as they restore them.
  if (!(sessions instanceof Map)) return;
  nsp.on('connection', (socket) => {
    socket.on('disconnect', (reason: string) => {
      // `pid`, the session id, is private in Socket.IO's types.
      const pid = (socket as unknown as { pid?: string }).pid;
      if (pid && !RECOVERABLE_REASONS.has(reason)) sessions.delete(pid);
    });
  });
}
