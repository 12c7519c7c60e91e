import type { z } from 'zod';
import { toErrorBody } from '../../domain/to-error-body.js';
import type { Ack } from '../../protocol/events.js';
import type { Logger } from '../../ports/logger.js';
import type { Metrics } from '../../infra/metrics.js';
import type { AnySocket } from './socket-types.js';

type AckFn = (answer: Ack<object>) => void;

export interface HandlerContext {
  logger: Logger;
  metrics: Metrics;
}

/**
 * The one way to handle an inbound event: parse the payload with its schema, run the
 * handler, answer `{ok:true, …}` or `{ok:false, error}`. Rate limits and unknown events are
 * dealt with earlier, in `guardEvents`. An event sent without an ack callback is processed
 * all the same, and nothing here ever throws into Socket.IO.
 */
export function defineHandler<S extends z.ZodType>(
  ctx: HandlerContext,
  socket: AnySocket,
  event: string,
  schema: S,
  handler: (payload: z.infer<S>) => Promise<object | void>,
): void {
  (socket as unknown as { on(e: string, l: (...args: unknown[]) => void): void }).on(event, (...args: unknown[]) => {
    const ack = typeof args[args.length - 1] === 'function' ? (args.pop() as AckFn) : undefined;
    void run(ctx, socket, event, () => handler(schema.parse(args[0])), ack);
  });
}

async function run(ctx: HandlerContext, socket: AnySocket, event: string, fn: () => Promise<object | void>, ack?: AckFn) {
  let answer: Ack<object>;
  try {
    answer = { ok: true, ...((await fn()) ?? {}) };
  } catch (err) {
    answer = { ok: false, error: toErrorBody(err, ctx.logger, { event, socketId: socket.id, userId: socket.data.user?.id }) };
  }
  ctx.metrics.socketEvents.inc({ event, code: answer.ok ? 'OK' : answer.error.code });
  try {
    ack?.(answer);
  } catch (err) {
    ctx.logger.warn('ack failed', { event, err });
  }
}
