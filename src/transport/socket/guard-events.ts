import type { RateLimiter } from '../../ports/realtime.js';
import type { AnySocket } from './socket-types.js';

/**
 * Per-socket middleware in front of every handler: refuses unknown events and applies the
 * per-connection event budget. A refused event is answered through its ack, if it has one,
 * and otherwise dropped; the connection stays up.
 */
export function guardEvents(socket: AnySocket, knownEvents: ReadonlySet<string>, limiter: RateLimiter): void {
  socket.use((packet, next) => {
    const [event] = packet;
    const last = packet[packet.length - 1];
    const ack = typeof last === 'function' ? (last as (a: unknown) => void) : undefined;
    if (typeof event !== 'string' || !knownEvents.has(event)) {
      ack?.({ ok: false, error: { code: 'VALIDATION_FAILED', message: `unknown event ${JSON.stringify(String(event).slice(0, 64))}` } });
      return;
    }
    limiter.consume(socket.id).then(
      (decision) => {
        if (decision.allowed) return next();
        ack?.({
          ok: false,
          error: { code: 'RATE_LIMITED', message: 'too many events; slow down', retryAfterMs: decision.retryAfterMs },
        });
      },
      // next(err) would emit 'error' on the socket; answer instead and keep the socket.
      () => ack?.({ ok: false, error: { code: 'UNAVAILABLE', message: 'rate limiter unavailable; try again' } }),
    );
  });
}
