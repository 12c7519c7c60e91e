import { expect } from 'chai';
import type { Socket } from 'socket.io-client';
import { QueueLayout } from '../../src/infra/redis/queue-layout.js';
import { describeWithRedis, startCluster, type TestCluster } from '../helpers/cluster.js';
import { createRoom, guest } from '../helpers/http-client.js';
import { TestRedisCluster } from '../helpers/redis-cluster.js';
import type { TestRedis } from '../helpers/redis-server.js';
import { clusterTopology } from '../helpers/redis-topology.js';
import { ask, connect, next } from '../helpers/socket-client.js';

const LIMITS = { RATE_LIMIT_MESSAGES: '100000', RATE_LIMIT_EVENTS: '100000' };
/** The servers' default QUEUE_PARTITIONS: where a room's keys live. */
const layout = new QueueLayout(16);

/**
 * A chat send is durable once its room's Redis step is done, but other nodes get it live only
 * through the adapter's XADD to `sio:stream`, which nothing used to wait for: a sender could
 * outrun a saturated stream master, node-redis then refused the XADDs ("The queue is full")
 * and members on other nodes silently missed messages live (issue 14, Redis Cluster at
 * saturation). Now an ack waits while the node's unsettled publishes are at the high-water
 * mark (PublishBacklog). Here the mark is 1 on node 1, so every ack waits for its own
 * broadcast; the stream's master is frozen while the room's own master answers, which holds
 * that broadcast back and nothing else.
 */
describeWithRedis('fan-out backpressure: an ack waits while the adapter cannot publish', function (this: Mocha.Suite) {
  this.timeout(60_000);
  const redisCluster = new TestRedisCluster();
  let cluster: TestCluster;
  let streamMaster: TestRedis;
  const sockets: Socket[] = [];

  before(async function () {
    this.timeout(30_000);
    cluster = await startCluster(0, LIMITS, { topology: clusterTopology(redisCluster) });
    await cluster.addNode({}, { adapterPublishHighWater: 1 });
    await cluster.addNode();
    streamMaster = await redisCluster.masterOf('sio:stream');
  });
  after(async () => {
    streamMaster?.resume();
    sockets.forEach((s) => s.close());
    await cluster?.stop();
  });

  it("a send on a frozen stream master's node is acked only once its broadcast settled, and reaches the other node live", async () => {
    const [n1, n2] = cluster.nodes;
    const ann = await guest(n1!.url, 'ann');
    const bob = await guest(n2!.url, 'bob');
    // A room whose keys are served by another master than the stream's.
    let roomId = '';
    for (let i = 0; i < 50 && !roomId; i++) {
      const room = await createRoom(n1!.url, ann.token, { name: `r${i}` });
      if ((await redisCluster.masterOf(layout.room(room.id).seq)) !== streamMaster) roomId = room.id;
    }
    expect(roomId, 'a room away from the stream master').to.not.equal('');
    const a = await connect(n1!.url, '/chat', ann.token);
    const b = await connect(n2!.url, '/chat', bob.token);
    sockets.push(a, b);
    for (const s of [a, b]) expect((await ask(s, 'room:join', { roomId })).ok).to.equal(true);
    const first = next(b, 'chat:message');
    expect((await ask(a, 'chat:send', { roomId, clientMsgId: 'before', text: 'before' })).ok).to.equal(true);
    expect((await first).text).to.equal('before');

    streamMaster.pause();
    let acked: { ok: boolean; message?: { seq: number } } | null = null;
    const live = next(b, 'chat:message', () => true, 15_000);
    const sending = ask(a, 'chat:send', { roomId, clientMsgId: 'held', text: 'held' }, 10_000).then((res) => (acked = res));
    try {
      // The room's master stores it at once; the ack waits for the publish (at most its 1.5 s deadline).
      await new Promise((r) => setTimeout(r, 1000));
      expect(acked, 'no ack while its broadcast is held back').to.equal(null);
    } finally {
      streamMaster.resume();
    }
    expect((await sending).ok, 'acked once the publish settled').to.equal(true);
    const arrived = await live;
    expect([arrived.text, arrived.seq]).to.deep.equal(['held', 2]);
  });
});
