import type { Worker } from 'node:worker_threads';
import { AppError } from '../../domain/app-error.js';
import { startModuleWorker } from '../module-worker.js';
import { fromWire, type WireAppendOutcome, type WriteOp, type WriteReply } from './writer-protocol.js';

interface Pending {
  resolve: (outcomes: WireAppendOutcome[] | undefined) => void;
  reject: (error: unknown) => void;
}

/**
 * The request thread's handle on the SQLite writer thread (writer-thread.ts). Every write
 * goes there, in the order it was made, and resolves once committed. Should the thread
 * die, what it had not answered fails with UNAVAILABLE (the client retries with the same
 * clientMsgId, so nothing is stored twice) and the next write starts a new thread.
 */
export class SqliteWriter {
  private worker: Worker | null = null;
  private readonly pending = new Map<number, Pending>();
  private nextId = 1;
  private closed = false;

  constructor(
    private readonly file: string,
    private readonly busyTimeoutMs: number,
    /** Told when the thread dies unasked (not on close). */
    private readonly onStopped: (error: unknown) => void = () => {},
  ) {}

  /** Resolves when committed; for appends, with one outcome per item. */
  run(op: WriteOp): Promise<WireAppendOutcome[] | undefined> {
    if (this.closed && op.op !== 'close') return Promise.reject(new AppError('UNAVAILABLE', 'the message store is closing'));
    const worker = this.worker ?? this.start();
    const id = this.nextId++;
    return new Promise((resolve, reject) => {
      this.pending.set(id, { resolve, reject });
      // Only a thread with work in flight keeps the process alive.
      if (this.pending.size === 1) worker.ref();
      worker.postMessage({ ...op, id });
    });
  }

  /** Lets queued writes finish, then closes the thread's connection. */
  async close(): Promise<void> {
    if (this.closed) return;
    this.closed = true;
    const worker = this.worker;
    if (!worker) return;
    await this.run({ op: 'close' }).catch(() => {});
    this.worker = null;
    await worker.terminate();
  }

  private start(): Worker {
    const worker = startModuleWorker(import.meta.url, './writer-thread.js', { file: this.file, busyTimeoutMs: this.busyTimeoutMs });
    worker.on('message', (replies: WriteReply[]) => this.settle(replies));
    worker.on('error', (error) => this.fail(worker, error));
    worker.on('exit', () => this.fail(worker, null));
    worker.unref();
    this.worker = worker;
    return worker;
  }

  private settle(replies: WriteReply[]): void {
    for (const reply of replies) {
      const p = this.pending.get(reply.id);
      if (!p) continue;
      this.pending.delete(reply.id);
      if (reply.ok) p.resolve(reply.outcomes);
      else p.reject(fromWire(reply.error));
    }
    if (this.pending.size === 0) this.worker?.unref();
  }

  private fail(worker: Worker, error: unknown): void {
    if (this.worker !== worker) return;
    this.worker = null;
    this.onStopped(error);
    const reason = error instanceof Error ? `: ${error.message}` : '';
    for (const p of this.pending.values()) p.reject(new AppError('UNAVAILABLE', `the message store writer stopped${reason}; try again`));
    this.pending.clear();
  }
}
