import { MongoStore } from '../../src/infra/mongo/mongo-store.js';
import { SqliteStore } from '../../src/infra/sqlite/sqlite-store.js';
import type { Store } from '../../src/ports/store.js';
import { describeWithMongo, type MongoTarget } from './ferretdb.js';
import { silentLogger } from './silent-logger.js';

/** The store a suite's nodes share, as the suite sees it. */
export interface StoreUnderTest {
  name: 'SQLite' | 'MongoDB';
  /**
   * Environment for a fresh, empty store, to give every node of one cluster: nothing for
   * SQLite (the cluster's data directory holds it), MONGODB_URI of a new database for MongoDB.
   */
  env(): Record<string, string>;
  /** One more handle on the store of `env` and `dataDir`, as another process would open it. */
  open(env: Record<string, string>, dataDir: string): Promise<Store>;
  /** The MongoDB the suite runs against; null for SQLite. */
  mongo: MongoTarget | null;
}

export const sqlite: StoreUnderTest = {
  name: 'SQLite',
  env: () => ({}),
  open: async (_env, dataDir) => new SqliteStore({ dataDir }),
  mongo: null,
};

const mongoStore = (target: MongoTarget): StoreUnderTest => ({
  name: 'MongoDB',
  env: () => ({ MONGODB_URI: target.uri() }),
  open: async (env) => {
    const store = new MongoStore({ uri: env.MONGODB_URI!, production: false, logger: silentLogger });
    await store.connect();
    return store;
  },
  mongo: target,
});

/**
 * Runs `suite` once per store the nodes can share: SQLite, and MongoDB (FerretDB, or
 * MONGODB_URI; skipped or failed as describeWithMongo says when there is neither). Call
 * inside a `describe`.
 */
export function forEachStore(suite: (store: StoreUnderTest) => void): void {
  describe('with SQLite', () => suite(sqlite));
  describeWithMongo('with MongoDB', (target) => suite(mongoStore(target)));
}
