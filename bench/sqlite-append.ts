/**
 * What storing a chat message costs, alone: SqliteStore.append (the path chat:send takes in
 * embedded mode) at several batch sizes, i.e. messages submitted in the same event-loop
 * turn, which the group commit stores in one transaction. CPU is the whole process (request
 * thread, writer thread, checkpointer), per message. Text of 220 characters, 50 rooms, a
 * clientMsgId on every message, as in the chat benchmark.
 *
 *   node --import tsx bench/sqlite-append.ts [messagesPerSize=30000]
 *
 * Message ids are time-ordered (UUIDv7), as the server makes them; BENCH_IDS=v4 uses random
 * UUIDs instead, to show what the index on id costs with ids that are not.
 */
import { randomUUID } from 'node:crypto';
import { mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { timeOrderedId } from '../src/domain/time-ordered-id.js';
import { SqliteStore } from '../src/infra/sqlite/sqlite-store.js';

const makeId = process.env.BENCH_IDS === 'v4' ? randomUUID : () => timeOrderedId();

const total = Number(process.argv[2] ?? 30_000);
const dir = mkdtempSync(join(tmpdir(), 'vcs-sqlite-append-'));
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
  return { id: makeId(), roomId: rooms[n % rooms.length]!, senderId: `guest_${n % 200}`, senderName: 'bench', text: 'x'.repeat(220), clientMsgId: `c${n}`, createdAt: now() };
};

console.log('| batch | µs CPU per message | µs wall per message |\n| ---: | ---: | ---: |');
for (const batch of [1, 5, 20, 100]) {
  // Warm-up, then the measured run.
  for (let i = 0; i < 2000; i += batch) await Promise.all(Array.from({ length: batch }, () => store.append(message())));
  const cpu0 = process.cpuUsage();
  const t0 = performance.now();
  for (let i = 0; i < total; i += batch) await Promise.all(Array.from({ length: batch }, () => store.append(message())));
  const wall = performance.now() - t0;
  const cpu = process.cpuUsage(cpu0);
  console.log(`| ${batch} | ${((cpu.user + cpu.system) / total).toFixed(1)} | ${((wall * 1000) / total).toFixed(1)} |`);
}
await store.close();
rmSync(dir, { recursive: true, force: true });
