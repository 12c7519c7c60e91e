import { AppError } from '../../src/domain/app-error.js';
import type { Store } from '../../src/ports/store.js';

const outageError = () => new AppError('UNAVAILABLE', 'the message store is unreachable; try again');

/**
 * A real store behind a switch: while `outage.down` is true every call fails, by default the
 * way a store outage does (UNAVAILABLE, as our stores report a lost connection). It lets a
 * test take the store away and bring it back, which MongoDB would need a server for. With
 * another `failure` the store is up but refuses (a write the queue counts as an attempt).
 */
export function switchableStore(store: Store, outage: { down: boolean }, failure: () => Error = outageError): Store {
  return new Proxy(store, {
    get(target, prop, receiver) {
      const value = Reflect.get(target, prop, receiver) as unknown;
      if (typeof value !== 'function' || prop === 'close') return value;
      return (...args: unknown[]) => {
        if (outage.down) return Promise.reject(failure());
        return (value as (...a: unknown[]) => unknown).apply(target, args);
      };
    },
  });
}
