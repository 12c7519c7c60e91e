import { AppError } from '../../src/domain/app-error.js';
import type { Store } from '../../src/ports/store.js';

/**
 * A real store behind a switch: while `outage.down` is true every call fails the way a store
 * outage does (UNAVAILABLE, as our stores report a lost connection). It lets a test take the
 * store away and bring it back, which MongoDB would need a server for.
 */
export function switchableStore(store: Store, outage: { down: boolean }): Store {
  return new Proxy(store, {
    get(target, prop, receiver) {
      const value = Reflect.get(target, prop, receiver) as unknown;
      if (typeof value !== 'function' || prop === 'close') return value;
      return (...args: unknown[]) => {
        if (outage.down) return Promise.reject(new AppError('UNAVAILABLE', 'the message store is unreachable; try again'));
        return (value as (...a: unknown[]) => unknown).apply(target, args);
      };
    },
  });
}
