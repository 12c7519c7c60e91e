import { expect } from 'chai';
import type { Socket } from 'socket.io-client';
import { describeWithRedis, startCluster, type TestCluster } from '../helpers/cluster.js';
import { request } from '../helpers/http-client.js';
import { ask, connect, connectError } from '../helpers/socket-client.js';
import { watchProcessFaults } from './harness.js';

/**
 * S23, S24 and the REST limit across a cluster: the budgets live in Redis, so two nodes
 * share one budget per user or address; with Redis down each node keeps limiting on its own
 * (an in-memory insurance budget of the same size). And S31: long-polling without sticky
 * sessions gets Engine.IO's clear "Session ID unknown" on the other node.
 */
describeWithRedis('security: floods across a cluster, and with Redis down (S23, S24, S31)', function () {
  watchProcessFaults();
  let cluster: TestCluster;
  const sockets: Socket[] = [];
  let nextIp = 1;
  const newIp = () => `192.0.2.${nextIp++}`;
  const url = (node: number) => cluster.nodes[node]!.url;

  async function guestFrom(node: number, ip: string, name: string): Promise<{ token: string; user: { id: string } }> {
    const res = await request(url(node), 'POST', '/api/auth/guest', { body: { name }, headers: { 'x-forwarded-for': ip } });
    expect(res.status).to.equal(201);
    return res.body;
  }

  before(async () => {
    cluster = await startCluster(2, {
      TRUST_PROXY: '1',
      RATE_LIMIT_HTTP: '10',
      RATE_LIMIT_MESSAGES: '6',
      RATE_LIMIT_HANDSHAKES: '8',
      RATE_LIMIT_EVENTS: '100000',
    });
  });
  afterEach(async () => {
    for (const s of sockets.splice(0)) s.close();
    for (const node of cluster.nodes) expect((await request(node.url, 'GET', '/healthz')).status).to.equal(200);
  });
  after(async () => {
    await cluster?.stop();
  });

  it('S23/REST one address shares one REST budget across nodes: 10 served in all, then 429 on both', async () => {
    const ip = newIp();
    const { token } = await guestFrom(0, newIp(), 'rest');
    const statuses: number[] = [];
    for (let i = 0; i < 14; i++) {
      statuses.push((await request(url(i % 2), 'GET', '/api/ice-servers', { token, headers: { 'x-forwarded-for': ip } })).status);
    }
    expect(statuses.slice(0, 10)).to.deep.equal(Array(10).fill(200));
    expect(statuses.slice(10)).to.deep.equal([429, 429, 429, 429]);
  });

  it('S23 one user shares one message budget across nodes: 6 sent in all, then RATE_LIMITED on both', async () => {
    const ip = newIp();
    const user = await guestFrom(0, ip, 'chatty');
    const room = (await request(url(0), 'POST', '/api/rooms', { token: user.token, body: { name: 'r' }, headers: { 'x-forwarded-for': ip } })).body.id;
    const on = await Promise.all([0, 1].map((n) => connect(url(n), '/chat', user.token, { extraHeaders: { 'x-forwarded-for': ip } })));
    sockets.push(...on);
    for (const s of on) expect((await ask(s, 'room:join', { roomId: room })).ok).to.equal(true);
    const codes: string[] = [];
    for (let i = 0; i < 10; i++) {
      const a = await ask(on[i % 2]!, 'chat:send', { roomId: room, clientMsgId: `m${i}`, text: `m${i}` });
      codes.push(a.ok ? 'ok' : a.error.code);
    }
    expect(codes).to.deep.equal([...Array(6).fill('ok'), ...Array(4).fill('RATE_LIMITED')]);
  });

  it('S23 REST and socket sends of one user share the message budget across nodes', async () => {
    const ip = newIp();
    const user = await guestFrom(0, ip, 'mixed');
    const headers = { 'x-forwarded-for': ip };
    const room = (await request(url(0), 'POST', '/api/rooms', { token: user.token, body: { name: 'r' }, headers })).body.id;
    const s = await connect(url(1), '/chat', user.token, { extraHeaders: headers });
    sockets.push(s);
    expect((await ask(s, 'room:join', { roomId: room })).ok).to.equal(true);
    const outcomes: string[] = [];
    for (let i = 0; i < 8; i++) {
      if (i % 2 === 0) {
        const res = await request(url(0), 'POST', '/api/messages', { token: user.token, body: { roomId: room, text: `m${i}`, clientMsgId: `m${i}` }, headers });
        outcomes.push(String(res.status));
      } else {
        const a = await ask(s, 'chat:send', { roomId: room, clientMsgId: `m${i}`, text: `m${i}` });
        outcomes.push(a.ok ? 'ok' : a.error.code);
      }
    }
    expect(outcomes).to.deep.equal(['201', 'ok', '201', 'ok', '201', 'ok', '429', 'RATE_LIMITED']);
  });

  it('S24 one address shares one handshake budget across nodes: 8 handshakes in all, then RATE_LIMITED on both', async () => {
    const ip = newIp();
    const { token } = await guestFrom(0, newIp(), 'handshaker');
    const codes: string[] = [];
    for (let i = 0; i < 12; i++) {
      const err = await connectError(url(i % 2), '/chat', `bad-${i}`, { extraHeaders: { 'x-forwarded-for': ip } });
      codes.push(err.message);
    }
    expect(codes).to.deep.equal([...Array(8).fill('UNAUTHORIZED'), ...Array(4).fill('RATE_LIMITED')]);
    expect((await connectError(url(1), '/rtc', token, { extraHeaders: { 'x-forwarded-for': ip } })).message).to.equal('RATE_LIMITED');
  });

  it('S31 long-polling without sticky sessions: the other node answers 400 {code:1, "Session ID unknown"}', async () => {
    const open = await fetch(`${url(0)}/ws/?EIO=4&transport=polling`);
    const { sid } = JSON.parse((await open.text()).slice(1)) as { sid: string };
    const elsewhere = await fetch(`${url(1)}/ws/?EIO=4&transport=polling&sid=${sid}`);
    expect(elsewhere.status).to.equal(400);
    expect(await elsewhere.json()).to.deep.equal({ code: 1, message: 'Session ID unknown' });
    // The session itself is fine on its own node.
    expect((await fetch(`${url(0)}/ws/?EIO=4&transport=polling&sid=${sid}`, { method: 'POST', body: '1' })).status).to.equal(200);
  });

  describe('with Redis down', () => {
    let token: string;
    let roomId: string;
    let chatter: Socket;
    const ip = '192.0.2.200';

    before(async () => {
      const user = await guestFrom(1, ip, 'outage');
      token = user.token;
      roomId = (await request(url(1), 'POST', '/api/rooms', { token, body: { name: 'outage' }, headers: { 'x-forwarded-for': ip } })).body.id;
      chatter = await connect(url(1), '/chat', token, { extraHeaders: { 'x-forwarded-for': ip } });
      expect((await ask(chatter, 'room:join', { roomId })).ok).to.equal(true);
      await cluster.redis.kill();
    });
    after(async () => {
      chatter?.close();
      // Back up, so that the nodes stop cleanly.
      await cluster.redis.start();
    });

    it('S23/REST each node still limits its REST budget: 429 after RATE_LIMIT_HTTP', async () => {
      const other = '192.0.2.201';
      const statuses: number[] = [];
      for (let i = 0; i < 13; i++) statuses.push((await request(url(0), 'GET', '/api/ice-servers', { token, headers: { 'x-forwarded-for': other } })).status);
      expect(statuses.filter((s) => s === 200).length, statuses.join(',')).to.be.within(1, 10);
      expect(statuses.slice(-3)).to.deep.equal([429, 429, 429]);
    });

    it('S23 each node still limits messages: never more than RATE_LIMIT_MESSAGES accepted, then RATE_LIMITED', async () => {
      const codes: string[] = [];
      for (let i = 0; i < 10; i++) {
        const a = await ask(chatter, 'chat:send', { roomId, clientMsgId: `down-${i}`, text: 'during the outage' }, 8000);
        codes.push(a.ok ? 'ok' : a.error.code);
      }
      // Without Redis nothing can be made durable, so nothing is acked (UNAVAILABLE), and the
      // node's own insurance budget still runs out after RATE_LIMIT_MESSAGES.
      expect(codes, codes.join(',')).to.deep.equal([...Array(6).fill('UNAVAILABLE'), ...Array(4).fill('RATE_LIMITED')]);
    });

    it('S24 each node still limits handshakes: RATE_LIMITED after RATE_LIMIT_HANDSHAKES', async () => {
      const storm = '192.0.2.202';
      const codes: string[] = [];
      for (let i = 0; i < 11; i++) codes.push((await connectError(url(0), '/chat', `bad-${i}`, { extraHeaders: { 'x-forwarded-for': storm } })).message);
      expect(codes.filter((c) => c === 'UNAUTHORIZED').length, codes.join(',')).to.be.within(1, 8);
      expect(codes.slice(-3)).to.deep.equal(['RATE_LIMITED', 'RATE_LIMITED', 'RATE_LIMITED']);
    });
  });
});
