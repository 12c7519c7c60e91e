import Database from 'better-sqlite3';
import { expect } from 'chai';
import { randomUUID } from 'node:crypto';
import { rmSync } from 'node:fs';
import { join } from 'node:path';
import { registerSearchFunction } from '../../src/infra/sqlite/sqlite-connection.js';
import { INDEX_CHUNK } from '../../src/infra/sqlite/sqlite-search-index.js';
import { SqliteStore } from '../../src/infra/sqlite/sqlite-store.js';
import type { Message } from '../../src/protocol/models.js';
import { tempDir } from '../helpers/test-server.js';

/**
 * The SQLite search index from the inside: a send leaves it alone, a search brings its room
 * up to date (search_progress), late messages, edits and deletes keep it exact. What every
 * store must find is the contract's (store-search-contract.ts); this reads the tables.
 */
describe('SqliteStore search index', () => {
  let dir: string;
  let store: SqliteStore;
  let raw: Database.Database;
  const now = new Date().toISOString();
  const hex = (roomId: string) => Buffer.from(roomId, 'utf8').toString('hex');
  /** Index entries of the room, and its progress (null: no row). */
  const indexOf = (roomId: string) => ({
    entries: raw.prepare<[string], number>('SELECT count(*) FROM message_search WHERE message_search MATCH ?').pluck().get(`room : "${hex(roomId)}"`),
    progress: raw.prepare<[string], number>('SELECT seq FROM search_progress WHERE room_id = ?').pluck().get(roomId) ?? null,
  });
  const room = async () => (await store.createRoom({ id: randomUUID(), name: 'r', isPrivate: false, maxParticipants: 8, createdBy: 'u', createdAt: now })).id;
  const assigned = (roomId: string, seq: number, text: string): Message => ({ id: randomUUID(), roomId, seq, senderId: 'u', senderName: 'U', text, clientMsgId: null, createdAt: now });
  const send = (roomId: string, text: string) => store.append({ id: randomUUID(), roomId, senderId: 'u', senderName: 'U', text, clientMsgId: null, createdAt: now });
  const found = async (roomId: string, q: string, limit = 10) => (await store.searchMessages(roomId, q, limit)).messages.map((m) => m.seq);

  beforeEach(() => {
    dir = tempDir('vcs-search-');
    store = new SqliteStore({ dataDir: dir });
    raw = new Database(join(dir, 'chat.db'), { readonly: true });
  });
  afterEach(async () => {
    raw.close();
    await store.close();
    rmSync(dir, { recursive: true, force: true });
  });

  it('leaves a sent message out of the index; a search indexes its own room up to the newest message, the next one what came since', async () => {
    const [a, b] = [await room(), await room()];
    await Promise.all(Array.from({ length: 30 }, (_, i) => send(a, `note ${i}`)));
    await send(b, 'note elsewhere');
    expect([indexOf(a), indexOf(b)]).to.deep.equal([{ entries: 0, progress: null }, { entries: 0, progress: null }]);
    expect(await found(a, 'note', 50)).to.have.length(30);
    expect([indexOf(a), indexOf(b)]).to.deep.equal([{ entries: 30, progress: 30 }, { entries: 0, progress: null }]);
    await send(a, 'note 30');
    expect(indexOf(a)).to.deep.equal({ entries: 30, progress: 30 });
    expect(await found(a, '30')).to.deep.equal([31]);
    expect(indexOf(a)).to.deep.equal({ entries: 31, progress: 31 });
  });

  it('indexes a late message (below the progress) on insert; a seq gap does not hold the progress back', async () => {
    const a = await room();
    await store.insertAssigned([assigned(a, 1, 'one'), assigned(a, 2, 'two'), assigned(a, 4, 'four')]);
    expect(await found(a, 'four')).to.deep.equal([4]);
    expect(indexOf(a)).to.deep.equal({ entries: 3, progress: 4 });
    await store.insertAssigned([assigned(a, 3, 'three came late')]);
    expect(indexOf(a)).to.deep.equal({ entries: 4, progress: 4 });
    expect(await found(a, 'late')).to.deep.equal([3]);
  });

  it('re-indexes an edit only where the room is indexed, and a delete (text emptied) or removed row leaves no entry', async () => {
    const a = await room();
    await store.insertAssigned([assigned(a, 1, 'first draft'), assigned(a, 2, 'to be removed'), assigned(a, 3, 'third draft')]);
    // Edits and deletes as any writer makes them: an UPDATE of the text column (store.change does that too).
    const writer = new Database(join(dir, 'chat.db'));
    registerSearchFunction(writer);
    const setText = writer.prepare<[string, number]>('UPDATE messages SET text = ? WHERE seq = ?');
    setText.run('final wording', 1);
    expect(indexOf(a).entries).to.equal(0);
    expect([await found(a, 'draft'), await found(a, 'final wording')]).to.deep.equal([[3], [1]]);
    setText.run('', 2);
    setText.run('last wording', 3);
    expect(indexOf(a)).to.deep.equal({ entries: 2, progress: 3 });
    expect([await found(a, 'draft'), await found(a, 'removed'), await found(a, 'wording')]).to.deep.equal([[], [], [3, 1]]);
    writer.prepare('DELETE FROM messages WHERE seq = 1').run();
    writer.close();
    expect(indexOf(a).entries).to.equal(1);
  });

  it('a deleted room leaves no progress row and no index entries; its messages are not found', async () => {
    const [a, b] = [await room(), await room()];
    await Promise.all([send(a, 'shared word'), send(a, 'shared again'), send(b, 'shared too')]);
    await found(a, 'shared');
    await found(b, 'shared');
    await store.deleteRoom(a);
    expect([indexOf(a), indexOf(b)]).to.deep.equal([{ entries: 0, progress: null }, { entries: 1, progress: 1 }]);
    expect(raw.prepare('SELECT count(*) FROM message_search').pluck().get()).to.equal(1);
    expect(await found(a, 'shared')).to.deep.equal([]);
  });

  it('indexes a backlog of several chunks, one transaction each: an append made meanwhile is stored between them', async function () {
    this.timeout(60_000);
    const a = await room();
    const total = 2 * INDEX_CHUNK + 100;
    for (let seq = 1; seq <= total; seq += 1000) {
      await store.insertAssigned(Array.from({ length: Math.min(1000, total - seq + 1) }, (_, i) => assigned(a, seq + i, `backlog message ${seq + i}`)));
    }
    const order: string[] = [];
    const search = store.searchMessages(a, 'backlog', 5).then((page) => (order.push('search'), page));
    const append = send(a, 'sent meanwhile').then((r) => (order.push('append'), r));
    const [page, appended] = await Promise.all([search, append]);
    expect(order).to.deep.equal(['append', 'search']);
    expect(page.hasMore).to.equal(true);
    // The search indexed what was stored when it began; the message sent meanwhile waits for the next one.
    expect(indexOf(a)).to.deep.equal({ entries: total, progress: total });
    expect(await found(a, 'meanwhile')).to.deep.equal([appended.message.seq]);
  });

  it('two handles on one file (two processes): a late message stored by one is found by the search of the other', async () => {
    const a = await room();
    const other = new SqliteStore({ dataDir: dir });
    try {
      await other.insertAssigned([assigned(a, 1, 'alpha'), assigned(a, 3, 'gamma')]);
      expect(await found(a, 'gamma')).to.deep.equal([3]);
      await other.insertAssigned([assigned(a, 2, 'beta late')]);
      await other.append({ id: randomUUID(), roomId: a, senderId: 'u', senderName: 'U', text: 'delta after', clientMsgId: null, createdAt: now });
      expect([await found(a, 'beta'), await found(a, 'delta')]).to.deep.equal([[2], [4]]);
      expect((await other.searchMessages(a, 'alpha beta gamma delta', 10)).messages).to.deep.equal([]);
      expect(indexOf(a)).to.deep.equal({ entries: 4, progress: 4 });
    } finally {
      await other.close();
    }
  });
});
