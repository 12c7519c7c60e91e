/**
 * Entry of the SQLite writer thread (started by WriterThreadClient). It runs each request
 * as it arrives, in order, and answers it. It batches nothing itself: the request thread's
 * group commit (group-commit.ts) already sends the appends of a turn as one request, with
 * one batch in flight, so the appends that arrive here are one transaction's worth.
 */
import { parentPort, workerData } from 'node:worker_threads';
import { openDatabase } from './sqlite-connection.js';
import { RoomWrites } from './room-writes.js';
import { SearchIndexWrites } from './sqlite-search-index.js';
import { WriteTransactions } from './write-transactions.js';
import { toWire, type WriteReply, type WriteRequest } from './writer-thread-wire.js';

const { file, busyTimeoutMs } = workerData as { file: string; busyTimeoutMs: number };
const port = parentPort!;
const db = openDatabase(file, busyTimeoutMs);
// Checkpoints run on their own thread (checkpointer.ts); this is only the fallback.
db.pragma('wal_autocheckpoint = 10000');
const transactions = new WriteTransactions(db);
const roomWrites = new RoomWrites(db);
const searchIndex = new SearchIndexWrites(db);

port.on('message', (request: WriteRequest) => port.postMessage(run(request)));

function run(request: WriteRequest): WriteReply {
  const id = request.id;
  try {
    switch (request.op) {
      case 'append':
        return { id, ok: true, outcomes: transactions.appendBatch(request.items) };
      case 'insertAssigned':
        return { id, ok: true, dropped: transactions.insertAssigned(request.messages) };
      case 'room':
        return { id, ok: true, changed: roomWrites.run(request.write) };
      case 'change':
        return { id, ok: true, change: transactions.change(request.request) };
      case 'applyAssigned':
        return { id, ok: true, applied: transactions.applyAssigned(request.message) };
      case 'setCursor':
        transactions.setCursor(request.roomId, request.userId, request.seq);
        break;
      case 'readMarkers':
        return { id, ok: true, moved: transactions.raiseReadMarkers(request.markers) };
      case 'indexSearch':
        return { id, ok: true, more: searchIndex.indexChunk(request.roomId, request.upTo) };
      case 'close':
        db.close();
        break;
    }
    return { id, ok: true };
  } catch (error) {
    return { id, ok: false, error: toWire(error) };
  }
}
