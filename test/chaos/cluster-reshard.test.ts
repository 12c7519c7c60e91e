import { execFile } from 'node:child_process';
import { promisify } from 'node:util';
import { expect } from 'chai';
import type { Socket } from 'socket.io-client';
import { checkHistory, expectClean, figures } from '../../support/history-checker.js';
import { QueueLayout } from '../../src/infra/redis/queue-layout.js';
import type { RedisClusterClient } from '../../src/infra/redis/redis-client.js';
import { clusterMasters } from '../helpers/redis-cluster.js';
import { describeWithRedis, queueDrained, startCluster, type TestCluster } from '../helpers/cluster.js';
import { createRoom, guest } from '../helpers/http-client.js';
import { keySlot } from '../helpers/redis-slot.js';
import { ask, connect } from '../helpers/socket-client.js';
import { refusals, underTraffic } from '../helpers/traffic.js';

const run = promisify(execFile);
const LIMITS = { RATE_LIMIT_MESSAGES: '100000', RATE_LIMIT_EVENTS: '100000' };
/** The servers' default QUEUE_PARTITIONS. */
const layout = new QueueLayout(16);

/**
 * A resharding under traffic (`redis-cli --cluster reshard`) that moves the slot of the
 * queue partition a live room writes to, together with the room's counter, log and
 * idempotency keys (one hash tag): Redis answers ASK and TRYAGAIN while the slot's keys
 * move, the cluster client follows, and a send it cannot finish is refused and retried
 * with the same clientMsgId. Nothing acked is lost, nothing is stored twice, seq has no gap.
 */
describeWithRedis('a Redis Cluster resharded under traffic', function (this: Mocha.Suite) {
  this.timeout(90_000);
  let cluster: TestCluster;
  const sockets: Socket[] = [];

  before(async function () {
    this.timeout(30_000);
    cluster = await startCluster(2, LIMITS, { topology: 'cluster' });
  });
  after(async () => {
    sockets.forEach((s) => s.close());
    await cluster?.stop();
  });

  it("the slot of a live room's queue partition moves to another master: 0 acked lost, stored exactly once, gap-free", async () => {
    const seed = Number(cluster.topology.env.REDIS_CLUSTER_URLS!.split(',')[0]!.split(':')[1]);
    const before = await clusterMasters(seed);
    const ownerOf = (slot: number, ms: typeof before) => ms.find((m) => m.slots.some(([a, b]) => slot >= a && slot <= b))!;
    // The partition nearest the start of its master's range: reshard takes a source's slots from its lowest up.
    const distance = (p: number) => {
      const slot = keySlot(layout.partitions[p]!.queue);
      return slot - ownerOf(slot, before).slots[0]![0];
    };
    const partition = [...layout.partitions.keys()].sort((a, b) => distance(a) - distance(b))[0]!;
    const slot = keySlot(layout.partitions[partition]!.queue);
    const source = ownerOf(slot, before);
    const target = before.find((m) => m !== source)!;

    const owner = await guest(cluster.nodes[0]!.url, 'owner');
    let roomId = '';
    for (let i = 0; i < 200 && !roomId; i++) {
      const room = await createRoom(cluster.nodes[0]!.url, owner.token, { name: `r${i}` });
      if (layout.partitionOf(room.id).index === partition) roomId = room.id;
    }
    expect(roomId, 'a room in the chosen partition').to.not.equal('');
    for (let i = 0; i < 4; i++) {
      const s = await connect(cluster.nodes[i % 2]!.url, '/chat', owner.token);
      sockets.push(s);
      expect((await ask(s, 'room:join', { roomId })).ok).to.equal(true);
    }

    let reshardMs = 0;
    let moved = '';
    let ackedDuring = 0;
    const senders = await underTraffic(sockets, roomId, async (running) => {
      const acked = () => running.reduce((n, s) => n + s.acked.size, 0);
      const atStart = acked();
      const started = Date.now();
      const { stdout } = await run('redis-cli', [
        '--cluster', 'reshard', `127.0.0.1:${source.port}`,
        '--cluster-from', source.id, '--cluster-to', target.id,
        '--cluster-slots', String(slot - source.slots[0]![0] + 1), '--cluster-yes',
      ], { maxBuffer: 64 * 1024 * 1024 });
      reshardMs = Date.now() - started;
      ackedDuring = acked() - atStart;
      moved = /Moving slot (\d+) from/.exec(stdout.split('\n').filter((l) => l.includes(`Moving slot ${slot} `)).join('\n'))?.[1] ?? '';
    });
    expect(moved, `redis-cli moved slot ${slot}`).to.equal(String(slot));
    expect(ackedDuring, 'sends acked while the slots moved').to.be.greaterThan(0);
    expect(ownerOf(slot, await clusterMasters(seed)).id, 'the slot is served by the target master').to.equal(target.id);

    await queueDrained(cluster);
    const stored = (await cluster.nodes[0]!.app.store.listMessages(roomId, { after: 0, limit: 100_000 })).messages;
    const report = checkHistory({ stored, senders });
    expectClean(report);
    expect(report.acked).to.be.greaterThan(20);
    // The room's keys moved with the slot: its counter answers on the target master.
    const client = (await cluster.topology.connect('probe')) as unknown as RedisClusterClient;
    try {
      expect(client.getSlotMaster(slot).port).to.equal(target.port);
      expect(Number(await client.get(layout.room(roomId).seq))).to.equal(stored.length);
    } finally {
      client.destroy();
    }
    console.log(`      reshard of ${slot - source.slots[0]![0] + 1} slots took ${reshardMs} ms with ${ackedDuring} sends acked meanwhile; ${refusals(senders)} sends refused and retried; ${figures(report)}`);
  });
});

