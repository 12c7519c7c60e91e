import { expect } from 'chai';
import { rmSync } from 'node:fs';
import { createClient } from 'redis';
import type { Socket } from 'socket.io-client';
import { SqliteStore } from '../../src/infra/sqlite/sqlite-store.js';
import { describeWithRedis } from '../helpers/cluster.js';
import { createRoom, guest, request } from '../helpers/http-client.js';
import type { NetHost } from '../helpers/net/host.js';
import { useNetRig } from '../helpers/net/rig.js';
import { useNodeProcesses, type NodeProcess } from '../helpers/node-process.js';
import { TestRedis } from '../helpers/redis-server.js';
import { ask, connect, eventually, next } from '../helpers/socket-client.js';
import { tempDir } from '../helpers/test-server.js';
import { checkHistory, expectClean } from '../../support/history-checker.js';
import { underTraffic } from '../helpers/traffic.js';
import { queueFigures } from '../helpers/queue-figures.js';

/**
 * Issue 19, item 1: Redis black-holed (nftables drop, no RST: the connections look alive)
 * for one node, then for all. Each node is a process in a network namespace of its own
 * (test/helpers/net), reaching Redis through its veth pair; the clients stay connected.
 */
const LIMITS = { RATE_LIMIT_MESSAGES: '100000', RATE_LIMIT_EVENTS: '100000', RATE_LIMIT_HTTP: '100000' };
/** What a user waits at most for the answer to a send, whatever the network does. */
const ANSWER_WITHIN_MS = 5000;

