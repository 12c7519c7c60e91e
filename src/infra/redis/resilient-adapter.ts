import type { Namespace } from 'socket.io';
import { requireInternal } from '../socketio-internals.js';

type AdapterFactory = (nsp: Namespace) => unknown;

/**
 * Wraps a cluster adapter factory so that publishing to Redis has a deadline. The cluster
 * adapter delivers to local sockets only after its publish settles (it needs the stream
 * offset), so with Redis paused every local broadcast would wait; with the deadline the node
 * keeps serving its own clients and the remote copy goes out when Redis is back.
 */
export function withPublishDeadline<F extends AdapterFactory>(factory: F, deadlineMs: number): F {
  const wrapped = function (nsp: Namespace) {
    const adapter = requireInternal(
      new (factory as unknown as new (n: Namespace) => { publishAndReturnOffset(m: unknown): Promise<unknown> })(nsp),
      'publishAndReturnOffset',
      'the cluster adapter',
    );
    const publish = adapter.publishAndReturnOffset.bind(adapter);
    adapter.publishAndReturnOffset = (message: unknown) => {
      let timer: NodeJS.Timeout | undefined;
      const deadline = new Promise<never>((_, reject) => {
        timer = setTimeout(() => reject(new Error('redis publish deadline exceeded')), deadlineMs);
      });
      return Promise.race([publish(message), deadline]).finally(() => clearTimeout(timer));
    };
    return adapter;
  };
  return wrapped as unknown as F;
}
