import Database from 'better-sqlite3';
import { expect } from 'chai';
import { spawn } from 'node:child_process';
import { rmSync } from 'node:fs';
import { join } from 'node:path';
import { pathToFileURL } from 'node:url';
import { randomUUID } from 'node:crypto';
import { registerSearchFunction } from '../../src/infra/sqlite/sqlite-connection.js';
import { migrate } from '../../src/infra/sqlite/sqlite-schema.js';
import { SqliteStore } from '../../src/infra/sqlite/sqlite-store.js';
import { tempDir } from '../helpers/test-server.js';
import { registerStoreContract } from './store-contract.js';

const dirs: string[] = [];

/** A database as the first release made it (user_version 1), open for the test to fill. */
function schemaV1(dir: string): Database.Database {
  const db = new Database(join(dir, 'chat.db'));
  db.exec(`CREATE TABLE rooms (id TEXT PRIMARY KEY, name TEXT NOT NULL, is_private INTEGER NOT NULL, max_participants INTEGER NOT NULL,
             created_by TEXT NOT NULL, created_at TEXT NOT NULL, last_seq INTEGER NOT NULL DEFAULT 0);
           CREATE TABLE room_members (room_id TEXT NOT NULL REFERENCES rooms(id), user_id TEXT NOT NULL, added_at TEXT NOT NULL,
             PRIMARY KEY (room_id, user_id)) WITHOUT ROWID;
           CREATE TABLE messages (room_id TEXT NOT NULL, seq INTEGER NOT NULL, id TEXT NOT NULL UNIQUE, sender_id TEXT NOT NULL,
             sender_name TEXT NOT NULL, text TEXT NOT NULL, client_msg_id TEXT, created_at TEXT NOT NULL, PRIMARY KEY (room_id, seq));
           CREATE UNIQUE INDEX messages_client_msg_id ON messages (room_id, client_msg_id) WHERE client_msg_id IS NOT NULL;
           CREATE TABLE member_cursors (room_id TEXT NOT NULL, user_id TEXT NOT NULL, seq INTEGER NOT NULL, PRIMARY KEY (room_id, user_id)) WITHOUT ROWID;
           PRAGMA user_version = 1;`);
  return db;
}
/** A first-schema database holding room r1 with one message (m1, 'kept', clientMsgId c1). */
function schemaV1WithOneMessage(dir: string, now: string): Database.Database {
  const db = schemaV1(dir);
  db.prepare("INSERT INTO rooms VALUES ('r1', 'r', 0, 8, 'u', ?, 1)").run(now);
  db.prepare("INSERT INTO messages VALUES ('r1', 1, 'm1', 'u', 'U', 'kept', 'c1', ?)").run(now);
  return db;
}
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

  it('reads a room or membership change made through another handle at once (rows are remembered only while nothing changed)', async () => {
    const dir = tempDir('vcs-store-');
    dirs.push(dir);
    const a = new SqliteStore({ dataDir: dir });
    const b = new SqliteStore({ dataDir: dir });
    await a.createRoom({ id: 'r1', name: 'r', isPrivate: false, maxParticipants: 8, createdBy: 'u', createdAt: new Date().toISOString() });
    await a.addMember('r1', 'bob', { name: 'bob' });
    // Read twice on `a`, so the second answer comes from what it remembers.
    for (let i = 0; i < 2; i++) {
      expect(await a.getMember('r1', 'bob')).to.include({ banned: false });
      expect(await a.getRoom('r1')).to.include({ isPrivate: false });
    }
    expect(await a.getMember('r1', 'eve')).to.equal(null);
    await b.removeMember('r1', 'bob', true);
    await b.updateRoom('r1', { isPrivate: true });
    await b.addMember('r1', 'eve', { name: 'eve' });
    expect(await a.getMember('r1', 'bob')).to.include({ banned: true });
    expect(await a.getRoom('r1')).to.include({ isPrivate: true });
    expect(await a.getMember('r1', 'eve')).to.include({ role: 'member' });
    // A caller changing its copy changes nothing remembered.
    (await a.getRoom('r1'))!.name = 'changed';
    expect(await a.getRoom('r1')).to.include({ name: 'r' });
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
    // The search triggers call it: every connection that writes messages needs it.
    registerSearchFunction(raw);
    raw
      .prepare(
        `INSERT INTO messages (id, room_key, seq, sender_id, sender_name, text, client_msg_id, created_at)
         VALUES (?, (SELECT msg_key FROM rooms WHERE id = ?), ?, ?, ?, ?, ?, ?)`,
      )
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

  it('upgrades a data directory made by the first schema in place: history, seq and dedup intact', async () => {
    const dir = tempDir('vcs-store-');
    dirs.push(dir);
    const now = new Date().toISOString();
    // The schema as the first release wrote it (user_version 1), with one message in it.
    schemaV1WithOneMessage(dir, now).close();
    const store = new SqliteStore({ dataDir: dir });
    expect((await store.listMessages('r1', { limit: 10 })).messages.map((m) => [m.seq, m.id, m.text])).to.deep.equal([[1, 'm1', 'kept']]);
    const retry = await store.append({ id: randomUUID(), roomId: 'r1', senderId: 'u', senderName: 'U', text: 'again', clientMsgId: 'c1', createdAt: now });
    expect(retry.created).to.equal(false);
    expect(retry.message.id).to.equal('m1');
    const next = await store.append({ id: randomUUID(), roomId: 'r1', senderId: 'u', senderName: 'U', text: 'new', clientMsgId: 'c2', createdAt: now });
    expect(next.message.seq).to.equal(2);
    await store.close();
  });

  it('upgrades a data directory of an earlier schema in place: the creator of each room becomes its owner', async () => {
    const dir = tempDir('vcs-store-');
    dirs.push(dir);
    const now = new Date().toISOString();
    // Rooms and members as the first schemas kept them (no roles, no bans, no lock or lobby).
    const old = schemaV1(dir);
    old.prepare('INSERT INTO rooms VALUES (?, ?, ?, ?, ?, ?, 0)').run('r1', 'old', 1, 8, 'ann', now);
    old.prepare('INSERT INTO room_members VALUES (?, ?, ?)').run('r1', 'ann', now);
    old.prepare('INSERT INTO room_members VALUES (?, ?, ?)').run('r1', 'bob', now);
    old.close();
    const store = new SqliteStore({ dataDir: dir });
    expect(await store.getMember('r1', 'ann')).to.include({ role: 'owner', banned: false });
    expect(await store.getMember('r1', 'bob')).to.include({ role: 'member', banned: false, name: 'bob' });
    expect(await store.getRoom('r1')).to.deep.include({ locked: false, lobby: false, isPrivate: true });
    expect((await store.listRoomsOf('bob', { limit: 10 })).map((r) => r.id)).to.deep.equal(['r1']);
    await store.close();
  });

  it('upgrades to search in place without indexing on open: the first search of a room indexes what it holds', async () => {
    const dir = tempDir('vcs-store-');
    dirs.push(dir);
    const now = new Date().toISOString();
    const old = schemaV1(dir);
    old.prepare("INSERT INTO rooms VALUES ('r1', 'r', 0, 8, 'u', ?, 2)").run(now);
    old.prepare("INSERT INTO messages VALUES ('r1', 1, 'm1', 'u', 'U', 'Old News here', 'c1', ?)").run(now);
    old.prepare("INSERT INTO messages VALUES ('r1', 2, 'm2', 'u', 'U', 'nothing to see', 'c2', ?)").run(now);
    old.close();
    const store = new SqliteStore({ dataDir: dir });
    const raw = new Database(join(dir, 'chat.db'), { readonly: true });
    const indexed = () => raw.prepare('SELECT (SELECT count(*) FROM message_search), (SELECT count(*) FROM search_progress)').raw().get();
    expect(indexed()).to.deep.equal([0, 0]);
    expect((await store.searchMessages('r1', 'news', 10)).messages.map((m) => m.id)).to.deep.equal(['m1']);
    expect(indexed()).to.deep.equal([2, 1]);
    raw.close();
    await store.close();
  });

  it('upgrades a searched data directory to room keys in place: history, dedup, search and room deletion hold', async () => {
    const dir = tempDir('vcs-store-');
    dirs.push(dir);
    const now = new Date().toISOString();
    // Schema v6 (rooms by id in every message row), r1 searched up to its newest message.
    const old = schemaV1(dir);
    registerSearchFunction(old);
    migrate(old, 6);
    old.prepare("INSERT INTO rooms (id, name, is_private, max_participants, created_by, created_at, last_seq) VALUES (?, 'r', 0, 8, 'u', ?, 2)").run('r1', now);
    old.prepare("INSERT INTO rooms (id, name, is_private, max_participants, created_by, created_at, last_seq) VALUES (?, 'r', 0, 8, 'u', ?, 1)").run('r2', now);
    // Row ids with gaps (as deletes leave them): the index is keyed by them.
    const insert = old.prepare('INSERT INTO messages (rowid, room_id, seq, id, sender_id, sender_name, text, client_msg_id, created_at) VALUES (?, ?, ?, ?, ?, ?, ?, ?, ?)');
    insert.run(10, 'r1', 1, 'm1', 'u', 'U', 'Old News here', 'c1', now);
    insert.run(20, 'r2', 1, 'm2', 'u', 'U', 'news of the other room', 'c1', now);
    insert.run(30, 'r1', 2, 'm3', 'u', 'U', 'nothing to see', 'c3', now);
    old.exec(`INSERT INTO message_search (rowid, room, words) SELECT rowid, hex(room_id), search_words(text) FROM messages WHERE room_id = 'r1';
              INSERT INTO search_progress VALUES ('r1', 2);`);
    old.close();

    const store = new SqliteStore({ dataDir: dir });
    expect((await store.listMessages('r1', { limit: 10 })).messages.map((m) => [m.roomId, m.seq, m.id])).to.deep.equal([
      ['r1', 1, 'm1'],
      ['r1', 2, 'm3'],
    ]);
    expect(await store.findById('m2')).to.include({ roomId: 'r2', seq: 1 });
    // The search index was kept, not rebuilt: its entries still point at the right rows.
    const raw = new Database(join(dir, 'chat.db'), { readonly: true });
    expect(raw.prepare('SELECT count(*) FROM message_search').pluck().get()).to.equal(2);
    raw.close();
    expect((await store.searchMessages('r1', 'news', 10)).messages.map((m) => m.id)).to.deep.equal(['m1']);
    // An edit re-indexes through the new trigger.
    await store.change({ roomId: 'r1', seq: 1, op: { kind: 'edit', text: 'fresh words' }, actor: { id: 'u', moderator: false }, at: now });
    expect((await store.searchMessages('r1', 'news', 10)).messages).to.deep.equal([]);
    expect((await store.searchMessages('r1', 'fresh', 10)).messages.map((m) => m.id)).to.deep.equal(['m1']);
    // Dedup is per room, as before: the same clientMsgId is r2's stored message, and new in r1.
    const retry = await store.append({ id: randomUUID(), roomId: 'r2', senderId: 'u', senderName: 'U', text: 'again', clientMsgId: 'c1', createdAt: now });
    expect(retry).to.deep.include({ created: false });
    expect(retry.message.id).to.equal('m2');
    expect((await store.append({ id: randomUUID(), roomId: 'r1', senderId: 'u', senderName: 'U', text: 'new', clientMsgId: 'c2', createdAt: now })).message.seq).to.equal(3);
    // The newest room's key is taken again by the next room made: nothing of the old room shows.
    expect(await store.deleteRoom('r2')).to.equal(true);
    await store.createRoom({ id: 'r3', name: 'r', isPrivate: false, maxParticipants: 8, createdBy: 'u', createdAt: now });
    expect((await store.listMessages('r3', { limit: 10 })).messages).to.deep.equal([]);
    expect(await store.findById('m2')).to.equal(null);
    expect((await store.searchMessages('r3', 'news', 10)).messages).to.deep.equal([]);
    expect((await store.append({ id: randomUUID(), roomId: 'r3', senderId: 'u', senderName: 'U', text: 'x', clientMsgId: 'c1', createdAt: now })).message.seq).to.equal(1);
    await store.close();
  });

  it('gives a room made by an older process on the upgraded file its key: its messages are stored, here and from the queue', async () => {
    const dir = tempDir('vcs-store-');
    dirs.push(dir);
    const now = new Date().toISOString();
    const store = new SqliteStore({ dataDir: dir });
    // A process of an older release still running on the file makes a room the way it did.
    const older = new Database(join(dir, 'chat.db'));
    older.prepare("INSERT INTO rooms (id, name, is_private, max_participants, created_by, created_at, last_seq) VALUES ('old', 'r', 0, 8, 'u', ?, 0)").run(now);
    older.close();
    await store.createRoom({ id: 'new', name: 'r', isPrivate: false, maxParticipants: 8, createdBy: 'u', createdAt: now });
    const sent = await store.append({ id: randomUUID(), roomId: 'old', senderId: 'u', senderName: 'U', text: 'here', clientMsgId: 'c1', createdAt: now });
    expect(sent.message.seq).to.equal(1);
    const queued = { id: randomUUID(), roomId: 'old', seq: 2, senderId: 'u', senderName: 'U', text: 'queued', clientMsgId: 'c2', createdAt: now };
    expect(await store.insertAssigned([queued])).to.deep.equal({ dropped: 0 });
    expect((await store.listMessages('old', { limit: 10 })).messages.map((m) => m.text)).to.deep.equal(['here', 'queued']);
    expect((await store.listMessages('new', { limit: 10 })).messages).to.deep.equal([]);
    await store.close();
  });

  it('starts beside a migration that holds the file longer than the busy timeout: it waits, then opens', async () => {
    const dir = tempDir('vcs-store-');
    dirs.push(dir);
    const now = new Date().toISOString();
    const old = schemaV1WithOneMessage(dir, now);
    // The write lock held for 1.5 s, three times the store's busy timeout, as a large migration
    // in another process would hold it (WAL, as every file the store has opened is).
    old.pragma('journal_mode = WAL');
    old.exec('BEGIN IMMEDIATE');
    const store = pathToFileURL(join(process.cwd(), 'src/infra/sqlite/sqlite-store.ts')).href;
    const child = spawn(
      process.execPath,
      ['--import', 'tsx', '--input-type=module', '-e', `const { SqliteStore } = await import(${JSON.stringify(store)});
        const s = new SqliteStore({ dataDir: ${JSON.stringify(dir)} });
        const page = await s.listMessages('r1', { limit: 5 });
        await s.close();
        console.log(JSON.stringify(page.messages.map((m) => m.text)));`],
      { stdio: ['ignore', 'pipe', 'pipe'] },
    );
    const exited = new Promise((resolve) => child.on('exit', resolve));
    let out = '';
    child.stdout.on('data', (d: Buffer) => (out += d));
    child.stderr.on('data', (d: Buffer) => (out += d));
    await new Promise((resolve) => setTimeout(resolve, 1500));
    old.exec('COMMIT');
    old.close();
    const code = await exited;
    expect({ code, out: out.trim() }).to.deep.equal({ code: 0, out: '["kept"]' });
  });

  it('commits the writes already made before close() resolves', async () => {
    const dir = tempDir('vcs-store-');
    dirs.push(dir);
    const now = new Date().toISOString();
    const store = new SqliteStore({ dataDir: dir });
    await store.createRoom({ id: 'r1', name: 'r', isPrivate: false, maxParticipants: 8, createdBy: 'u', createdAt: now });
    const sends = Array.from({ length: 50 }, (_, i) =>
      store.append({ id: randomUUID(), roomId: 'r1', senderId: 'u', senderName: 'U', text: `m${i}`, clientMsgId: `c${i}`, createdAt: now }),
    );
    await store.close();
    expect((await Promise.all(sends)).map((r) => r.message.seq)).to.deep.equal(Array.from({ length: 50 }, (_, i) => i + 1));
    const reopened = new SqliteStore({ dataDir: dir });
    expect((await reopened.getRoom('r1'))?.lastSeq).to.equal(50);
    await reopened.close();
  });

  it('answers UNAVAILABLE when its writer thread dies, then starts a new one; a retry is not stored twice', async () => {
    const dir = tempDir('vcs-store-');
    dirs.push(dir);
    const now = new Date().toISOString();
    const stops: unknown[] = [];
    const store = new SqliteStore({ dataDir: dir, onWriterStopped: (err) => stops.push(err) });
    await store.createRoom({ id: 'r1', name: 'r', isPrivate: false, maxParticipants: 8, createdBy: 'u', createdAt: now });
    const send = (clientMsgId: string) =>
      store.append({ id: randomUUID(), roomId: 'r1', senderId: 'u', senderName: 'U', text: clientMsgId, clientMsgId, createdAt: now });
    const first = await send('c0');
    const rounds = 5;
    const outcomes: string[] = [];
    for (let i = 1; i <= rounds; i++) {
      // Fault injection: the thread is killed while a write is on its way to it. The append
      // is posted at the end of this turn, after terminate() was called, so it is almost
      // always lost with the thread; but Node may still let the dying thread run it, and
      // then its answer arrives first. Either outcome is a kept promise: committed and
      // acked, or UNAVAILABLE and not committed. Several rounds make sure the second is seen.
      const writer = (store as unknown as { writer: { worker: { terminate(): Promise<number> } } }).writer;
      const inFlight = send(`c${i}`);
      await writer.worker.terminate();
      const outcome = await inFlight.then(
        (r) => ({ stored: r.message.seq }),
        (e: { code?: string }) => ({ code: e.code }),
      );
      if ('stored' in outcome) expect(outcome.stored).to.equal(first.message.seq + i);
      else expect(outcome).to.deep.equal({ code: 'UNAVAILABLE' });
      outcomes.push('stored' in outcome ? 'stored' : 'UNAVAILABLE');
      // The operator hears of each death (the server logs it), once.
      expect(stops).to.have.length(i);
      // The client's retry, with the same clientMsgId, starts a new thread and is stored once.
      const retry = await send(`c${i}`);
      expect(retry.message.seq).to.equal(first.message.seq + i);
    }
    expect(outcomes).to.include('UNAVAILABLE');
    const page = await store.listMessages('r1', { limit: 10 });
    expect(page.messages.map((m) => m.clientMsgId)).to.deep.equal(Array.from({ length: rounds + 1 }, (_, i) => `c${i}`));
    await store.close();
    // A close is not a death.
    expect(stops).to.have.length(rounds);
  });
});
