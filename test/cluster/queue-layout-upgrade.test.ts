import { expect } from 'chai';
import { createClient } from 'redis';
import type { Socket } from 'socket.io-client';
import { QueueLayout } from '../../src/infra/redis/queue-layout.js';
import { SqliteStore } from '../../src/infra/sqlite/sqlite-store.js';
import type { Message } from '../../src/protocol/models.js';
import { describeWithRedis, startCluster, type TestCluster } from '../helpers/cluster.js';
import { createRoom, guest, request } from '../helpers/http-client.js';
import { queueFigures } from '../helpers/queue-figures.js';
import { ask, connect, eventually } from '../helpers/socket-client.js';

const ADMIN = 'admin-token-for-tests-0123456789';

/**
 * Upgrading from the release with one queue stream and `chat:{roomId}:…` keys. The Redis
 * state of that release is written here in its own formats (its append script: INCR the
 * counter, XADD the log at `<seq>-0` and the queue, SET the record "<node>\n<seq>").
 */
describeWithRedis('upgrade: a Redis holding the keys of the release before partitioned queues', function () {
  this.timeout(40_000);
  let cluster: TestCluster;
  let redis: ReturnType<typeof createClient>;
  const sockets: Socket[] = [];

  beforeEach(async () => {
    cluster = await startCluster(0, { ADMIN_TOKEN: ADMIN });
    redis = createClient({ url: cluster.redis.url });
    await redis.connect();
  });
  afterEach(async () => {
    sockets.splice(0).forEach((s) => s.close());
    await redis?.close();
    await cluster?.stop();
  });

  /** A room whose messages 1–3 are stored and 4–5 still in the old queue; one old dead letter. */
  async function earlierReleaseState() {
    const first = await cluster.addNode();
    const ann = await guest(first.url, 'ann');
    const room = await createRoom(first.url, ann.token);
    await first.stop();
    cluster.nodes.splice(0);
    await redis.flushAll();
    const messages: Message[] = [1, 2, 3, 4, 5].map((seq) => ({
      id: `old-${seq}`, roomId: room.id, seq, senderId: ann.user.id, senderName: 'ann', text: `old ${seq}`, clientMsgId: `old-c${seq}`, createdAt: new Date().toISOString(),
    }));
    const store = new SqliteStore({ dataDir: cluster.dataDir });
    await store.insertAssigned(messages.slice(0, 3)).finally(() => store.close());
    await redis.xGroupCreate('chat:queue', 'persist', '$', { MKSTREAM: true });
    for (const m of messages) {
      await redis.incr(`chat:{${room.id}}:seq`);
      await redis.xAdd(`chat:{${room.id}}:log`, `${m.seq}-0`, { m: JSON.stringify(m) });
      await redis.set(`chat:{${room.id}}:idem:${m.clientMsgId}`, `node-old\n${m.seq}`);
      if (m.seq > 3) await redis.xAdd('chat:queue', '*', { room: room.id, seq: String(m.seq), m: JSON.stringify(m) });
    }
    await redis.xAdd('chat:dead-letters', '*', { entryId: '1-0', reason: 'old failure', attempts: '5', firstSeenAt: new Date().toISOString(), entry: JSON.stringify({ room: room.id, seq: '9', m: 'not json' }) });
    return { ann, room, messages };
  }

  it('starts on them: seqs go on from the old counter, old retries find their originals, the old queue drains, old dead letters are listed', async () => {
    const { ann, room } = await earlierReleaseState();
    const node = await cluster.addNode();
    const keys = new QueueLayout(16).room(room.id);
    expect(await redis.exists([`chat:{${room.id}}:seq`, `chat:{${room.id}}:log`, `chat:{${room.id}}:idem:old-c5`])).to.equal(0);
    expect(await redis.get(keys.seq)).to.equal('5');

    const s = await connect(node.url, '/chat', ann.token);
    sockets.push(s);
    const joined = await ask(s, 'room:join', { roomId: room.id });
    expect(joined.room.lastSeq).to.equal(5);
    expect(joined.messages.map((m: Message) => m.seq)).to.deep.equal([1, 2, 3, 4, 5]);
    const retry = await ask(s, 'chat:send', { roomId: room.id, clientMsgId: 'old-c5', text: 'old 5' });
    expect(retry.message).to.include({ id: 'old-5', seq: 5 });
    const fresh = await ask(s, 'chat:send', { roomId: room.id, clientMsgId: 'new-1', text: 'new' });
    expect(fresh.message.seq).to.equal(6);

    // The old stream's entries reach the store, once, next to the new message.
    const stored = async () => (await node.app.store.listMessages(room.id, { after: 0, limit: 100 })).messages.map((m) => m.clientMsgId);
    await eventually(async () => (await stored()).length === 6, 10_000, 'old queue and new message stored');
    expect(await stored()).to.deep.equal(['old-c1', 'old-c2', 'old-c3', 'old-c4', 'old-c5', 'new-1']);
    expect(await queueFigures(cluster.redis.url)).to.deep.include({ depth: 0, pending: 0 });

    const listed = (await request(node.url, 'GET', '/api/admin/dead-letters', { token: ADMIN })).body.deadLetters;
    expect(listed.map((d: { reason: string }) => d.reason)).to.deep.equal(['old failure']);
    expect((await request(node.url, 'DELETE', `/api/admin/dead-letters/${listed[0].id}`, { token: ADMIN })).status).to.equal(204);
  });

  it('refuses to start while a node of the earlier release is running, naming it', async () => {
    const { room } = await earlierReleaseState();
    await redis.zAdd('nodes:heartbeat', { score: Date.now(), value: 'old-node' });
    let refusal: Error | undefined;
    await cluster.addNode().catch((err: Error) => (refusal = err));
    expect(refusal?.message).to.match(/earlier release are running \(old-node\)/);
    // Nothing was moved: the running node of the earlier release still finds its keys.
    expect(await redis.get(`chat:{${room.id}}:seq`)).to.equal('5');
  });

  it('records QUEUE_PARTITIONS on first start and refuses a node with another value', async () => {
    await cluster.addNode({ QUEUE_PARTITIONS: '8' });
    expect(await redis.hGet('chat:meta', 'partitions')).to.equal('8');
    let refusal: Error | undefined;
    await cluster.addNode({ QUEUE_PARTITIONS: '16' }).catch((err: Error) => (refusal = err));
    expect(refusal?.message).to.match(/QUEUE_PARTITIONS=16, but this Redis holds chat data laid out for QUEUE_PARTITIONS=8/);
    await cluster.addNode({ QUEUE_PARTITIONS: '8' });
  });
});
