import { expect } from 'chai';
import { createClient } from 'redis';
import type { Socket } from 'socket.io-client';
import { describeWithRedis, startCluster, type TestCluster } from '../helpers/cluster.js';
import { createRoom, guest } from '../helpers/http-client.js';
import { useNodeProcesses, type NodeProcess } from '../helpers/node-process.js';
import { ask, connect, eventually, next } from '../helpers/socket-client.js';
import type { TestServer } from '../helpers/test-server.js';

/**
 * Issue 19, item 4, the dead-node trap. Both Socket.IO Redis adapters count the nodes a
 * cluster request (fetchSockets, serverSideEmit with ack, a broadcast with ack) must hear
 * from with `PUBSUB NUMSUB` on a channel every node subscribes to, and wait for that many
 * answers up to their request timeout (5 s). A node that is gone but still subscribed is
 * counted and never answers, so every such request waits the full 5 s: "when a server is
 * killed, there might be a small period during which the requester node waits for N answers
 * (N being the number returned by numsub) but only gets N-1"
 * (https://github.com/socketio/socket.io-redis-adapter/issues/295; NUMSUB also counts
 * subscribers that are not nodes, https://github.com/socketio/socket.io-redis-adapter/issues/406).
 *
 * How long the stale count lasts depends on how the node went: a killed process's
 * subscription disappears with its TCP connection (the kernel closes it), but a node that
 * hangs or is black-holed keeps its connection open, and NUMSUB counts it until Redis's
 * TCP keepalive or a client timeout closes it (minutes by default). SIGSTOP stands for it.
 *
 * The guard is that no hot path uses a cluster request: src calls no fetchSockets,
 * serverSideEmit, allRooms nor emitWithAck/timeout() on a broadcast (room membership and
 * presence live in Redis keys, call peers in the call registry), but for the operator API
 * (ClusterSockets, which answers UNAVAILABLE when a request times out). This suite proves the hot
 * paths do not wait: while a cluster request of the same node hangs on the frozen one, and
 * right after the kill, every answer on the survivors comes well under the request timeout.
 */
const REQUEST_TIMEOUT_MS = 5000;
/** Each hot-path answer on a survivor: far below the adapters' request timeout. */
const ANSWER_WITHIN_MS = 1000;
/** How long a step may take before it fails: past the request timeout, so a slow one shows its figure. */
const PATIENCE_MS = REQUEST_TIMEOUT_MS + 1000;

const ENV = { RATE_LIMIT_MESSAGES: '100000', RATE_LIMIT_EVENTS: '1000' };

/** The channel each adapter counts nodes on (serverCount), for /chat. */
const COUNTED_CHANNEL = { streams: 'socket.io#/chat#', pubsub: 'sio-pubsub-request#/chat#' } as const;

describeWithRedis('trap: a dead node still counted by PUBSUB NUMSUB must not hold up the survivors (socket.io-redis-adapter#295)', () => {
  for (const adapter of ['streams', 'pubsub'] as const) describe(`${adapter} adapter`, () => deadNodeTrap(adapter));
});

