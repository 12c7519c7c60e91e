/**
 * The few Socket.IO internals this server leans on, each named here so that an upgrade that
 * renames or removes one stops the server at start-up with a clear message instead of
 * quietly losing what it guarded (test/unit/socketio-internals.test.ts checks them all):
 * - `ClusterAdapter.publishAndReturnOffset` (socket.io-adapter 2.5): wrapped with a deadline
 *   so a paused Redis cannot hold up local broadcasts (resilient-adapter.ts).
 * - `SessionAwareAdapter.restoreSession` / the streams adapter's: wrapped so a recovered
 *   session's missed packets wait for the token check (held-recovery.ts).
 * - `Adapter._encode` and `Adapter.apply` (socket.io-adapter 2.5, the broadcast path every
 *   adapter ends in): hooked so that what is broadcast to a recovering socket while its
 *   handshake runs is held for it too (held-recovery.ts).
 * - `Socket.prototype.packet` (socket.io 4.8): writes those held packets, as Socket.IO's own
 *   replay does.
 */
export function requireInternal<T extends object>(target: T, method: string, where: string): T {
  if (typeof (target as Record<string, unknown>)[method] !== 'function') {
    throw new Error(
      `Socket.IO internals changed: ${where} has no ${method}() — this server relies on it (see src/infra/socketio-internals.ts); check the socket.io / adapter upgrade`,
    );
  }
  return target;
}
