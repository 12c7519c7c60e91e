import Database from 'better-sqlite3';
import { expect } from 'chai';
import { rmSync } from 'node:fs';
import { join } from 'node:path';
import { randomUUID } from 'node:crypto';
import { SqliteStore } from '../../src/infra/sqlite/sqlite-store.js';
import { tempDir } from '../helpers/test-server.js';
import { registerStoreContract } from './store-contract.js';

const dirs: string[] = [];
after(() => dirs.forEach((d) => rmSync(d, { recursive: true, force: true })));

registerStoreContract('SQLite', async () => {
  const dir = tempDir('vcs-store-');
  dirs.push(dir);
  return new SqliteStore({ dataDir: dir });
});

describe('SqliteStore on disk', () => {
  it('keeps rooms, messages and seq across a reopen of the same file', async () => {
    const dir = tempDir('vcs-store-');
    dirs.push(dir);
    const first = new SqliteStore({ dataDir: dir });
    const room = await first.createRoom({ id: 'r1', name: 'r', isPrivate: false, maxParticipants: 8, createdBy: 'u', createdAt: new Date().toISOString() });
    for (let i = 0; i < 3; i++) {
      await first.append({ id: randomUUID(), roomId: room.id, senderId: 'u', senderName: 'U', text: `m${i}`, clientMsgId: null, createdAt: new Date().toISOString() });
    }
    await first.close();
    const second = new SqliteStore({ dataDir: dir });
    const next = await second.append({ id: randomUUID(), roomId: room.id, senderId: 'u', senderName: 'U', text: 'm3', clientMsgId: null, createdAt: new Date().toISOString() });
    expect(next.message.seq).to.equal(4);
    await second.close();
  });

  it('shares one file safely between two handles (as two processes would)', async () => {
    const dir = tempDir('vcs-store-');
    dirs.push(dir);
    const a = new SqliteStore({ dataDir: dir });
    const b = new SqliteStore({ dataDir: dir });
    await a.createRoom({ id: 'r1', name: 'r', isPrivate: false, maxParticipants: 8, createdBy: 'u', createdAt: new Date().toISOString() });
    const mk = (i: number) => ({ id: randomUUID(), roomId: 'r1', senderId: 'u', senderName: 'U', text: `m${i}`, clientMsgId: `c${i}`, createdAt: new Date().toISOString() });
    const results = await Promise.all(Array.from({ length: 40 }, (_, i) => (i % 2 ? a : b).append(mk(i))));
    expect(results.map((r) => r.message.seq).sort((x, y) => x - y)).to.deep.equal(Array.from({ length: 40 }, (_, i) => i + 1));
    await a.close();
    await b.close();
  });

  it('answers a batch exactly as item-by-item appends would when a seq slot is already taken', async () => {
    const dir = tempDir('vcs-store-');
    dirs.push(dir);
    const store = new SqliteStore({ dataDir: dir });
    const now = new Date().toISOString();
    await store.createRoom({ id: 'r1', name: 'r', isPrivate: false, maxParticipants: 8, createdBy: 'u', createdAt: now });
    await store.createRoom({ id: 'r2', name: 'r', isPrivate: false, maxParticipants: 8, createdBy: 'u', createdAt: now });
    // Another writer took r1's next slot without moving its counter (as a lost Redis write would).
    const raw = new Database(join(dir, 'chat.db'));
    raw
      .prepare('INSERT INTO messages (id, room_id, seq, sender_id, sender_name, text, client_msg_id, created_at) VALUES (?, ?, ?, ?, ?, ?, ?, ?)')
      .run('foreign', 'r1', 1, 'x', 'X', 'taken', null, now);
    raw.close();
    const mk = (roomId: string, clientMsgId: string | null) => ({ id: randomUUID(), roomId, senderId: 'u', senderName: 'U', text: 't', clientMsgId, createdAt: now });
    const [blocked, fine, missing] = await Promise.allSettled([store.append(mk('r1', 'c1')), store.append(mk('r2', 'c2')), store.append(mk('nope', 'c3'))]);
    expect(blocked.status).to.equal('rejected');
    expect(String((blocked as PromiseRejectedResult).reason)).to.match(/UNIQUE/);
    expect(fine.status === 'fulfilled' && fine.value.message.seq).to.equal(1);
    expect(missing.status === 'rejected' && (missing.reason as { code?: string }).code).to.equal('ROOM_NOT_FOUND');
    // The failed item left nothing behind: r1's counter did not move.
    expect((await store.getRoom('r1'))?.lastSeq).to.equal(0);
    await store.close();
  });
});
