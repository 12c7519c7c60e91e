import type { AppConfig } from '../config/app-config.js';
import type { Logger } from '../ports/logger.js';
import type { Store } from '../ports/store.js';
import { SqliteStore } from './sqlite/sqlite-store.js';

/** MongoDB when MONGODB_URI is set, the embedded SQLite file otherwise. */
export async function selectStore(config: AppConfig, logger: Logger): Promise<Store> {
  if (config.mongodbUri) {
    const { MongoStore } = await import('./mongo/mongo-store.js');
    const store = new MongoStore({ uri: config.mongodbUri, production: config.production, logger, nodeId: config.nodeId });
    await store.connect();
    return store;
  }
  logger.info('using the embedded SQLite store', { dataDir: config.dataDir });
  return new SqliteStore({
    dataDir: config.dataDir,
    onWriterStopped: (err) => logger.error('the SQLite writer thread stopped; pending writes answered UNAVAILABLE, the next write starts a new one', { err }),
  });
}