describeWithRedis('network: Redis black-holed for one node, then for all, under traffic', function () {
  this.timeout(120_000);
  const rig = useNetRig();
  const nodes = useNodeProcesses();
  const sockets: Socket[] = [];
  let redis: TestRedis;
  let probe: ReturnType<typeof createClient>;
  let hosts: NetHost[];
  const dataDir = tempDir('vcs-net-redis-');

  before(async () => {
    hosts = [rig.host(), rig.host()];
    // Redis in the root namespace, reachable from each host at the root side of its veth.
    redis = new TestRedis({ bind: hosts.map((h) => h.gateway) });
    await redis.start();
    probe = createClient({ url: redis.url });
    await probe.connect();
  });
  after(async () => {
    sockets.forEach((s) => s.close());
    await probe?.close();
    await redis?.stop();
    rmSync(dataDir, { recursive: true, force: true });
  });

  const startNode = (host: NetHost, nodeId: string) =>
    nodes.start({ redisUrl: `redis://${host.gateway}:${redis.port}`, dataDir, nodeId, host, env: LIMITS });
  /** Reconnecting as real clients do: a node the cluster took for dead hands its clients back. */
  const open = async (node: NodeProcess, ns: '/chat' | '/rtc', token: string) => {
    const s = await connect(node.url, ns, token, { reconnection: true, reconnectionDelayMax: 500 });
    sockets.push(s);
    return s;
  };
  const readiness = async (node: NodeProcess) => (await request(node.url, 'GET', '/readyz')).body;

  it('sends answer within 5 s, local signaling goes on, /readyz names Redis; after the heal the nodes recover by themselves, nothing lost or twice', async () => {
    const [a, b] = [await startNode(hosts[0]!, 'a'), await startNode(hosts[1]!, 'b')];
    const users = await Promise.all(['ann', 'bob', 'cat', 'dan'].map((n) => guest(a.url, n)));
    const room = await createRoom(a.url, users[0]!.token);
    const chat: Socket[] = [];
    let reconnects = 0;
    for (const [i, node] of [a, a, b, b].entries()) {
      const s = await open(node, '/chat', users[i]!.token);
      expect((await ask(s, 'room:join', { roomId: room.id })).ok).to.equal(true);
      // What every client must do (README): a session Socket.IO did not recover rejoins with lastSeq.
      s.on('connect', () => void (reconnects++, s.recovered || ask(s, 'room:join', { roomId: room.id, lastSeq: 0 }).catch(() => undefined)));
      chat.push(s);
    }
    const [rtcA, rtcB] = [await open(a, '/rtc', users[0]!.token), await open(a, '/rtc', users[1]!.token)];
    for (const s of [rtcA, rtcB]) {
      expect((await ask(s, 'call:join', { roomId: room.id })).ok).to.equal(true);
      // Call peers join again after any reconnect (README, /rtc).
      s.on('connect', () => void ask(s, 'call:join', { roomId: room.id }).catch(() => undefined));
    }
    const signal = async () => {
      const offer = next(rtcB, 'rtc:signal');
      expect((await ask(rtcA, 'rtc:signal', { to: rtcB.id, kind: 'offer', data: { type: 'offer', sdp: 'v=0' } }, ANSWER_WITHIN_MS)).ok).to.equal(true);
      expect((await offer).from).to.equal(rtcA.id);
    };
    const timedSend = async (s: Socket, id: string) => {
      const t0 = Date.now();
      const res = await ask(s, 'chat:send', { roomId: room.id, clientMsgId: id, text: id }, ANSWER_WITHIN_MS + 1000);
      expect(Date.now() - t0, `answer to ${id}`).to.be.below(ANSWER_WITHIN_MS);
      return res;
    };

    const figures: Record<string, number> = {};
    const senders = await underTraffic(
      chat,
      room.id,
      async () => {
        // One node cut off: it refuses (it cannot make a send durable), the other serves on.
        hosts[0]!.blackhole({ remotePort: redis.port });
        const cutAt = Date.now();
        expect((await timedSend(chat[0]!, 'one-cut')).error?.code).to.equal('UNAVAILABLE');
        await signal();
        expect(await readiness(a)).to.deep.include({ status: 'degraded', dependencies: { store: 'up', redis: 'down' } });
        expect((await readiness(b)).dependencies.redis).to.equal('up');
        // Long enough for the other node to take the silent one for dead and remove its
        // participants: the heal must bring them back (polled, not slept).
        await eventually(async () => (await probe.zScore('nodes:heartbeat', 'a')) === null, 15_000, 'node b reaps node a');
        figures.reapedAfterMs = Date.now() - cutAt;

        // Then every node: nothing can be made durable anywhere, and nothing hangs.
        hosts[1]!.blackhole({ remotePort: redis.port });
        expect((await timedSend(chat[2]!, 'all-cut')).error?.code).to.equal('UNAVAILABLE');
        await signal();
        for (const node of [a, b]) expect((await readiness(node)).dependencies.redis).to.equal('down');
        hosts.forEach((h) => h.heal());
        const healedAt = Date.now();
        await eventually(async () => (await Promise.all([a, b].map(readiness))).every((r) => r.status === 'ok'), 30_000, 'both nodes ready again');
        figures.readyAfterHealMs = Date.now() - healedAt;
      },
      ANSWER_WITHIN_MS,
    );

    // Every attempt was answered in time, ok or UNAVAILABLE: none timed out.
    for (const s of senders) {
      expect(s.errors.get('TIMEOUT') ?? 0, `sends without an answer (${JSON.stringify([...s.errors])})`).to.equal(0);
      expect(s.slowestMs).to.be.below(ANSWER_WITHIN_MS);
    }
    // Recovered by itself: the adapter carries messages across nodes again, both ways.
    for (const [from, to] of [[0, 2], [3, 1]] as const) {
      const seen = next(chat[to]!, 'chat:message', (m) => m.clientMsgId === `cross-${from}`, 10_000);
      expect((await ask(chat[from]!, 'chat:send', { roomId: room.id, clientMsgId: `cross-${from}`, text: 'x' })).ok).to.equal(true);
      await seen;
    }
    // Presence and the call as before the cut: all four here, both peers in the call.
    await eventually(async () => (await request(b.url, 'GET', `/api/rooms/${room.id}`, { token: users[3]!.token })).body.participants?.length === 4, 10_000, 'all four participants listed again');
    const newcomer = await open(b, '/rtc', users[2]!.token);
    const peerIds = async () => (await ask(newcomer, 'call:join', { roomId: room.id })).peers.map((p: { peerId: string }) => p.peerId).sort();
    await eventually(async () => JSON.stringify(await peerIds()) === JSON.stringify([rtcA.id, rtcB.id].sort()), 10_000, 'both peers of node a in the call again');
    await signal();
    // The queue consumers run again: everything drains, stored once, in order.
    await eventually(async () => (await queueFigures(redis.url)).depth === 0, 20_000, 'queue drained');
    const store = new SqliteStore({ dataDir });
    const stored = await store.listMessages(room.id, { after: 0, limit: 100_000 }).finally(() => store.close());
    const check = checkHistory({ stored: stored.messages, senders, sentByTest: (id) => ['one-cut', 'all-cut'].includes(id) || id.startsWith('cross-') });
    expectClean(check);
    console.log(`      figures: ${JSON.stringify({ ...figures, acked: check.acked, reconnects, errors: senders.flatMap((s) => [...s.errors]).reduce<Record<string, number>>((sum, [code, n]) => ({ ...sum, [code]: (sum[code] ?? 0) + n }), {}), slowestAnswerMs: Math.max(...senders.map((s) => s.slowestMs)) })}`);
  });
});
