import { expect } from 'chai';
import { createClient } from 'redis';
import { keys } from '../../src/infra/redis/redis-keys.js';
import { describeWithRedis, startCluster, type TestCluster } from '../helpers/cluster.js';
import { createRoom, guest } from '../helpers/http-client.js';
import { connect, eventually } from '../helpers/socket-client.js';

/**
 * A client that drops while its `room:join` or `call:join` is still running (found by the
 * soak: a participant left in presence for good, with nobody connected). Its disconnect ran
 * before the join recorded the room, so nothing took the entry out again.
 */
describeWithRedis('a join that the client leaves before it is answered leaves nothing behind', function () {
  this.timeout(40_000);
  let cluster: TestCluster;
  let redis: ReturnType<typeof createClient>;

  before(async () => {
    cluster = await startCluster(1, { RATE_LIMIT_EVENTS: '100000', RATE_LIMIT_HANDSHAKES: '100000', MAX_CONNECTIONS_PER_USER: '1000' });
    redis = createClient({ url: cluster.redis.url });
    await redis.connect();
  });
  after(async () => {
    await redis?.close();
    await cluster?.stop();
  });

  it('no presence entry, no call peer and no connection slot once every such client is gone', async () => {
    const url = cluster.nodes[0]!.url;
    const ann = await guest(url, 'ann');
    const room = await createRoom(url, ann.token);
    for (let i = 0; i < 30; i++) {
      const [chat, rtc] = await Promise.all([connect(url, '/chat', ann.token), connect(url, '/rtc', ann.token)]);
      chat.emit('room:join', { roomId: room.id });
      rtc.emit('call:join', { roomId: room.id });
      // Gone somewhere inside the joins' Redis and store round trips.
      await new Promise((r) => setTimeout(r, i % 6));
      chat.disconnect();
      rtc.disconnect();
    }
    const left = async () => ({
      presence: await redis.hLen(keys.presence(room.id)),
      peers: await redis.hLen(keys.callPeers(room.id)),
      slots: await redis.sCard(keys.userConnections(ann.user.id)),
    });
    await eventually(async () => JSON.stringify(await left()) === JSON.stringify({ presence: 0, peers: 0, slots: 0 }), 10_000, 'nothing left').catch(() => undefined);
    expect(await left()).to.deep.equal({ presence: 0, peers: 0, slots: 0 });
  });
});
