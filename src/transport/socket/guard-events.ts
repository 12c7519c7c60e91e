import type { RateLimiter } from '../../ports/realtime.js';
import type { AnySocket } from './socket-types.js';

/**
 * Per-socket middleware in front of every handler: applies the per-connection event budget
 * and refuses unknown events. A refused event is answered through its ack, if it has one,
 * and otherwise dropped; the connection stays up.
 */
export function guardEvents(socket: AnySocket, knownEvents: ReadonlySet<string>, limiter: RateLimiter): void {
  socket.use((packet, next) => {
    const [event] = packet;
    const last = packet[packet.length - 1];
    const ack = typeof last === 'function' ? (last as (a: unknown) => void) : undefined;
    // Every event counts against the budget, unknown ones included: a flood of unknown
    // events must cost the sender, not only the server.
    limiter.consume(socket.id).then(
      (decision) => {
        if (!decision.allowed) {
          return ack?.({
            ok: false,
            error: { code: 'RATE_LIMITED', message: 'too many events; slow down', retryAfterMs: decision.retryAfterMs },
          });
        }
        if (typeof event !== 'string' || !knownEvents.has(event)) {
          const name = JSON.stringify(String(event).slice(0, 64));
          return ack?.({ ok: false, error: { code: 'VALIDATION_FAILED', message: `unknown event ${name}` } });
        }
        next();
      },
      // next(err) would emit 'error' on the socket; answer instead and keep the socket.
      () => ack?.({ ok: false, error: { code: 'UNAVAILABLE', message: 'rate limiter unavailable; try again' } }),
    );
  });
}
