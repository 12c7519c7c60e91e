import { expect } from 'chai';
import { createClient } from 'redis';
import type { Socket } from 'socket.io-client';
import { createRoom, guest, request } from '../helpers/http-client.js';
import { describeWithRedis, startCluster, type TestCluster } from '../helpers/cluster.js';
import type { TopologyKind } from '../helpers/redis-topology.js';
import { ask, connect, connectError, eventually, next } from '../helpers/socket-client.js';
import { nextSecond, signToken } from '../helpers/tokens.js';

const ADMIN = 'operator-cluster-admin-token-0123456789';
const JWT_SECRET = 'operator-cluster-jwt-secret-0123456789abcdef';

/**
 * The operator API across nodes: the admin call on node A, the user's sockets on node B.
 * On one Redis, and on a Redis Cluster (every key of a step in one slot, pub/sub across shards).
 */
describeWithRedis('cluster: the operator API reaches every node', () => {
  describe('on one Redis', () => {
    twoNodes('single');
    aNodeThatDoesNotAnswer();
  });
  describe('on a Redis Cluster (three masters)', () => twoNodes('cluster'));
});

/**
 * A cluster request waits for every node the adapter counts (PUBSUB NUMSUB on its request
 * channel, see dead-node-requests.test.ts); a subscriber that is no node stands for one that
 * is frozen: counted, never answering.
 */
function aNodeThatDoesNotAnswer(): void {
  let cluster: TestCluster;
  let frozen: ReturnType<typeof createClient>;
  const sockets: Socket[] = [];
  before(async () => {
    cluster = await startCluster(2, { ADMIN_TOKEN: ADMIN, JWT_SECRET });
    frozen = createClient({ url: cluster.redis.url });
    await frozen.connect();
  });
  after(async () => {
    sockets.forEach((s) => s.close());
    frozen?.destroy();
    await cluster?.stop();
  });

  it('a node that does not answer: 503 UNAVAILABLE, and the user’s sockets are closed all the same', async function () {
    this.timeout(30_000);
    const [a, b] = cluster.nodes;
    const ann = await guest(b!.url, 'Ann');
    const room = await createRoom(b!.url, ann.token);
    const chat = await connect(b!.url, '/chat', ann.token);
    sockets.push(chat);
    await ask(chat, 'room:join', { roomId: room.id });
    await frozen.subscribe('socket.io#/chat#', () => undefined);
    const closed = next(chat, 'disconnect', () => true, 15_000);
    const [online, disconnect] = await Promise.all([
      request(a!.url, 'GET', `/api/admin/rooms/${room.id}/participants`, { token: ADMIN }),
      request(a!.url, 'POST', `/api/admin/users/${ann.user.id}/disconnect`, { token: ADMIN, body: {} }),
    ]);
    expect(online.status).to.equal(503);
    expect(online.body.error.code).to.equal('UNAVAILABLE');
    expect(disconnect.status).to.equal(503);
    expect(await closed).to.equal('io server disconnect');
    await frozen.unsubscribe('socket.io#/chat#');
    const again = await request(a!.url, 'POST', `/api/admin/users/${ann.user.id}/disconnect`, { token: ADMIN, body: {} });
    expect(again.body).to.deep.equal({ disconnected: 0 });
  });
}

