import type { Namespace } from 'socket.io';
import { requireInternal } from '../socketio-internals.js';

type AdapterFactory = (nsp: Namespace) => unknown;

/** Why a broadcast did not reach Redis: the client's command queue was full, the deadline passed, or another error. */
export type PublishFailure = 'queue_full' | 'deadline' | 'error';

const DEADLINE_MESSAGE = 'redis publish deadline exceeded';

/** node-redis rejects a command with this message when its bounded command queue is full. */
export const failureOf = (err: unknown): PublishFailure => {
  const message = (err as { message?: unknown })?.message;
  if (message === DEADLINE_MESSAGE) return 'deadline';
  return message === 'The queue is full' ? 'queue_full' : 'error';
};

/**
 * Wraps a cluster adapter factory so that publishing to Redis has a deadline. The cluster
 * adapter delivers to local sockets only after its publish settles (it needs the stream
 * offset), so with Redis paused every local broadcast would wait; with the deadline the node
 * keeps serving its own clients and the remote copy goes out when Redis is back.
 *
 * A failed publish is swallowed by the adapter (it only logs under DEBUG) and the broadcast
 * reaches this node's sockets only: members on other nodes miss it live and get it back from
 * history when they rejoin with lastSeq. `onFailure` hears of each such publish, so that it
 * is counted and logged instead of passing unseen.
 */
export function withPublishDeadline<F extends AdapterFactory>(
  factory: F,
  deadlineMs: number,
  onFailure: (why: PublishFailure) => void = () => {},
  /** Counts the publishes not settled yet (see PublishBacklog). */
  backlog?: { started(): void; settled(): void },
): F {
  const wrapped = function (nsp: Namespace) {
    const adapter = requireInternal(
      new (factory as unknown as new (n: Namespace) => { publishAndReturnOffset(m: unknown): Promise<unknown> })(nsp),
      'publishAndReturnOffset',
      'the cluster adapter',
    );
    const publish = adapter.publishAndReturnOffset.bind(adapter);
    adapter.publishAndReturnOffset = (message: unknown) => {
      let timer: NodeJS.Timeout | undefined;
      backlog?.started();
      const deadline = new Promise<never>((_, reject) => {
        timer = setTimeout(() => reject(new Error(DEADLINE_MESSAGE)), deadlineMs);
      });
      return Promise.race([publish(message), deadline])
        .catch((err: unknown) => {
          onFailure(failureOf(err));
          throw err;
        })
        .finally(() => {
          clearTimeout(timer);
          backlog?.settled();
        });
    };
    return adapter;
  };
  return wrapped as unknown as F;
}

/** Logs publish failures at most once per `everyMs`, with how many of each kind since the last log. */
export function publishFailureLog(warn: (message: string, meta: Record<string, unknown>) => void, everyMs = 10_000): (why: PublishFailure) => void {
  let since: Partial<Record<PublishFailure, number>> = {};
  let timer: NodeJS.Timeout | null = null;
  return (why) => {
    since[why] = (since[why] ?? 0) + 1;
    if (timer) return;
    timer = setTimeout(() => {
      timer = null;
      warn('broadcasts reached this node only: publishing to Redis failed (members on other nodes catch up from history on rejoin)', { failures: since });
      since = {};
    }, everyMs);
    timer.unref();
  };
}
