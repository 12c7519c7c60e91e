/**
 * What storing a chat message costs, alone: SqliteStore.append (the path chat:send takes in
 * embedded mode) at several batch sizes, i.e. messages submitted in the same event-loop
 * turn, which the group commit stores in one transaction. CPU is the whole process (request
 * thread, writer thread, checkpointer), per message. Text of 220 characters, 50 rooms, a
 * clientMsgId on every message.
 *
 *   node --import tsx bench/sqlite-append.ts [messagesPerSize=30000]
 *     [--batches 1,5,20,100,300]     batch sizes to measure
 *     [--client-ids sequential]      `s<sender>-<n>` as the chat benchmark sends them, per
 *                                    sender in order; `random`: UUIDv4, as most apps make them
 *     [--drop-index NAME[,NAME]]     what an index costs: the same run without it (diagnosis
 *                                    only; e.g. messages_client_msg_id, messages_by_id)
 *
 * Run it pinned (`taskset -c 1 …`) on an otherwise idle machine. Message ids are
 * time-ordered (UUIDv7), as the server makes them; BENCH_IDS=v4 uses random UUIDs instead,
 * to show what the index on id costs with ids that are not.
 */
import Database from 'better-sqlite3';
import { randomUUID } from 'node:crypto';
import { mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { parseArgs } from 'node:util';
import { timeOrderedId } from '../src/domain/time-ordered-id.js';
import { SqliteStore } from '../src/infra/sqlite/sqlite-store.js';

const { values, positionals } = parseArgs({
  allowPositionals: true,
  options: {
    batches: { type: 'string', default: '1,5,20,100' },
    'client-ids': { type: 'string', default: 'sequential' },
    'drop-index': { type: 'string', default: '' },
  },
});
const total = Number(positionals[0] ?? 30_000);
const batches = values.batches.split(',').map(Number);
const randomClientIds = values['client-ids'] === 'random';
const dropped = values['drop-index'].split(',').filter(Boolean);
const makeId = process.env.BENCH_IDS === 'v4' ? randomUUID : () => timeOrderedId();

const dir = mkdtempSync(join(tmpdir(), 'vcs-sqlite-append-'));
// The store creates its schema on open; the indexes to leave out go before the measured one opens it.
await new SqliteStore({ dataDir: dir }).close();
if (dropped.length > 0) {
  const db = new Database(join(dir, 'chat.db'));
  for (const name of dropped) db.exec(`DROP INDEX ${JSON.stringify(name)}`);
  db.close();
}
const store = new SqliteStore({ dataDir: dir });
const now = () => new Date().toISOString();
const rooms: string[] = [];
for (let i = 0; i < 50; i++) {
  const room = await store.createRoom({ id: randomUUID(), name: 'r', isPrivate: false, maxParticipants: 8, createdBy: 'u', createdAt: now() });
  rooms.push(room.id);
}
let n = 0;
const message = () => {
  n++;
  const room = n % rooms.length;
  // One sender per room, numbering its sends, as the chat benchmark's generator does.
  const clientMsgId = randomClientIds ? randomUUID() : `s${room}-${Math.floor(n / rooms.length)}`;
  return { id: makeId(), roomId: rooms[room]!, senderId: `guest_${room}`, senderName: 'bench', text: 'x'.repeat(220), clientMsgId, createdAt: now() };
};

console.log(`client ids ${randomClientIds ? 'random' : 'sequential'}${dropped.length ? `, without ${dropped.join(', ')}` : ''}`);
console.log('| batch | µs CPU per message | µs wall per message |\n| ---: | ---: | ---: |');
for (const batch of batches) {
  // Warm-up, then the measured run.
  for (let i = 0; i < 5000; i += batch) await Promise.all(Array.from({ length: batch }, () => store.append(message())));
  const cpu0 = process.cpuUsage();
  const t0 = performance.now();
  for (let i = 0; i < total; i += batch) await Promise.all(Array.from({ length: batch }, () => store.append(message())));
  const wall = performance.now() - t0;
  const cpu = process.cpuUsage(cpu0);
  console.log(`| ${batch} | ${((cpu.user + cpu.system) / total).toFixed(1)} | ${((wall * 1000) / total).toFixed(1)} |`);
}
await store.close();
rmSync(dir, { recursive: true, force: true });
