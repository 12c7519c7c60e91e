import { expect } from 'chai';
import type { Socket } from 'socket.io-client';
import { SqliteStore } from '../../src/infra/sqlite/sqlite-store.js';
import { createRoom, guest, request, storeUnavailableRetries } from '../helpers/http-client.js';
import { ask, connect, eventually } from '../helpers/socket-client.js';
import { describeWithRedis, startCluster, type TestCluster } from '../helpers/cluster.js';
import { switchableStore } from '../helpers/switchable-store.js';
import { checkHistory, expectClean } from '../../support/history-checker.js';
import { ChatSender } from '../helpers/traffic.js';

describeWithRedis('store down mid-traffic (cluster): chat goes on, persistence waits, nothing is dead-lettered', function () {
  this.timeout(30_000);
  let cluster: TestCluster;
  const outage = { down: false };
  const sockets: Socket[] = [];

  before(async () => {
    cluster = await startCluster(0, { ADMIN_TOKEN: 'admin-token-for-tests-0123456789', QUEUE_MAX_ATTEMPTS: '2' });
    for (let i = 0; i < 2; i++) {
      await cluster.addNode({}, { store: switchableStore(new SqliteStore({ dataDir: cluster.dataDir }), outage) });
    }
  });
  after(async () => {
    sockets.forEach((s) => s.close());
    await cluster?.stop();
  });

  it('acks sends, serves joins and history, refuses room creation with 503, then drains once the store is back', async () => {
    const [n1, n2] = cluster.nodes;
    const ann = await guest(n1!.url, 'ann');
    const bob = await guest(n2!.url, 'bob');
    const room = await createRoom(n1!.url, ann.token, { name: 'outage', isPrivate: true });
    await request(n1!.url, 'POST', `/api/rooms/${room.id}/members`, { token: ann.token, body: { userId: bob.user.id } });
    const a = await connect(n1!.url, '/chat', ann.token);
    sockets.push(a);
    await ask(a, 'room:join', { roomId: room.id });
    // Bob was only ever checked by node 1 (the membership above): node 2 learns it from the cache.
    expect((await request(n1!.url, 'GET', `/api/rooms/${room.id}`, { token: bob.token })).status).to.equal(200);

    outage.down = true;
    const ready = await request(n2!.url, 'GET', '/readyz');
    expect([ready.status, ready.body.status, ready.body.dependencies]).to.deep.equal([200, 'degraded', { store: 'down', redis: 'up' }]);

    const b = await connect(n2!.url, '/chat', bob.token);
    sockets.push(b);
    const join = await ask(b, 'room:join', { roomId: room.id });
    expect(join.ok).to.equal(true);
    const senders = [new ChatSender(a, room.id, 'ann'), new ChatSender(b, room.id, 'bob')];
    for (let i = 0; i < 10; i++) for (const s of senders) expect(await s.sendOne(3000)).to.equal(true);

    const history = await request(n2!.url, 'GET', `/api/messages?roomId=${room.id}&limit=100`, { token: bob.token });
    expect(history.body.messages.map((m: { seq: number }) => m.seq)).to.deep.equal(Array.from({ length: 20 }, (_, i) => i + 1));
    const t0 = Date.now();
    const refused = await request(n2!.url, 'POST', '/api/rooms', { token: bob.token, body: { name: 'new' } });
    expect([refused.status, refused.body.error.code]).to.deep.equal([503, 'UNAVAILABLE']);
    expect(Date.now() - t0).to.be.lessThan(1000);
    // The consumers fail against the store several times (more than QUEUE_MAX_ATTEMPTS):
    // waiting for the store costs no attempt, so nothing may be dead-lettered below.
    const retriesAtOutage = await storeUnavailableRetries([n1!.url, n2!.url]);
    await eventually(async () => (await storeUnavailableRetries([n1!.url, n2!.url])) >= retriesAtOutage + 4, 10_000, 'the consumers retried against the store');

    outage.down = false;
    const store = new SqliteStore({ dataDir: cluster.dataDir });
    try {
      await eventually(async () => (await store.listMessages(room.id, { limit: 100 })).messages.length === 20, 15_000, 'queue drained');
      const check = checkHistory({ stored: (await store.listMessages(room.id, { limit: 100 })).messages, senders });
      expect(check.acked).to.equal(20);
      expectClean(check);
    } finally {
      await store.close();
    }
    const dead = await request(n1!.url, 'GET', '/api/admin/dead-letters', { token: 'admin-token-for-tests-0123456789' });
    expect(dead.body.deadLetters).to.deep.equal([]);
  });
});
