import { randomUUID } from 'node:crypto';
import { silentLogger } from '../helpers/silent-logger.js';
import { registerStoreContract } from './store-contract.js';

/**
 * Runs the store contract against a real MongoDB (a replica set: appends use transactions)
 * when MONGODB_URI is set. MongoDB cannot be installed on our build machines, so without it
 * the suite says so and is skipped.
 */
const uri = process.env.MONGODB_URI;
if (!uri) {
  describe('Store contract: MongoDB', () => {
    it('is skipped: set MONGODB_URI (a replica set, e.g. mongodb://127.0.0.1:27017/?replicaSet=rs0) to run it');
  });
} else {
  const { MongoStore } = await import('../../src/infra/mongo/mongo-store.js');
  registerStoreContract('MongoDB', async () => {
    const url = new URL(uri);
    url.pathname = `/vcs_test_${randomUUID().slice(0, 8)}`;
    const store = new MongoStore({ uri: url.toString(), production: false, logger: silentLogger });
    await store.connect();
    return store;
  });
}
