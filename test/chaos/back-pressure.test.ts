import { expect } from 'chai';
import type { Socket } from 'socket.io-client';
import { SqliteStore } from '../../src/infra/sqlite/sqlite-store.js';
import { createRoom, guest, scrapeMetrics as scrape } from '../helpers/http-client.js';
import { ask, connect, eventually } from '../helpers/socket-client.js';
import { describeWithRedis, startCluster, type TestCluster } from '../helpers/cluster.js';
import { switchableStore } from '../helpers/switchable-store.js';

const storeBreaker = (series: Map<string, number>) => [...series].find(([k]) => k.startsWith('circuit_breaker_state{') && k.includes('dependency="store"'))?.[1];

describeWithRedis('back-pressure: QUEUE_HIGH_WATER and the store breaker while the store is down', function () {
  this.timeout(40_000);
  let cluster: TestCluster;
  const outage = { down: false };
  let socket: Socket | undefined;

  before(async () => {
    cluster = await startCluster(0, { QUEUE_HIGH_WATER: '100', QUEUE_PARTITIONS: '4', RATE_LIMIT_MESSAGES: '100000', RATE_LIMIT_EVENTS: '100000' });
    await cluster.addNode({}, { store: switchableStore(new SqliteStore({ dataDir: cluster.dataDir }), outage) });
  });
  after(async () => {
    socket?.close();
    await cluster?.stop();
  });

  // The mark is for the whole queue; each append sees its room's partition, which may hold
  // its share: 100 / 4 partitions = 25 entries.
  const MARK = 25;

  it("acks up to the partition's share of the high-water mark, then answers UNAVAILABLE; the breaker opens; all drains once the store is back", async () => {
    const node = cluster.nodes[0]!;
    const ann = await guest(node.url, 'ann');
    const room = await createRoom(node.url, ann.token);
    socket = await connect(node.url, '/chat', ann.token);
    expect((await ask(socket, 'room:join', { roomId: room.id })).ok).to.equal(true);
    expect(storeBreaker(await scrape(node.url))).to.equal(0);

    outage.down = true;
    const send = (i: number) => ask(socket!, 'chat:send', { roomId: room.id, clientMsgId: `m${i}`, text: `m${i}` }, 5000);
    for (let i = 1; i <= MARK; i++) expect((await send(i)).ok, `send ${i} is queued and acked`).to.equal(true);
    const refused = await send(MARK + 1);
    expect(refused.ok).to.equal(false);
    expect(refused.error).to.deep.include({ code: 'UNAVAILABLE', message: 'the server is catching up on stored messages; try again shortly' });
    // The queue consumer keeps failing against the store: its breaker opens (2), and the
    // metric shows it.
    // Within opossum's 10 s rolling window the joins' successful reads still count: the
    // failures outnumber them at the latest once those age out.
    await eventually(async () => storeBreaker(await scrape(node.url)) === 2, 20_000, 'store breaker open');

    outage.down = false;
    await eventually(async () => (await scrape(node.url)).get(`queue_depth{node="node-1"}`) === 0, 20_000, 'queue drained');
    await eventually(async () => storeBreaker(await scrape(node.url)) === 0, 10_000, 'store breaker closed');
    expect((await send(MARK + 1)).ok, 'sends are acked again').to.equal(true);
    // Exactly once and gap-free in the store, the last one too once the consumer has it.
    const all = Array.from({ length: MARK + 1 }, (_, i) => i + 1);
    const storedSeqs = async () => (await node.app.store.listMessages(room.id, { after: 0, limit: 1000 })).messages.map((m) => m.seq);
    await eventually(async () => (await storedSeqs()).length === MARK + 1, 10_000, 'all stored');
    expect(await storedSeqs()).to.deep.equal(all);
  });
});
