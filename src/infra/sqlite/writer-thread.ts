/**
 * Entry of the SQLite writer thread (started by SqliteWriter). Requests that arrive while a
 * transaction runs queue up; each flush takes them all, in order, and runs every run of
 * consecutive appends as one transaction (group commit), so that under load one WAL commit
 * serves many messages. Replies go back in one message per flush.
 */
import { parentPort, workerData } from 'node:worker_threads';
import type { NewMessage } from '../../ports/store.js';
import { openDatabase } from './sqlite-connection.js';
import { SqliteWrites } from './sqlite-writes.js';
import { toWire, type WireAppendOutcome, type WriteReply, type WriteRequest } from './writer-protocol.js';

/** Most messages one append transaction takes; a longer run is split. */
const MAX_APPEND_BATCH = 1000;

const { file, busyTimeoutMs } = workerData as { file: string; busyTimeoutMs: number };
const port = parentPort!;
const db = openDatabase(file, busyTimeoutMs);
// Checkpoints run on their own thread (checkpointer.ts); this is only the fallback.
db.pragma('wal_autocheckpoint = 10000');
const writes = new SqliteWrites(db);
let queue: WriteRequest[] = [];
let scheduled = false;

port.on('message', (request: WriteRequest) => {
  queue.push(request);
  if (!scheduled) {
    scheduled = true;
    setImmediate(flush);
  }
});

function flush(): void {
  scheduled = false;
  const requests = queue;
  queue = [];
  const replies: WriteReply[] = [];
  let appends: (WriteRequest & { op: 'append' })[] = [];
  const flushAppends = () => {
    if (appends.length > 0) replies.push(...runAppends(appends));
    appends = [];
  };
  for (const request of requests) {
    if (request.op === 'append') {
      appends.push(request);
      continue;
    }
    flushAppends();
    replies.push(runOne(request));
  }
  flushAppends();
  port.postMessage(replies);
}

function runOne(request: Exclude<WriteRequest, { op: 'append' }>): WriteReply {
  try {
    if (request.op === 'close') db.close();
    else if (request.op === 'insertAssigned') writes.insertAssigned(request.messages);
    else if (request.op === 'createRoom') writes.createRoom(request.room);
    else if (request.op === 'addMember') writes.addMember(request.roomId, request.userId, request.addedAt);
    else writes.setCursor(request.roomId, request.userId, request.seq);
    return { id: request.id, ok: true };
  } catch (error) {
    return { id: request.id, ok: false, error: toWire(error) };
  }
}

/** Several append requests, one transaction per MAX_APPEND_BATCH messages. */
function runAppends(requests: (WriteRequest & { op: 'append' })[]): WriteReply[] {
  const items: NewMessage[] = requests.length === 1 ? requests[0]!.items : requests.flatMap((r) => r.items);
  const outcomes: WireAppendOutcome[] = [];
  for (let start = 0; start < items.length; start += MAX_APPEND_BATCH) {
    const chunk = items.slice(start, start + MAX_APPEND_BATCH);
    try {
      for (const o of writes.appendBatch(chunk)) outcomes.push(o.ok ? o : { ok: false, error: toWire(o.error) });
    } catch (error) {
      const wire = toWire(error);
      for (let i = 0; i < chunk.length; i++) outcomes.push({ ok: false, error: wire });
    }
  }
  let at = 0;
  return requests.map((r) => {
    const mine = outcomes.slice(at, at + r.items.length);
    at += r.items.length;
    return { id: r.id, ok: true, outcomes: mine };
  });
}
