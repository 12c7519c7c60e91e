import { expect } from 'chai';
import { randomUUID } from 'node:crypto';
import mongoose from 'mongoose';
import { MongoStore, type MongoStoreOptions } from '../../src/infra/mongo/mongo-store.js';
import type { Message } from '../../src/protocol/models.js';
import { searchTermsOf } from '../../src/protocol/search-terms.js';
import { describeWithMongo, needsFerret, TestFerretDb, uniqueDbName } from '../helpers/ferretdb.js';
import { freePort } from '../../support/loopback.js';
import { recordingLogger, type LogLine } from '../helpers/recording-logger.js';
import { silentLogger } from '../helpers/silent-logger.js';
import { eventually } from '../helpers/socket-client.js';
import { registerStoreContract } from './store-contract.js';

const everything = (lines: LogLine[]) => lines.map((l) => `${l.message} ${JSON.stringify(l.meta)}`).join('\n');
const errorCode = (p: Promise<unknown>) => p.then(() => 'resolved', (err: { code?: unknown; name?: string }) => String(err.code ?? err.name));
const room = (id = randomUUID()) => ({ id, name: 'r', isPrivate: false, maxParticipants: 8, createdBy: 'u', createdAt: new Date().toISOString() });
const message = (roomId: string, clientMsgId: string | null) => ({
  id: randomUUID(),
  roomId,
  senderId: 'u',
  senderName: 'U',
  text: `t ${clientMsgId}`,
  clientMsgId,
  createdAt: new Date().toISOString(),
});

/** The indexes of a collection, read over a connection of the test's own. */
async function indexesOf(uri: string, collection: string): Promise<{ key: Record<string, number>; unique?: boolean }[]> {
  const conn = await mongoose.createConnection(uri, { serverSelectionTimeoutMS: 3000 }).asPromise();
  try {
    return (await conn.db!.collection(collection).indexes()) as { key: Record<string, number>; unique?: boolean }[];
  } finally {
    await conn.close();
  }
}

