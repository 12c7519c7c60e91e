/** The in-memory adapter's session store (socket.io-adapter 2.5, SessionAwareAdapter). */
interface InMemorySessions {
  sessions?: unknown;
  restoreSession(pid: string, offset: string): unknown;
}

/**
 * Makes a recovery session single-use in embedded mode, as it is with the Redis Streams
 * adapter (GETDEL). Socket.IO's in-memory adapter keeps a session after restoring it, until
 * it expires: a client that once recovered could present the same session id again after a
 * server-side disconnect (an operator's, a token expiry's; reasons Socket.IO keeps no session
 * for) and get back the socket it had at the first drop, rooms and all. A later recoverable
 * drop persists a fresh session, so recovery itself is unchanged.
 */
export function restoreSessionsOnce(nsp: { adapter: unknown }): void {
  const adapter = nsp.adapter as InMemorySessions;
  const sessions = adapter.sessions;
  // The Redis adapters keep sessions in Redis and delete them as they restore them.
  if (!(sessions instanceof Map)) return;
  const restore = adapter.restoreSession.bind(adapter);
  adapter.restoreSession = async (pid, offset) => {
    try {
      return await restore(pid, offset);
    } finally {
      sessions.delete(pid);
    }
  };
}