function twoNodes(topology: TopologyKind): void {
  let cluster: TestCluster;
  const sockets: Socket[] = [];
  const url = (i: number) => cluster.nodes[i]!.url;
  const open = async (nodeIndex: number, ns: '/chat' | '/rtc', token: string, options: Record<string, unknown> = {}) => {
    const s = await connect(url(nodeIndex), ns, token, options);
    sockets.push(s);
    return s;
  };
  const admin = (nodeIndex: number, method: string, path: string, body?: unknown) => request(url(nodeIndex), method, path, { token: ADMIN, body });

  before(async () => {
    cluster = await startCluster(2, { ADMIN_TOKEN: ADMIN, JWT_SECRET }, { topology });
  });
  afterEach(() => sockets.splice(0).forEach((s) => s.close()));
  after(async () => {
    await cluster?.stop();
  });

  it('lists the participants of every node, with the node that serves each, from either node', async () => {
    const ann = await guest(url(0), 'Ann');
    const bob = await guest(url(1), 'Bob');
    const room = await createRoom(url(0), ann.token);
    await ask(await open(0, '/chat', ann.token), 'room:join', { roomId: room.id });
    await ask(await open(1, '/chat', bob.token), 'room:join', { roomId: room.id });
    const call = await ask(await open(1, '/rtc', bob.token), 'call:join', { roomId: room.id });
    expect(call.ok).to.equal(true);
    const [a, b] = [cluster.nodes[0]!.app.config.nodeId, cluster.nodes[1]!.app.config.nodeId];
    const expected = [
      { userId: ann.user.id, name: 'Ann', nodeId: a },
      { userId: bob.user.id, name: 'Bob', nodeId: b, peerId: call.peerId },
    ];
    for (const i of [0, 1]) {
      const res = await admin(i, 'GET', `/api/admin/rooms/${room.id}/participants`);
      expect(res.status, JSON.stringify(res.body)).to.equal(200);
      expect(res.body.participants, `from node ${i + 1}`).to.have.deep.members(expected);
    }
    expect((await admin(1, 'GET', '/api/admin/rooms/nope/participants')).status).to.equal(404);
  });

  it('a system message sent on node A takes the room seq and reaches node B live', async () => {
    const ann = await guest(url(1), 'Ann');
    const room = await createRoom(url(1), ann.token);
    const chat = await open(1, '/chat', ann.token);
    await ask(chat, 'chat:send', { roomId: room.id, clientMsgId: 'c1', text: 'before' }).then((r) => expect(r.ok).to.equal(false));
    await ask(chat, 'room:join', { roomId: room.id });
    expect((await ask(chat, 'chat:send', { roomId: room.id, clientMsgId: 'c1', text: 'hello' })).message.seq).to.equal(1);
    const live = next(chat, 'chat:message', (m: { senderId: string }) => m.senderId === 'system');
    const res = await admin(0, 'POST', `/api/admin/rooms/${room.id}/messages`, { text: 'node maintenance' });
    expect(res.status, JSON.stringify(res.body)).to.equal(201);
    expect(res.body).to.include({ seq: 2, senderId: 'system', senderName: 'system', text: 'node maintenance' });
    expect(await live).to.deep.equal(res.body);
    expect((await ask(chat, 'chat:send', { roomId: room.id, clientMsgId: 'c2', text: 'after' })).message.seq).to.equal(3);
  });

  it('a disconnect on node A closes the user’s sockets on node B, with no session to recover', async () => {
    const ann = await guest(url(1), 'Ann');
    const room = await createRoom(url(1), ann.token);
    // Reconnection on, as a real client: it must come back only through a new handshake.
    const chat = await open(1, '/chat', ann.token, { reconnection: true, reconnectionDelay: 50, reconnectionDelayMax: 100 });
    await ask(chat, 'room:join', { roomId: room.id });
    const rtc = await open(1, '/rtc', ann.token);
    const closed = [next<string>(chat, 'disconnect'), next<string>(rtc, 'disconnect')];
    const res = await admin(0, 'POST', `/api/admin/users/${ann.user.id}/disconnect`, {});
    expect(res.body).to.deep.equal({ disconnected: 2 });
    expect(await Promise.all(closed)).to.deep.equal(['io server disconnect', 'io server disconnect']);
    // Socket.IO does not reconnect after a server disconnect; the client does it by hand.
    chat.connect();
    await next(chat, 'connect');
    expect(chat.recovered).to.equal(false);
  });

  it('with revoke on node A: node B refuses the old tokens (remembered ones too) on handshakes and REST, a later token works', async () => {
    const ann = await guest(url(1), 'Ann');
    // Node B has verified (and remembered) the token.
    await open(1, '/chat', ann.token);
    expect((await request(url(1), 'GET', '/api/ice-servers', { token: ann.token })).status).to.equal(200);
    const noIat = await signToken(JWT_SECRET, ann.user.id, { iat: null });
    expect((await request(url(1), 'GET', '/api/ice-servers', { token: noIat })).status).to.equal(200);

    const res = await admin(0, 'POST', `/api/admin/users/${ann.user.id}/disconnect`, { revoke: true });
    expect(res.body).to.deep.equal({ disconnected: 1 });
    const refused = await connectError(url(1), '/chat', ann.token);
    expect(refused.message).to.equal('UNAUTHORIZED');
    expect(refused.data?.message).to.match(/revoked/);
    for (const token of [ann.token, noIat]) {
      const rest = await request(url(1), 'GET', '/api/ice-servers', { token });
      expect(rest.status).to.equal(401);
      expect(rest.body.error).to.include({ code: 'UNAUTHORIZED' });
    }
    expect((await connectError(url(1), '/rtc', noIat)).message).to.equal('UNAUTHORIZED');

    await nextSecond();
    const fresh = await signToken(JWT_SECRET, ann.user.id, { name: 'Ann' });
    await open(1, '/chat', fresh);
    await open(0, '/rtc', fresh);
    expect((await request(url(1), 'GET', '/api/ice-servers', { token: fresh })).status).to.equal(200);

    // Survives a restart of node B: a new process loads the revocations from Redis.
    await cluster.nodes[1]!.stop();
    cluster.nodes.splice(1, 1);
    await cluster.addNode();
    expect(cluster.nodes).to.have.length(2);
    expect((await connectError(url(1), '/chat', ann.token)).data?.message).to.match(/revoked/);
    expect((await request(url(1), 'GET', '/api/ice-servers', { token: noIat })).status).to.equal(401);
    expect((await request(url(1), 'GET', '/api/ice-servers', { token: fresh })).status).to.equal(200);
    await eventually(async () => (await admin(1, 'GET', '/healthz')).status === 200, 5000, 'restarted node healthy');
  });
}
