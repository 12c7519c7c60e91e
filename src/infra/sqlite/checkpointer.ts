import { createRequire } from 'node:module';
import { Worker } from 'node:worker_threads';

/**
 * Runs SQLite's WAL checkpoints on a worker thread with its own connection, so that the
 * checkpoint's page copies and fsyncs never block the event loop. (With autocheckpoint, the
 * commit that crosses the threshold runs the checkpoint inline: measured here, that blocked
 * the loop for ~40 % of the wall time of a write-heavy chat load.)
 *
 * PASSIVE checkpoints never wait for and never block a writer or a reader, so the main
 * connection's behaviour is unchanged; its own autocheckpoint stays on, at a higher
 * threshold, as the fallback should this thread fall behind or die. Durability is
 * unchanged too: a commit is durable when its WAL frames are written, before any checkpoint.
 */
export class BackgroundCheckpointer {
  private readonly worker: Worker;

  constructor(file: string, intervalMs = 200) {
    const driver = createRequire(import.meta.url).resolve('better-sqlite3');
    // Plain CommonJS evaluated in the worker: no TypeScript loader, no module lookup.
    const source = `
      const { workerData } = require('node:worker_threads');
      const Database = require(workerData.driver);
      const db = new Database(workerData.file, { timeout: 0 });
      setInterval(() => {
        try { db.pragma('wal_checkpoint(PASSIVE)'); } catch { /* busy or closing: next tick */ }
      }, workerData.intervalMs);
    `;
    this.worker = new Worker(source, { eval: true, execArgv: [], workerData: { driver, file, intervalMs } });
    this.worker.on('error', () => {
      /* the main connection's autocheckpoint takes over */
    });
    this.worker.unref();
  }

  async close(): Promise<void> {
    await this.worker.terminate();
  }
}