function deadNodeTrap(adapter: keyof typeof COUNTED_CHANNEL): void {
  let cluster: TestCluster;
  let probe: ReturnType<typeof createClient>;
  const env = { ...ENV, SOCKET_ADAPTER: adapter };
  const sockets: Socket[] = [];
  const nodes = useNodeProcesses();

  before(async () => {
    cluster = await startCluster(2, env);
    probe = createClient({ url: cluster.redis.url });
    await probe.connect();
  });
  after(async () => {
    sockets.forEach((s) => s.close());
    if (probe?.isOpen) probe.destroy();
    await cluster?.stop();
  });

  const numsub = async () => Number(Object.values(await probe.pubSubNumSub([COUNTED_CHANNEL[adapter]]))[0] ?? 0);
  const open = async (node: TestServer | NodeProcess, ns: '/chat' | '/rtc', token: string) => {
    const s = await connect(node.url, ns, token);
    sockets.push(s);
    return s;
  };
  /** Runs `step` and returns how long it took, failing past the bound. */
  const timed = async (what: string, step: () => Promise<unknown>) => {
    const started = Date.now();
    await step();
    const ms = Date.now() - started;
    expect(ms, `${what} answered within ${ANSWER_WITHIN_MS} ms (request timeout ${REQUEST_TIMEOUT_MS} ms)`).to.be.below(ANSWER_WITHIN_MS);
    return ms;
  };

  it(`chat:send, room:join, call:join and rtc:signal across survivors answer within ${ANSWER_WITHIN_MS} ms while NUMSUB counts a frozen node, and after it is killed`, async function () {
    this.timeout(30_000);
    const [n1, n2] = cluster.nodes as [TestServer, TestServer];
    const child = await nodes.start({ redisUrl: cluster.redis.url, dataDir: cluster.dataDir, nodeId: 'node-doomed', env });
    const ann = await guest(n1.url, 'ann');
    const bob = await guest(n1.url, 'bob');
    const ghost = await guest(n1.url, 'ghost');
    const room = await createRoom(n1.url, ann.token, { name: `dead-node-${adapter}` });
    const roomId = room.id;
    // One of each on every node, the doomed one included: a request to the room's sockets
    // or peers would have to hear from it.
    const [chatA, chatB, chatG] = [await open(n1, '/chat', ann.token), await open(n2, '/chat', bob.token), await open(child, '/chat', ghost.token)];
    for (const s of [chatA, chatB, chatG]) expect((await ask(s, 'room:join', { roomId })).ok).to.equal(true);
    const [rtcA, rtcB, rtcG] = [await open(n1, '/rtc', ann.token), await open(n2, '/rtc', bob.token), await open(child, '/rtc', ghost.token)];
    const [peerA, peerB] = await Promise.all([rtcA, rtcB, rtcG].map(async (s) => {
      const joined = await ask(s, 'call:join', { roomId });
      expect(joined.ok).to.equal(true);
      return joined.peerId as string;
    }));
    await eventually(async () => (await numsub()) === 3, 5000, 'NUMSUB counting the three nodes');

    let round = 0;
    /** Every hot path once, between peers on the two survivors; returns the slowest answer. */
    const hotPaths = async () => {
      round++;
      const times = [
        await timed('chat:send ack and delivery to the other survivor', async () => {
          const delivered = next(chatB, 'chat:message', (m) => m.clientMsgId === `r${round}`, PATIENCE_MS);
          expect((await ask(chatA, 'chat:send', { roomId, clientMsgId: `r${round}`, text: `round ${round}` }, PATIENCE_MS)).ok).to.equal(true);
          await delivered;
        }),
        await timed('room:join', async () => expect((await ask(chatB, 'room:join', { roomId }, PATIENCE_MS)).ok).to.equal(true)),
        await timed('call:join of a new peer', async () => {
          const peer = await open(n2, '/rtc', bob.token);
          expect((await ask(peer, 'call:join', { roomId }, PATIENCE_MS)).ok).to.equal(true);
        }),
        await timed('rtc:signal ack and delivery to the peer on the other survivor', async () => {
          const offer = next(rtcB, 'rtc:signal', (p) => p.from === peerA, PATIENCE_MS);
          expect((await ask(rtcA, 'rtc:signal', { to: peerB, kind: 'offer', data: { type: 'offer', sdp: 'v=0' } }, PATIENCE_MS)).ok).to.equal(true);
          await offer;
        }),
      ];
      return Math.max(...times);
    };
    await hotPaths();

    // Frozen (black-holed): its subscription lingers, so a cluster request waits it out.
    child.kill('SIGSTOP');
    expect(await numsub(), 'NUMSUB still counts the frozen node').to.equal(3);
    const requestStarted = Date.now();
    const clusterRequest = n1.app.io
      .of('/chat')
      .fetchSockets()
      .then(
        () => ({ ms: Date.now() - requestStarted, err: null as Error | null }),
        (err: Error) => ({ ms: Date.now() - requestStarted, err }),
      );
    const slowestFrozen = Math.max(await hotPaths(), await hotPaths());
    const request = await clusterRequest;
    expect(request.err?.message, 'the adapter’s own cluster request waits for the frozen node').to.match(/timeout reached/);
    expect(request.ms).to.be.at.least(REQUEST_TIMEOUT_MS - 100);

    // Killed: the kernel closes its connections and Redis drops its subscription at once.
    const killedAt = Date.now();
    child.kill('SIGKILL');
    await child.waitForExit(5000);
    await eventually(async () => (await numsub()) === 2, 2000, 'NUMSUB without the killed node');
    const numsubGoneMs = Date.now() - killedAt;
    const slowestKilled = Math.max(await hotPaths(), await hotPaths());
    const fetchStarted = Date.now();
    expect(await n1.app.io.of('/chat').fetchSockets()).to.have.length(2);
    const fetchMs = Date.now() - fetchStarted;
    expect(fetchMs, 'a cluster request no longer waits once NUMSUB is right').to.be.below(ANSWER_WITHIN_MS);
    console.log(
      `      ${adapter}: slowest hot-path answer ${slowestFrozen} ms with a frozen node (its fetchSockets failed after ${request.ms} ms), ` +
        `${slowestKilled} ms after the kill; NUMSUB dropped the killed node after ${numsubGoneMs} ms; fetchSockets then ${fetchMs} ms`,
    );
  });
}
