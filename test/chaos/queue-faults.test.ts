import { expect } from 'chai';
import { createClient } from 'redis';
import type { Socket } from 'socket.io-client';
import { createRoom, guest, request } from '../helpers/http-client.js';
import { ask, connect, eventually } from '../helpers/socket-client.js';
import { describeWithRedis, startCluster, type TestCluster } from '../helpers/cluster.js';
import { checkHistory, expectClean } from '../../support/history-checker.js';
import { ChatSender } from '../helpers/traffic.js';
import { queueFigures } from '../helpers/queue-figures.js';
import { QueueLayout } from '../../src/infra/redis/queue-layout.js';

/** The servers' default QUEUE_PARTITIONS: where a room's queue entries go. */
const queueOf = (roomId: string) => new QueueLayout(16).partitionOf(roomId).queue;

const ADMIN = 'admin-token-for-tests-0123456789';

describeWithRedis('durable queue: poison entries, dead letters and the admin API', () => {
  let cluster: TestCluster;
  let redis: ReturnType<typeof createClient>;
  const sockets: Socket[] = [];

  before(async () => {
    cluster = await startCluster(2, { QUEUE_MAX_ATTEMPTS: '3', ADMIN_TOKEN: ADMIN, RATE_LIMIT_HTTP: '100000' });
    redis = createClient({ url: cluster.redis.url });
    await redis.connect();
  });
  after(async () => {
    sockets.forEach((s) => s.close());
    await redis?.close();
    await cluster?.stop();
  });
  const admin = (method: string, path: string, token = ADMIN) => request(cluster.nodes[0]!.url, method, path, { token });

  it('a poison entry ends in the dead-letter list exactly once while healthy messages keep flowing', async () => {
    const ann = await guest(cluster.nodes[0]!.url, 'ann');
    const room = await createRoom(cluster.nodes[0]!.url, ann.token);
    const s = await connect(cluster.nodes[1]!.url, '/chat', ann.token);
    sockets.push(s);
    await ask(s, 'room:join', { roomId: room.id });
    // Written straight into the queue: one that is not JSON, one missing its fields.
    await redis.xAdd(queueOf(room.id), '*', { room: room.id, seq: '999', m: 'not json at all' });
    await redis.xAdd(queueOf(room.id), '*', { room: room.id, seq: '998', m: JSON.stringify({ id: 'poison-2', roomId: room.id, seq: 998 }) });
    const sender = new ChatSender(s, room.id, 'healthy');
    for (let i = 0; i < 10; i++) expect(await sender.sendOne()).to.equal(true);

    const probe = await admin('GET', '/api/admin/dead-letters');
    if (!probe.body.deadLetters) throw new Error(JSON.stringify(probe));
    await eventually(async () => (await admin('GET', '/api/admin/dead-letters')).body.deadLetters.length === 2, 10_000, 'two dead letters');
    const stored = await eventually(async () => (await cluster.nodes[0]!.app.store.listMessages(room.id, { limit: 100 })).messages.length === 10, 10_000, 'healthy persisted');
    void stored;
    const { deadLetters } = (await admin('GET', '/api/admin/dead-letters')).body;
    expect(deadLetters.map((d: { attempts: number }) => d.attempts)).to.deep.equal([3, 3]);
    expect(deadLetters[0].reason).to.match(/cannot be parsed/);
    expect(deadLetters[0]).to.include.keys('id', 'reason', 'attempts', 'firstSeenAt', 'entry');
    expect(Number.isNaN(Date.parse(deadLetters[0].firstSeenAt))).to.equal(false);
    const messages = (await cluster.nodes[0]!.app.store.listMessages(room.id, { limit: 100 })).messages;
    expectClean(checkHistory({ stored: messages, senders: [sender] }));
    expect((await queueFigures(cluster.redis.url)).depth).to.equal(0);

    // Operator API: auth, retry (back to the queue, dead again after its attempts), delete.
    expect((await request(cluster.nodes[0]!.url, 'GET', '/api/admin/dead-letters')).status).to.equal(401);
    expect((await admin('GET', '/api/admin/dead-letters', 'not-the-admin-token')).body.error.code).to.equal('FORBIDDEN');
    expect((await admin('GET', '/api/admin/dead-letters', ann.token)).status).to.equal(403);
    const retried = await admin('POST', `/api/admin/dead-letters/${deadLetters[0].id}/retry`);
    expect(retried.status).to.equal(202);
    await eventually(async () => {
      const list = (await admin('GET', '/api/admin/dead-letters')).body.deadLetters;
      return list.length === 2 && !list.some((d: { id: string }) => d.id === deadLetters[0].id);
    }, 10_000, 'retried entry dead again under a new id');
    for (const d of (await admin('GET', '/api/admin/dead-letters')).body.deadLetters) {
      expect((await admin('DELETE', `/api/admin/dead-letters/${d.id}`)).status).to.equal(204);
    }
    expect((await admin('GET', '/api/admin/dead-letters')).body.deadLetters).to.deep.equal([]);
    const missing = await admin('DELETE', `/api/admin/dead-letters/${deadLetters[1].id}`);
    expect([missing.status, missing.body.error.code]).to.deep.equal([404, 'DEAD_LETTER_NOT_FOUND']);
    expect((await admin('POST', '/api/admin/dead-letters/nonsense/retry')).body.error.code).to.equal('DEAD_LETTER_NOT_FOUND');
  });

  // The store's refusal path, as opposed to an entry that cannot be parsed: a real store
  // refuses a well-formed entry because its seq is taken, as after Redis went back in time
  // (a failover to a replica that lagged, a restore from an old snapshot).
  it('an entry the store refuses (its seq is taken) is dead-lettered after its attempts, the counter is raised, what was stored is kept', async () => {
    const ann = await guest(cluster.nodes[0]!.url, 'ann');
    const room = await createRoom(cluster.nodes[0]!.url, ann.token);
    const s = await connect(cluster.nodes[1]!.url, '/chat', ann.token);
    sockets.push(s);
    await ask(s, 'room:join', { roomId: room.id });
    const sender = new ChatSender(s, room.id, 'kept');
    for (let i = 0; i < 5; i++) expect(await sender.sendOne()).to.equal(true);
    const stored = async () => (await cluster.nodes[0]!.app.store.listMessages(room.id, { limit: 100 })).messages;
    await eventually(async () => (await stored()).length === 5, 10_000, 'five stored');
    const original = (await stored())[2]!;

    // Redis as an older snapshot left it: the counter at 2, no recent log past it.
    const keys = new QueueLayout(16).room(room.id);
    await redis.multi().set(keys.seq, '2').del(keys.log).exec();
    const reused = await ask(s, 'chat:send', { roomId: room.id, clientMsgId: 'reused-seq', text: 'takes a seq that is stored' });
    expect(reused, JSON.stringify(reused)).to.have.property("ok", true);
    expect(reused.message.seq).to.equal(3);
    const deadLetterOf = async () =>
      ((await admin('GET', '/api/admin/dead-letters')).body.deadLetters as { attempts: number; reason: string; entry: { m: string } }[]).find((d) =>
        d.entry.m.includes(reused.message.id),
      );
    await eventually(async () => (await deadLetterOf()) !== undefined, 10_000, 'refused entry dead-lettered');
    const dead = (await deadLetterOf())!;
    expect(dead.attempts).to.equal(3);
    expect(dead.reason).to.match(/seq 3 .* already taken/);

    // What was stored stays, in the store and in history (which merges Redis's recent log).
    expect((await stored()).map((m) => [m.seq, m.clientMsgId])).to.deep.equal([...sender.acked].map(([id, seq]) => [seq, id]));
    const history = await request(cluster.nodes[1]!.url, 'GET', `/api/messages?roomId=${room.id}&limit=50`, { token: ann.token });
    expect(history.body.messages.find((m: { seq: number }) => m.seq === 3)).to.deep.include({ id: original.id, text: original.text });
    // The counter was raised past what is stored: the next message takes seq 6 and is stored.
    const next = await ask(s, 'chat:send', { roomId: room.id, clientMsgId: 'after-repair', text: 'next' });
    expect(next.message.seq).to.equal(6);
    await eventually(async () => (await stored()).length === 6, 10_000, 'the next message stored');
    expect((await queueFigures(cluster.redis.url)).depth).to.equal(0);
  });

  it('entries held by a consumer that died are claimed and persisted once', async () => {
    const own = await startCluster(0);
    try {
      const ann = { roomId: '' };
      const node = await own.addNode({ QUEUE_CLAIM_IDLE_MS: '500' });
      const u = await guest(node.url, 'ann');
      ann.roomId = (await createRoom(node.url, u.token)).id;
      // Stop the node's own consumer from winning the race: a "dead" consumer reads first.
      const r = createClient({ url: own.redis.url });
      await r.connect();
      await node.app.stop();
      const messages = [1, 2, 3].map((seq) => ({ id: `dead-${seq}`, roomId: ann.roomId, seq, senderId: u.user.id, senderName: 'ann', text: `m${seq}`, clientMsgId: `d${seq}`, createdAt: new Date().toISOString() }));
      for (const m of messages) await r.xAdd(queueOf(ann.roomId), '*', { room: m.roomId, seq: String(m.seq), m: JSON.stringify(m) });
      await r.xReadGroup('persist', 'dead-node', { key: queueOf(ann.roomId), id: '>' }, { COUNT: 10 });
      expect(Number((await r.xPending(queueOf(ann.roomId), 'persist')).pending)).to.equal(3);
      const survivor = await own.addNode({ QUEUE_CLAIM_IDLE_MS: '500' });
      await eventually(async () => Number((await r.xPending(queueOf(ann.roomId), 'persist')).pending) === 0, 10_000, 'claimed and acked');
      const stored = await survivor.app.store.listMessages(ann.roomId, { limit: 10 });
      expect(stored.messages.map((m) => m.clientMsgId)).to.deep.equal(['d1', 'd2', 'd3']);
      await r.close();
    } finally {
      await own.stop();
    }
  });
});
