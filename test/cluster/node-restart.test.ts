import { expect } from 'chai';
import type { Socket } from 'socket.io-client';
import { describeWithRedis, startCluster, type TestCluster } from '../helpers/cluster.js';
import { createRoom, guest, request } from '../helpers/http-client.js';
import { useNodeProcesses } from '../helpers/node-process.js';
import { ask, connect, connectError } from '../helpers/socket-client.js';

/**
 * A node SIGKILLed and started again under the same NODE_ID (a supervisor's restart, the
 * compose file's fixed ids), found by the soak (`npm run soak`): survivors reap a node only
 * when its heartbeat goes stale, and the restarted process stamps it fresh at once, so what
 * the crashed process held — participants, call peers, connection slots — stayed in Redis
 * for good. With no other node running nobody reaps at all (a whole cluster restarted after
 * a power cut), which is what this test sets up: only the node's own start-up can clean up.
 */
describeWithRedis('cluster: a node restarted under the same NODE_ID after a crash', () => {
  let cluster: TestCluster;
  const nodes = useNodeProcesses();
  const sockets: Socket[] = [];
  const track = (s: Socket) => (sockets.push(s), s);

  before(async () => {
    cluster = await startCluster(0);
  });
  afterEach(() => sockets.splice(0).forEach((s) => s.close()));
  after(async () => {
    await cluster?.stop();
  });

  it("drops its crashed process's participants, call peers and connection slots on start", async function () {
    this.timeout(60_000);
    // Two connections per user: the user's /chat and /rtc sockets fill its cap.
    const start = () => nodes.start({ redisUrl: cluster.redis.url, dataDir: cluster.dataDir, nodeId: 'node-again', env: { MAX_CONNECTIONS_PER_USER: '2' } });
    let node = await start();
    const owner = await guest(node.url, 'owner');
    const user = await guest(node.url, 'user');
    const room = await createRoom(node.url, owner.token, { name: 'restart' });
    const participants = async () => ((await request(node.url, 'GET', `/api/rooms/${room.id}`, { token: owner.token })).body.participants as { userId: string }[]).map((p) => p.userId);

    const chat = track(await connect(node.url, '/chat', user.token));
    expect((await ask(chat, 'room:join', { roomId: room.id })).ok).to.equal(true);
    const rtc = track(await connect(node.url, '/rtc', user.token));
    expect((await ask(rtc, 'call:join', { roomId: room.id })).ok).to.equal(true);
    expect(await participants()).to.deep.equal([user.user.id]);
    expect((await connectError(node.url, '/chat', user.token)).data?.code, 'the cap is reached').to.equal('TOO_MANY_CONNECTIONS');

    node.kill('SIGKILL');
    await node.waitForExit();
    node = await start();

    expect(await participants(), 'participants of the crashed process').to.deep.equal([]);
    const ownerRtc = track(await connect(node.url, '/rtc', owner.token));
    const joined = await ask(ownerRtc, 'call:join', { roomId: room.id });
    expect(joined.ok).to.equal(true);
    expect(joined.peers, 'call peers of the crashed process').to.deep.equal([]);
    // Its two slots are free again: the user gets both connections back.
    track(await connect(node.url, '/chat', user.token));
    track(await connect(node.url, '/rtc', user.token));
  });
});