describeWithMongo('MongoStore', (target) => {
  const open: MongoStore[] = [];
  const openStore = async (options: Partial<MongoStoreOptions> = {}) => {
    const store = new MongoStore({ uri: target.uri(), production: false, logger: silentLogger, ...options });
    open.push(store);
    await store.connect();
    return store;
  };
  afterEach(async () => {
    await Promise.all(open.splice(0).map((s) => s.close()));
  });

  // A fresh database per test (FerretDB keeps each in its own SQLite file).
  registerStoreContract('MongoDB', () => openStore());

  it('has its unique indexes on (roomId, seq), (roomId, clientKey) and read markers before it answers ping, on a fresh database', async () => {
    const uri = target.uri();
    const store = await openStore({ uri });
    await store.ping();
    const unique = (await indexesOf(uri, 'messages')).filter((i) => i.unique).map((i) => i.key);
    expect(unique).to.deep.include.members([
      { roomId: 1, seq: 1 },
      { roomId: 1, clientKey: 1 },
    ]);
    // One read marker per user and room, whatever the order of concurrent upserts.
    expect((await indexesOf(uri, 'read_markers')).filter((i) => i.unique).map((i) => i.key)).to.deep.include({ roomId: 1, userId: 1 });
  });

  it('moves members kept in room documents by earlier releases into room_members, the creator as owner', async () => {
    const uri = target.uri();
    // A room as the first releases wrote it: members in an array on the document.
    const conn = await mongoose.createConnection(uri, { serverSelectionTimeoutMS: 3000 }).asPromise();
    const now = new Date().toISOString();
    await conn.db!.collection('rooms').insertOne({ _id: 'legacy' as never, name: 'old', isPrivate: true, maxParticipants: 8, createdBy: 'ann', createdAt: now, lastSeq: 0, members: ['ann', 'bob'] });
    await conn.close();
    const store = await openStore({ uri });
    expect(await store.getMember('legacy', 'ann')).to.include({ role: 'owner', banned: false });
    expect(await store.getMember('legacy', 'bob')).to.include({ role: 'member', banned: false });
    expect(await store.getRoom('legacy')).to.deep.include({ locked: false, lobby: false });
    expect((await store.listRoomsOf('bob', { limit: 10 })).map((r) => r.id)).to.deep.equal(['legacy']);
    // Idempotent: a second open changes nothing.
    const again = await openStore({ uri });
    expect((await again.listMembers('legacy', { limit: 10 })).map((m) => m.userId)).to.deep.equal(['ann', 'bob']);
  });

  it('search: a multikey index on (roomId, terms); messages stored before search get their terms on open, once', async () => {
    const uri = target.uri();
    const store = await openStore({ uri });
    const { id: roomId } = await store.createRoom(room());
    await store.append({ ...message(roomId, 'new'), text: 'fresh words' });
    expect((await indexesOf(uri, 'messages')).map((i) => i.key)).to.deep.include({ roomId: 1, terms: 1 });
    // Documents as earlier releases stored them: no terms.
    const conn = await mongoose.createConnection(uri, { serverSelectionTimeoutMS: 3000 }).asPromise();
    const legacy = (seq: number, text: string) => ({ ...message(roomId, `old${seq}`), seq, text });
    const docs = [legacy(2, 'Old Words'), legacy(3, 'older words still')].map(({ id, ...m }) => ({ _id: id, ...m, clientKey: `c:${m.clientMsgId}` }));
    await conn.db!.collection<{ _id: string }>('messages').insertMany(docs);
    expect((await store.searchMessages(roomId, 'words', 10)).messages.map((m) => m.seq)).to.deep.equal([1]);
    const reopened = await openStore({ uri });
    expect((await reopened.searchMessages(roomId, 'words', 10)).messages.map((m) => m.seq)).to.have.members([1, 2, 3]);
    const stored = await conn.db!.collection<{ _id: string; terms?: string[] }>('messages').findOne({ _id: docs[0]!._id });
    expect(stored?.terms).to.deep.equal(['old', 'words']);
    // A text change (an edit; a delete empties it) sets the terms with it, and search follows.
    await conn.db!.collection<{ _id: string }>('messages').updateOne({ _id: docs[1]!._id }, { $set: { text: 'rewritten', terms: searchTermsOf('rewritten') } });
    await conn.db!.collection<{ _id: string }>('messages').updateOne({ _id: docs[0]!._id }, { $set: { text: '', terms: searchTermsOf('') } });
    expect((await reopened.searchMessages(roomId, 'words', 10)).messages.map((m) => m.seq)).to.deep.equal([1]);
    expect((await reopened.searchMessages(roomId, 'REWRITTEN', 10)).messages.map((m) => m.seq)).to.deep.equal([3]);
    await conn.close();
    // Idempotent: a further open changes nothing.
    const again = await openStore({ uri });
    expect((await again.searchMessages(roomId, 'words', 10)).messages.map((m) => m.seq)).to.deep.equal([1]);
  });

  it('two nodes appending to one room at once, with retries of the same clientMsgIds: seq 1..N, each message once', async function () {
    this.timeout(60_000);
    const uri = target.uri();
    const [a, b] = [await openStore({ uri, nodeId: 'a' }), await openStore({ uri, nodeId: 'b' })];
    const { id: roomId } = await a.createRoom(room());
    const sends = Array.from({ length: 40 }, (_, i) => `c${i}`);
    // Each clientMsgId is sent on both nodes at once, as a client retrying after a lost ack would.
    const results = await Promise.all(sends.flatMap((c) => [a.append(message(roomId, c)), b.append(message(roomId, c))]));
    const stored = (await a.listMessages(roomId, { after: 0, limit: 100 })).messages;
    expect(stored.map((m) => m.seq)).to.deep.equal(Array.from({ length: 40 }, (_, i) => i + 1));
    expect(new Set(stored.map((m) => m.clientMsgId)).size).to.equal(40);
    expect(results.filter((r) => r.created)).to.have.length(40);
    for (const r of results) expect(stored[r.message.seq - 1]).to.deep.equal(r.message);
    expect((await b.getRoom(roomId))!.lastSeq).to.equal(40);
  });

  it('a retry on another node than the one that stored the message is delivered again; on the same node it is not', async () => {
    const uri = target.uri();
    const [a, b] = [await openStore({ uri, nodeId: 'a' }), await openStore({ uri, nodeId: 'b' })];
    const { id: roomId } = await a.createRoom(room());
    const first = await a.append(message(roomId, 'x'));
    expect(await a.append(message(roomId, 'x'))).to.deep.equal({ message: first.message, created: false });
    expect(await b.append(message(roomId, 'x'))).to.deep.equal({ message: first.message, created: false, deliverAgain: true });
  });

  it('a node that died between storing a message and raising the counter: the next send skips the slot, a retry gets it back and repairs', async () => {
    const uri = target.uri();
    const store = await openStore({ uri, nodeId: 'b' });
    const { id: roomId } = await store.createRoom(room());
    // What a node leaves behind when it is killed right after the insert of seq 1: the message, an unmoved counter.
    const conn = await mongoose.createConnection(uri).asPromise();
    const orphan = { ...message(roomId, 'x'), seq: 1 };
    const { id, ...fields } = orphan;
    await conn.db!.collection<{ _id: string; clientKey: string; node: string }>('messages').insertOne({ _id: id, ...fields, clientKey: 'c:x', node: 'dead-node' });
    await conn.close();
    expect([(await store.getRoom(roomId))!.lastSeq, await store.lastSeq(roomId)]).to.deep.equal([0, 1]);
    const next = await store.append(message(roomId, 'y'));
    expect(next.message.seq).to.equal(2);
    // The retry (on another node: its first fan-out died with that node) gets the original back.
    expect(await store.append(message(roomId, 'x'))).to.deep.equal({ message: orphan, created: false, deliverAgain: true });
    expect((await store.getRoom(roomId))!.lastSeq).to.equal(2);
  });

  it('answers UNAVAILABLE while the server is unreachable at start, then connects by itself: indexes first, its options kept', async function () {
    this.timeout(30_000);
    const later = new TestFerretDb(needsFerret(target, this).bin);
    later.port = await freePort();
    const uri = later.uri();
    const store = await openStore({ uri, production: true, serverSelectionTimeoutMs: 500, reconnectDelayMs: 200 });
    try {
      expect(await errorCode(store.ping())).to.equal('UNAVAILABLE');
      expect(await errorCode(store.createRoom(room()))).to.equal('UNAVAILABLE');
      await later.start();
      await eventually(() => store.ping().then(() => true, () => false), 10_000, 'the store to connect');
      // Up means indexed: the unique indexes exist by the time ping answers.
      expect((await indexesOf(uri, 'messages')).filter((i) => i.unique)).to.have.length(2);
      // The reconnect kept the connection options (a bare openUri(uri) would drop them).
      const options = store.conn.getClient().options;
      expect([options.serverSelectionTimeoutMS, options.socketTimeoutMS > 0]).to.deep.equal([500, true]);
      expect(options.writeConcern).to.deep.include({ w: 'majority', journal: true });
      const { id } = await store.createRoom(room());
      expect((await store.append(message(id, 'after-start'))).message.seq).to.equal(1);
      // And it fails fast when the server goes away again (the 500 ms selection timeout, not 30 s).
      await later.kill();
      const t0 = Date.now();
      expect(await errorCode(store.getRoom(id))).to.equal('UNAVAILABLE');
      expect(Date.now() - t0).to.be.below(2500);
    } finally {
      await later.stop();
    }
  });

  it('names MONGODB_URI, with the password masked, when the server is unreachable', async () => {
    const logger = recordingLogger();
    const port = await freePort();
    await openStore({ uri: `mongodb://chat:s3cret-pw@127.0.0.1:${port}/chat`, logger, serverSelectionTimeoutMs: 300, reconnectDelayMs: 60_000 });
    const line = logger.lines.find((l) => l.level === 'error')?.message;
    expect(line).to.match(/MONGODB_URI/).and.match(new RegExp(`127\\.0\\.0\\.1:${port}`)).and.match(/unreachable/i);
    expect(everything(logger.lines)).not.to.contain('s3cret-pw');
  });

  it('names MONGODB_URI, with the password masked, for "MongoServerError: Authentication failed"', async function () {
    this.timeout(20_000);
    // FerretDB's SQLite backend authenticates with its new auth and a user made at setup.
    const secured = new TestFerretDb(needsFerret(target, this).bin, { auth: { user: 'chat', password: 'right-pw', database: 'chat' } });
    await secured.start();
    try {
      const logger = recordingLogger();
      const store = await openStore({ uri: `mongodb://chat:wrong-pw@127.0.0.1:${secured.port}/chat`, logger, reconnectDelayMs: 60_000 });
      const line = logger.lines.find((l) => l.level === 'error')?.message;
      expect(line).to.match(/MONGODB_URI/).and.match(/Authentication failed/).and.match(/chat:\*\*\*\*@127\.0\.0\.1/);
      expect(everything(logger.lines)).not.to.contain('wrong-pw');
      expect(await errorCode(store.ping())).to.equal('UNAVAILABLE');
      // The right password works against the same server.
      const good = await openStore({ uri: `mongodb://chat:right-pw@127.0.0.1:${secured.port}/chat` });
      await good.ping();
    } finally {
      await secured.stop();
    }
  });

  it('killed and restarted under appends: UNAVAILABLE while down, every retried send stored once, seq without gaps', async function () {
    this.timeout(60_000);
    const ferret = needsFerret(target, this);
    const store = await openStore({ uri: ferret.uri(uniqueDbName()), serverSelectionTimeoutMs: 500 });
    const { id: roomId } = await store.createRoom(room());
    const acked = new Map<string, Message>();
    const codes = new Set<string>();
    let stop = false;
    const sender = async (name: string) => {
      for (let i = 0; !stop; i++) {
        const m = message(roomId, `${name}-${i}`);
        for (let ok = false; !ok; ) {
          ok = await store.append({ ...m, id: randomUUID() }).then(
            (r) => (acked.set(m.clientMsgId!, r.message), true),
            (err: { code?: string }) => (codes.add(String(err.code)), new Promise<boolean>((r) => setTimeout(() => r(false), 50))),
          );
        }
      }
    };
    const senders = ['a', 'b', 'c'].map(sender);
    await eventually(() => acked.size >= 20, 10_000, 'traffic');
    await ferret.kill();
    await new Promise((r) => setTimeout(r, 700));
    await ferret.start();
    await eventually(() => acked.size >= 60, 20_000, 'traffic after the restart');
    stop = true;
    await Promise.all(senders);
    expect([...codes]).to.deep.equal(['UNAVAILABLE']);
    const stored = (await store.listMessages(roomId, { after: 0, limit: 100 })).messages;
    expect(stored.map((m) => m.seq)).to.deep.equal(Array.from({ length: stored.length }, (_, i) => i + 1));
    expect(stored.length).to.equal(acked.size);
    for (const [clientMsgId, m] of acked) expect(stored[m.seq - 1]!.clientMsgId).to.equal(clientMsgId);
    expect((await store.getRoom(roomId))!.lastSeq).to.equal(stored.length);
  });
});
