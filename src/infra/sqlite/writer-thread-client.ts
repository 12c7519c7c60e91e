import type { Worker } from 'node:worker_threads';
import { AppError } from '../../domain/app-error.js';
import type { ChangeRequest, ChangeResult } from '../../domain/message-change.js';
import type { Message } from '../../protocol/models.js';
import type { NewMessage, ReadMarker } from '../../ports/store.js';
import type { RoomWrite } from './room-writes.js';
import { startModuleWorker } from '../module-worker.js';
import { fromWire, type AppendOutcome, type WriteOp, type WriteReply } from './writer-thread-wire.js';

interface Pending {
  resolve: (reply: Extract<WriteReply, { ok: true }>) => void;
  reject: (error: unknown) => void;
}

/**
 * The request thread's side of the SQLite writer thread (writer-thread-main.ts): one method
 * per write, each sent there at once, in the order it was made, and resolved once
 * committed. Should the thread die, what it had not answered fails with UNAVAILABLE (the
 * client retries with the same clientMsgId, so nothing is stored twice) and the next write
 * starts a new thread.
 */
export class WriterThreadClient {
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

  /** One transaction for all `items`; one outcome per item, in order. */
  append(items: NewMessage[]): Promise<AppendOutcome[]> {
    // The thread answers an append with its outcomes, any other write without.
    return this.request({ op: 'append', items }).then((reply) => reply.outcomes ?? []);
  }

  /** How many were dropped (their room is gone). */
  async insertAssigned(messages: Message[]): Promise<number> {
    return (await this.request({ op: 'insertAssigned', messages })).dropped ?? 0;
  }

  /** True when the write changed something (see RoomWrites). */
  async roomWrite(write: RoomWrite): Promise<boolean> {
    return (await this.request({ op: 'room', write })).changed === true;
  }

  async change(request: ChangeRequest): Promise<ChangeResult> {
    return (await this.request({ op: 'change', request })).change!;
  }

  async applyAssigned(message: Message): Promise<'applied' | 'stale' | 'missing' | 'dropped'> {
    return (await this.request({ op: 'applyAssigned', message })).applied!;
  }

  async setCursor(roomId: string, userId: string, seq: number): Promise<void> {
    await this.request({ op: 'setCursor', roomId, userId, seq });
  }

  /** Moves read markers forward in one transaction; for each, whether it moved. */
  async raiseReadMarkers(markers: ReadMarker[]): Promise<boolean[]> {
    return (await this.request({ op: 'readMarkers', markers })).moved ?? [];
  }

  /**
   * Indexes the room's messages up to `upTo` for search, one chunk per request: writes
   * posted meanwhile (appends) run between the chunks, not behind the whole backlog.
   */
  async indexForSearch(roomId: string, upTo: number): Promise<void> {
    while ((await this.request({ op: 'indexSearch', roomId, upTo })).more === true);
  }

  /** Lets queued writes finish, then closes the thread's connection. */
  async close(): Promise<void> {
    if (this.closed) return;
    this.closed = true;
    const worker = this.worker;
    if (!worker) return;
    await this.request({ op: 'close' }).catch(() => {});
    this.worker = null;
    await worker.terminate();
  }

  private request(op: WriteOp): Promise<Extract<WriteReply, { ok: true }>> {
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

  private start(): Worker {
    const worker = startModuleWorker(import.meta.url, './writer-thread-main.js', { file: this.file, busyTimeoutMs: this.busyTimeoutMs });
    worker.on('message', (reply: WriteReply) => this.settle(reply));
    worker.on('error', (error) => this.fail(worker, error));
    worker.on('exit', () => this.fail(worker, null));
    worker.unref();
    this.worker = worker;
    return worker;
  }

  private settle(reply: WriteReply): void {
    const p = this.pending.get(reply.id);
    if (!p) return;
    this.pending.delete(reply.id);
    if (reply.ok) p.resolve(reply);
    else p.reject(fromWire(reply.error));
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
