import { expect } from 'chai';
import type { Socket } from 'socket.io-client';
import { createRoom, guest, request } from '../helpers/http-client.js';
import { ask, collect, connect, eventually, next, quietFor } from '../helpers/socket-client.js';
import { describeWithRedis, startCluster, type TestCluster } from '../helpers/cluster.js';
import type { TopologyKind } from '../helpers/redis-topology.js';
import { forEachStore, sqlite, type StoreUnderTest } from '../helpers/stores.js';

/**
 * The cluster contract: what clients of three nodes see must not depend on how Redis is
 * deployed. Each store on one Redis; SQLite on a three-master Redis Cluster.
 */
describeWithRedis('cluster: three nodes over Redis behave as one server', () => {
  describe('on one Redis', () => forEachStore((store) => threeNodes(store, 'single')));
  describe('on a Redis Cluster (three masters)', () => threeNodes(sqlite, 'cluster'));
  describe('through Sentinels (a master, a replica, three Sentinels)', () => threeNodes(sqlite, 'sentinel'));
});

function threeNodes(store: StoreUnderTest, topology: TopologyKind): void {
  let cluster: TestCluster;
  const sockets: Socket[] = [];
  const open = async (nodeIndex: number, ns: '/chat' | '/rtc', token: string) => {
    const s = await connect(cluster.nodes[nodeIndex]!.url, ns, token);
    sockets.push(s);
    return s;
  };

  before(async () => {
    cluster = await startCluster(3, store.env(), { topology });
  });
  afterEach(() => sockets.splice(0).forEach((s) => s.close()));
  after(async () => {
    await cluster?.stop();
  });

  it('chat, presence and typing cross nodes; seq is one sequence for the room', async () => {
    const [n1, n2, n3] = cluster.nodes;
    const ann = await guest(n1!.url, 'ann');
    const bob = await guest(n2!.url, 'bob');
    const cat = await guest(n3!.url, 'cat');
    const room = await createRoom(n1!.url, ann.token, { name: 'cluster' });
    const a = await open(0, '/chat', ann.token);
    const b = await open(1, '/chat', bob.token);
    const c = await open(2, '/chat', cat.token);
    await ask(a, 'room:join', { roomId: room.id });
    const joinedAtA = next(a, 'room:presence', (p) => 'joined' in p && p.joined.userId === bob.user.id);
    await ask(b, 'room:join', { roomId: room.id });
    await joinedAtA;
    const cJoin = await ask(c, 'room:join', { roomId: room.id });
    expect(cJoin.participants.map((p: { userId: string }) => p.userId)).to.have.members([ann.user.id, bob.user.id, cat.user.id]);

    const atA = collect(a, 'chat:message');
    const atB = collect(b, 'chat:message');
    const atC = collect(c, 'chat:message');
    const sends = [
      ask(a, 'chat:send', { roomId: room.id, clientMsgId: 'a1', text: 'from node 1' }),
      ask(b, 'chat:send', { roomId: room.id, clientMsgId: 'b1', text: 'from node 2' }),
      ask(c, 'chat:send', { roomId: room.id, clientMsgId: 'c1', text: 'from node 3' }),
    ];
    const acks = await Promise.all(sends);
    expect(acks.map((r) => r.message.seq).sort()).to.deep.equal([1, 2, 3]);
    await eventually(() => atA.length === 2 && atB.length === 2 && atC.length === 2, 5000, 'cross-node delivery');

    const typing = next(c, 'chat:typing');
    await ask(a, 'chat:typing', { roomId: room.id, typing: true });
    expect(await typing).to.deep.equal({ roomId: room.id, userId: ann.user.id, typing: true });

    // Another user cannot take over a clientMsgId.
    const retry = await ask(c, 'chat:send', { roomId: room.id, clientMsgId: 'a1', text: 'from node 1' }).catch(() => null);
    expect(retry?.error?.code).to.equal('CONFLICT');
    // A retry on the same node returns the original and delivers nothing again.
    expect((await ask(a, 'chat:send', { roomId: room.id, clientMsgId: 'a1', text: 'from node 1' })).message).to.deep.equal(acks[0].message);
    expect(await quietFor(b, 'chat:message', 300)).to.deep.equal([]);
    // A retry that lands on another node (its first node may have died before fanning out)
    // returns the original and fans it out again, same seq: members drop it by seq if they had it.
    const a2 = await open(2, '/chat', ann.token);
    await ask(a2, 'room:join', { roomId: room.id });
    const redelivered = next(b, 'chat:message');
    const again = await ask(a2, 'chat:send', { roomId: room.id, clientMsgId: 'a1', text: 'from node 1' });
    expect(again.message).to.deep.equal(acks[0].message);
    expect(await redelivered).to.deep.equal(acks[0].message);

    // History and lastSeq agree on every node; the queue persists to the shared store.
    for (const node of cluster.nodes) {
      const res = await request(node.url, 'GET', `/api/messages?roomId=${room.id}`, { token: ann.token });
      expect(res.body.messages.map((m: { seq: number }) => m.seq)).to.deep.equal([1, 2, 3]);
      const details = await request(node.url, 'GET', `/api/rooms/${room.id}`, { token: ann.token });
      expect(details.body.lastSeq).to.equal(3);
    }
    await eventually(async () => (await cluster.nodes[0]!.app.store.listMessages(room.id, { limit: 10 })).messages.length === 3, 5000, 'persisted');
  });

  it('signaling, media and call capacity cross nodes', async () => {
    const [n1] = cluster.nodes;
    const ann = await guest(n1!.url, 'ann');
    const bob = await guest(n1!.url, 'bob');
    const cat = await guest(n1!.url, 'cat');
    const room = await createRoom(n1!.url, ann.token, { name: 'call', maxParticipants: 2 });
    const a = await open(0, '/rtc', ann.token);
    const b = await open(1, '/rtc', bob.token);
    const c = await open(2, '/rtc', cat.token);
    const aJoin = await ask(a, 'call:join', { roomId: room.id });
    const peerJoined = next(a, 'call:peer-joined');
    const bJoin = await ask(b, 'call:join', { roomId: room.id });
    expect(bJoin.peers.map((p: { peerId: string }) => p.peerId)).to.deep.equal([aJoin.peerId]);
    expect((await peerJoined).peerId).to.equal(bJoin.peerId);
    expect((await ask(c, 'call:join', { roomId: room.id })).error.code).to.equal('ROOM_FULL');

    const offer = next(b, 'rtc:signal');
    expect((await ask(a, 'rtc:signal', { to: bJoin.peerId, kind: 'offer', data: { type: 'offer', sdp: 'v=0' } })).ok).to.equal(true);
    expect(await offer).to.deep.equal({ from: aJoin.peerId, kind: 'offer', data: { type: 'offer', sdp: 'v=0' } });
    expect((await ask(c, 'rtc:signal', { to: bJoin.peerId, kind: 'offer', data: { type: 'offer', sdp: 'x' } })).error.code).to.equal('NOT_IN_ROOM');

    const media = next(a, 'rtc:media');
    await ask(b, 'rtc:media', { audio: true, video: false, screen: false });
    expect(await media).to.deep.equal({ peerId: bJoin.peerId, audio: true, video: false, screen: false });

    const left = next(a, 'call:peer-left');
    b.close();
    expect(await left).to.deep.equal({ roomId: room.id, peerId: bJoin.peerId });
    expect((await ask(c, 'call:join', { roomId: room.id })).ok).to.equal(true);
  });
}
