import { expect } from 'chai';
import { createClient } from 'redis';
import type { Socket } from 'socket.io-client';
import { unavailable } from '../../src/domain/app-error.js';
import { SqliteStore } from '../../src/infra/sqlite/sqlite-store.js';
import { QueueLayout } from '../../src/infra/redis/queue-layout.js';
import type { Store } from '../../src/ports/store.js';
import { createRoom, guest, request } from '../helpers/http-client.js';
import { describeWithRedis, queueDrained, startCluster, type TestCluster } from '../helpers/cluster.js';
import { ask, connect } from '../helpers/socket-client.js';

/**
 * Changes in cluster mode while the store cannot take the queue: every change is acked from
 * Redis, every read path serves the current state (the recent log holds the old text), and
 * once the store is back the consumer applies them, higher rev winning, and Redis forgets them.
 */
describeWithRedis('cluster: edits, deletes and reactions travel through the queue', () => {
  let cluster: TestCluster;
  let redis: ReturnType<typeof createClient>;
  const gate = { down: false };
  const sockets: Socket[] = [];

  /** A node's store whose queue writes fail (UNAVAILABLE) while the gate is down; reads work. */
  const gatedStore = (dataDir: string): Store => {
    const store = new SqliteStore({ dataDir });
    return new Proxy(store, {
      get(target, prop, receiver) {
        const value = Reflect.get(target, prop, receiver) as unknown;
        if ((prop === 'insertAssigned' || prop === 'applyAssigned') && typeof value === 'function') {
          return (...args: unknown[]) => (gate.down ? Promise.reject(unavailable('test: store down')) : (value as (...a: unknown[]) => unknown).apply(target, args));
        }
        return typeof value === 'function' ? (value as (...a: unknown[]) => unknown).bind(target) : value;
      },
    });
  };

  before(async () => {
    cluster = await startCluster(0);
    for (let i = 0; i < 2; i++) await cluster.addNode({}, { store: gatedStore(cluster.dataDir) });
    redis = createClient({ url: cluster.redis.url });
    await redis.connect();
  });
  after(async () => {
    sockets.forEach((s) => s.close());
    await redis?.close();
    await cluster?.stop();
  });

  it('acks changes from Redis, serves them on every read path while queued, then stores them', async () => {
    const [nodeA, nodeB] = [cluster.nodes[0]!.url, cluster.nodes[1]!.url];
    const ann = await guest(nodeA, 'ann');
    const room = await createRoom(nodeA, ann.token);
    const a = await connect(nodeA, '/chat', ann.token);
    const b = await connect(nodeB, '/chat', ann.token);
    sockets.push(a, b);
    await ask(a, 'room:join', { roomId: room.id });
    await ask(b, 'room:join', { roomId: room.id });

    gate.down = true;
    for (let i = 1; i <= 3; i++) expect((await ask(a, 'chat:send', { roomId: room.id, clientMsgId: `m${i}`, text: `text ${i}` })).ok).to.equal(true);
    expect((await ask(a, 'chat:edit', { roomId: room.id, seq: 1, text: 'edited 1' })).message.rev).to.equal(1);
    expect((await ask(b, 'chat:react', { roomId: room.id, seq: 2, emoji: '👍', on: true })).message.rev).to.equal(2);
    const deleted = (await ask(b, 'chat:delete', { roomId: room.id, seq: 3 })).message;
    expect(deleted).to.include({ rev: 3, text: '' });
    const final1 = (await ask(b, 'chat:edit', { roomId: room.id, seq: 1, text: 'edited again' })).message;
    expect(final1.rev).to.equal(4);
    expect(await cluster.nodes[0]!.app.store.getMessage(room.id, 1)).to.equal(null);

    // Every read path has the current state, though only Redis holds it.
    const history = (await ask(b, 'chat:history', { roomId: room.id, after: 0 })).messages;
    expect(history.map((m: { text: string; rev?: number }) => [m.text, m.rev])).to.deep.equal([
      ['edited again', 4],
      ['text 2', 2],
      ['', 3],
    ]);
    expect((await ask(a, 'chat:send', { roomId: room.id, clientMsgId: 'm3', text: 'text 3' })).message).to.deep.equal(deleted);
    const rejoined = await ask(b, 'room:join', { roomId: room.id, lastSeq: 3, lastRev: 1 });
    expect(rejoined.updates.map((m: { seq: number; rev: number }) => [m.seq, m.rev])).to.deep.equal([
      [2, 2],
      [3, 3],
      [1, 4],
    ]);
    expect(rejoined.room).to.include({ lastSeq: 3, lastRev: 4 });
    const rest = await request(nodeA, 'GET', `/api/messages?roomId=${room.id}`, { token: ann.token });
    expect(rest.body.messages[2]).to.deep.equal(deleted);
    // The recent log still holds the old text (immutable until trimmed); no read path serves it.
    const log = await redis.xRange(new QueueLayout(16).room(room.id).log, '-', '+');
    expect((log ?? []).map((e) => JSON.parse(String(e.message.m)).text)).to.deep.equal(['text 1', 'text 2', 'text 3']);

    gate.down = false;
    await queueDrained(cluster);
    const stored = await cluster.nodes[1]!.app.store.listMessages(room.id, { after: 0, limit: 10 });
    expect(stored.messages.map((m) => [m.seq, m.text, m.rev ?? 0])).to.deep.equal([
      [1, 'edited again', 4],
      [2, 'text 2', 2],
      [3, '', 3],
    ]);
    expect(stored.messages[1]!.reactions).to.deep.equal([{ emoji: '👍', count: 1, userIds: [ann.user.id] }]);
    expect(await cluster.nodes[1]!.app.store.lastRev(room.id)).to.equal(4);
    expect(await redis.hLen(new QueueLayout(16).room(room.id).changes)).to.equal(0);
    expect((await ask(a, 'chat:history', { roomId: room.id, after: 0 })).messages).to.deep.equal(history);
  });
});
