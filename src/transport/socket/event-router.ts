import type { z } from 'zod';
import { toErrorBody } from '../../domain/to-error-body.js';
import type { Ack, RequestMap } from '../../protocol/events.js';
import type { Logger } from '../../ports/logger.js';
import type { RateLimiter } from '../../ports/realtime.js';
import type { ServerMetrics } from '../../ports/metrics.js';
import type { AnySocket } from './socket-types.js';

type AckFn = (answer: Ack<object>) => void;
type Packet = unknown[];

/** One inbound event: its payload schema and what it does for a socket. */
export interface Route<S extends AnySocket, P, R extends object> {
  schema: z.ZodType<P>;
  /** The ack's fields besides `ok: true` (nothing for an event whose result is NoResult). */
  handle(socket: S, payload: P): Promise<R | void>;
}

/**
 * A namespace's routes, one per request of its table (ChatRequests, RtcRequests): a route
 * missing, one too many, a payload schema or an ack that differs from the table does not compile.
 */
export type Routes<S extends AnySocket, M extends RequestMap<M>> = {
  [E in keyof M]: Route<S, M[E]['payload'], M[E]['result']>;
};

type AnyRoute<S extends AnySocket> = Route<S, unknown, object>;

export interface RouterContext {
  logger: Logger;
  metrics: ServerMetrics;
  /** The per-connection event budget (keyed by socket id). */
  limiter: RateLimiter;
}

/**
 * The one way an inbound event is handled, for every socket of a namespace: the event
 * counts against the socket's budget; an unknown one is refused; the payload is parsed with
 * its schema, the route runs, and the answer is `{ok:true, …}` or `{ok:false, error}`. A
 * refused event is answered through its ack, if it has one, and otherwise dropped; an event
 * sent without an ack is processed all the same; the connection stays up, and nothing here
 * ever throws into Socket.IO.
 *
 * The routes exist once per namespace and take the socket as an argument: a socket costs
 * one middleware closure, not a listener and a closure per event (measured: that set was
 * about 1.5 KB per idle connection). The middleware never calls `next`, so Socket.IO never
 * emits the event on the socket itself and no listener is needed, nor ever runs for an event
 * that is not in the routes (an event named `error` would otherwise throw out of the emitter).
 */
export class EventRouter<S extends AnySocket, M extends RequestMap<M>> {
  private readonly routes: Map<string, AnyRoute<S>>;

  constructor(
    private readonly ctx: RouterContext,
    routes: Routes<S, M>,
  ) {
    this.routes = new Map(Object.entries(routes) as [string, AnyRoute<S>][]);
  }

  attach(socket: S): void {
    socket.use((packet) => this.dispatch(socket, packet));
  }

  private dispatch(socket: S, packet: Packet): void {
    const event = packet[0];
    const last = packet[packet.length - 1];
    const ack = typeof last === 'function' ? (last as AckFn) : undefined;
    // [event, payload?, ack?]: an event may come with an ack and no payload.
    const payload = packet.length > (ack ? 2 : 1) ? packet[1] : undefined;
    // Every event counts against the budget, unknown ones included: a flood of unknown
    // events must cost the sender, not only the server.
    this.ctx.limiter.consume(socket.id).then(
      (decision) => {
        if (!decision.allowed) {
          return ack?.({
            ok: false,
            error: { code: 'RATE_LIMITED', message: 'too many events; slow down', retryAfterMs: decision.retryAfterMs },
          });
        }
        const found = typeof event === 'string' ? this.routes.get(event) : undefined;
        if (!found) {
          const name = JSON.stringify(String(event).slice(0, 64));
          return ack?.({ ok: false, error: { code: 'VALIDATION_FAILED', message: `unknown event ${name}` } });
        }
        // As Socket.IO does for its own listeners: a packet that arrives after the disconnection is ignored.
        if (!socket.connected) return;
        void this.run(socket, event as string, found, payload, ack);
      },
      () => ack?.({ ok: false, error: { code: 'UNAVAILABLE', message: 'rate limiter unavailable; try again' } }),
    );
  }

  private async run(socket: S, event: string, found: AnyRoute<S>, payload: unknown, ack?: AckFn): Promise<void> {
    const { logger, metrics } = this.ctx;
    let answer: Ack<object>;
    try {
      answer = { ok: true, ...((await found.handle(socket, found.schema.parse(payload))) ?? {}) };
    } catch (err) {
      answer = { ok: false, error: toErrorBody(err, logger, { event, socketId: socket.id, userId: socket.data.user?.id }) };
    }
    metrics.socketEvent(event, answer.ok ? 'OK' : answer.error.code);
    try {
      ack?.(answer);
    } catch (err) {
      logger.warn('ack failed', { event, err });
    }
  }
}
