import { expect } from 'chai';
import { createClient } from 'redis';
import type { Socket } from 'socket.io-client';
import { describeWithRedis, startCluster, type TestCluster } from '../helpers/cluster.js';
import { createRoom, guest } from '../helpers/http-client.js';
import { ask, connect, eventually, next } from '../helpers/socket-client.js';

/**
 * Issue 19, item 4, the first trap: node-redis losing its subscriptions when the subscriber
 * connection is killed or Redis restarts, which leaves a node deaf to every broadcast while
 * it looks healthy (https://github.com/redis/node-redis/issues/1252, "Subscriptions do not
 * receive data after reconnect"; ioredis had the same, https://github.com/redis/ioredis/issues/85). With the pub/sub adapter,
 * after `CLIENT KILL TYPE pubsub` and after a Redis restart: `PUBSUB NUMSUB` counts every node
 * again, broadcasts cross nodes, and `fetchSockets` answers from every node, each within a bound.
 */
const RESUBSCRIBED_WITHIN_MS = 10_000;

describeWithRedis('trap: subscriptions restored after CLIENT KILL TYPE pubsub and a Redis restart (pub/sub adapter)', function () {
  this.timeout(60_000);
  let cluster: TestCluster;
  let probe: ReturnType<typeof createClient>;
  const sockets: Socket[] = [];

  before(async () => {
    // With AOF, as production runs: a restart that lost the node registry would make every
    // node hand its clients back (NodeRegistry's presumed-dead path), racing the checks below.
    cluster = await startCluster(2, { SOCKET_ADAPTER: 'pubsub' }, { aof: true });
  });
  after(async () => {
    sockets.forEach((s) => s.close());
    if (probe?.isOpen) probe.destroy();
    await cluster?.stop();
  });

  /** Subscribers of /chat's request channel (what fetchSockets and serverSideEmit use; broadcasts go by pattern). */
  const numsub = async () => {
    const counts = await probe.pubSubNumSub(['sio-pubsub-request#/chat#']);
    return Number(Object.values(counts)[0] ?? 0);
  };

  /** Typing on one node reaches the other, and fetchSockets hears from both, in time. */
  async function crossNode(roomId: string, [a, b]: Socket[]): Promise<number> {
    const started = Date.now();
    await eventually(async () => (await numsub()) === cluster.nodes.length, RESUBSCRIBED_WITHIN_MS, 'PUBSUB NUMSUB equal to the node count');
    const typing = next(b!, 'chat:typing', (p) => p.roomId === roomId, 5000);
    a!.emit('chat:typing', { roomId, typing: true });
    await typing;
    const t0 = Date.now();
    expect(await cluster.nodes[0]!.app.io.of('/chat').fetchSockets()).to.have.length(2);
    expect(Date.now() - t0, 'fetchSockets answered by every node, not by its timeout').to.be.below(2000);
    return Date.now() - started;
  }

  it('after the subscriber connections are killed, then after a restart, every node hears broadcasts again', async () => {
    probe = createClient({ url: cluster.redis.url });
    await probe.connect();
    const ann = await guest(cluster.nodes[0]!.url, 'ann');
    const room = await createRoom(cluster.nodes[0]!.url, ann.token);
    const pair: Socket[] = [];
    for (const node of cluster.nodes) {
      const s = await connect(node.url, '/chat', ann.token);
      sockets.push(s);
      expect((await ask(s, 'room:join', { roomId: room.id })).ok).to.equal(true);
      pair.push(s);
    }
    await crossNode(room.id, pair);

    await probe.sendCommand(['CLIENT', 'KILL', 'TYPE', 'pubsub']);
    const afterKillMs = await crossNode(room.id, pair);

    probe.destroy();
    await cluster.redis.restart();
    probe = createClient({ url: cluster.redis.url });
    await probe.connect();
    const afterRestartMs = await crossNode(room.id, pair);
    console.log(`      figures: ${JSON.stringify({ afterKillMs, afterRestartMs })}`);
  });
});
