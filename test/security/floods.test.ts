import { expect } from 'chai';
import type { Socket } from 'socket.io-client';
import { request } from '../helpers/http-client.js';
import { ask, collect, connect, connectError, next } from '../helpers/socket-client.js';
import { expectError, sleep, useSecureServer, watchProcessFaults } from './harness.js';

/**
 * S23, S24, S26 and the REST limit on one node: message floods, connection caps, handshake
 * storms and signaling floods each get their clear code (RATE_LIMITED with retryAfterMs,
 * TOO_MANY_CONNECTIONS, 429 with Retry-After) while the control pair keeps talking. Every
 * attacker comes from its own address (X-Forwarded-For, TRUST_PROXY=1), so each budget is
 * its own. Cluster-wide limits and Redis outages: floods-cluster.test.ts.
 */

const LIMITS = {
  TRUST_PROXY: '1',
  RATE_LIMIT_MESSAGES: '10',
  RATE_LIMIT_HTTP: '30',
  RATE_LIMIT_HANDSHAKES: '20',
  MAX_CONNECTIONS_PER_USER: '3',
  MAX_CONNECTIONS_PER_IP: '4',
};

describe('security: floods on one node (S23, S24, S26, REST 429)', function () {
  watchProcessFaults();
  const sockets: Socket[] = [];
  const { server, control } = useSecureServer(LIMITS, [sockets]);
  let nextIp = 1;
  /** A fresh client address for each attacker. */
  const newIp = () => `198.51.100.${nextIp++}`;
  const from = (ip: string) => ({ extraHeaders: { 'x-forwarded-for': ip } });

  async function guestFrom(ip: string, name: string): Promise<{ token: string; user: { id: string } }> {
    const res = await request(server.url, 'POST', '/api/auth/guest', { body: { name }, headers: { 'x-forwarded-for': ip } });
    expect(res.status).to.equal(201);
    return res.body;
  }
  async function open(ip: string, nsp: string, token: string): Promise<Socket> {
    const socket = await connect(server.url, nsp, token, from(ip));
    sockets.push(socket);
    return socket;
  }

  it('S23 a burst of 1000 chat:send gets exactly RATE_LIMIT_MESSAGES through; the rest RATE_LIMITED with retryAfterMs', async () => {
    const ip = newIp();
    const flooder = await guestFrom(ip, 'flooder');
    const socket = await open(ip, '/chat', flooder.token);
    expect((await ask(socket, 'room:join', { roomId: control.roomId })).ok).to.equal(true);
    const heard = collect(control.b, 'chat:message');
    const answers = await Promise.all(
      Array.from({ length: 1000 }, (_, i) => ask(socket, 'chat:send', { roomId: control.roomId, clientMsgId: `flood-${i}`, text: `flood ${i}` }, 8000)),
    );
    const ok = answers.filter((a) => a.ok);
    expect(ok).to.have.length(10);
    for (const a of answers.filter((x) => !x.ok)) {
      expect(a.error.code).to.equal('RATE_LIMITED');
      expect(a.error.retryAfterMs).to.be.a('number').within(1, 10_000);
    }
    await sleep(100);
    expect(heard.filter((m: any) => m.senderId === flooder.user.id)).to.have.length(10);
    // The budget is the user's: a second socket of the same user is limited too.
    const second = await open(ip, '/chat', flooder.token);
    expect((await ask(second, 'room:join', { roomId: control.roomId })).ok).to.equal(true);
    expect((await ask(second, 'chat:send', { roomId: control.roomId, clientMsgId: 'second', text: 'x' })).error?.code).to.equal('RATE_LIMITED');
    expect(socket.connected && second.connected, 'limited, not disconnected').to.equal(true);
  });

  it('S24 per-user cap: the 4th socket of a user (MAX_CONNECTIONS_PER_USER=3) gets TOO_MANY_CONNECTIONS on either namespace', async () => {
    const ip = newIp();
    const user = await guestFrom(ip, 'many');
    await open(ip, '/chat', user.token);
    await open(ip, '/rtc', user.token);
    await open(newIp(), '/chat', user.token); // the cap is per user, whatever the address
    for (const nsp of ['/chat', '/rtc']) {
      const err = await connectError(server.url, nsp, user.token, from(newIp()));
      expect(err.message, nsp).to.equal('TOO_MANY_CONNECTIONS');
      expect(err.data?.code).to.equal('TOO_MANY_CONNECTIONS');
    }
  });

  it('S24 per-address cap: the 5th socket from one address (MAX_CONNECTIONS_PER_IP=4) gets TOO_MANY_CONNECTIONS; other addresses are fine', async () => {
    const ip = newIp();
    const users = await Promise.all([1, 2, 3].map((i) => guestFrom(newIp(), `nat-${i}`)));
    for (const [i, u] of users.entries()) await open(ip, i === 2 ? '/rtc' : '/chat', u.token);
    await open(ip, '/rtc', users[0]!.token);
    const err = await connectError(server.url, '/chat', users[1]!.token, from(ip));
    expect(err.message).to.equal('TOO_MANY_CONNECTIONS');
    await open(newIp(), '/chat', users[1]!.token);
  });

  it('S24 handshake storm: past RATE_LIMIT_HANDSHAKES (20 per 10 s) an address gets RATE_LIMITED with retryAfterMs, valid token or not', async () => {
    const ip = newIp();
    const user = await guestFrom(newIp(), 'stormy');
    // Bad tokens cost the budget too: a storm of them cannot be repeated for free.
    const storm = await Promise.all(Array.from({ length: 40 }, (_, i) => connectError(server.url, i % 2 ? '/chat' : '/rtc', `bad-${i}`, from(ip))));
    const codes = storm.map((e) => e.message);
    expect(codes.filter((c) => c === 'UNAUTHORIZED')).to.have.length(20);
    expect(codes.filter((c) => c === 'RATE_LIMITED')).to.have.length(20);
    for (const e of storm.filter((x) => x.message === 'RATE_LIMITED')) {
      expect(e.data?.code).to.equal('RATE_LIMITED');
      expect((e.data as { retryAfterMs?: number }).retryAfterMs).to.be.within(1, 10_000);
    }
    const valid = await connectError(server.url, '/chat', user.token, from(ip));
    expect(valid.message, 'a valid token from the storming address waits too').to.equal('RATE_LIMITED');
    // Another address is not affected, nor are the sockets already connected (the control pair).
    await open(newIp(), '/chat', user.token);
  });

  it('S26 signaling abuse: candidate floods are rate-limited, oversized or malformed signals refused, unknown peers PEER_NOT_FOUND', async () => {
    const ipA = newIp();
    const ipB = newIp();
    const a = await guestFrom(ipA, 'caller');
    const b = await guestFrom(ipB, 'callee');
    const callRoom = (await request(server.url, 'POST', '/api/rooms', { token: a.token, body: { name: 'call' }, headers: { 'x-forwarded-for': ipA } })).body.id;
    const rtcA = await open(ipA, '/rtc', a.token);
    const rtcB = await open(ipB, '/rtc', b.token);
    expect((await ask(rtcA, 'call:join', { roomId: callRoom })).ok).to.equal(true);
    const peerB = (await ask(rtcB, 'call:join', { roomId: callRoom })).peerId as string;
    const received = collect(rtcB, 'rtc:signal');

    const started = Date.now();
    const candidate = (i: number) => ({ to: peerB, kind: 'ice-candidate', data: { candidate: `candidate:${i} 1 udp 2122260223 10.0.0.1 5${i % 10000} typ host`, sdpMid: '0' } });
    const answers = await Promise.all(Array.from({ length: 2000 }, (_, i) => ask(rtcA, 'rtc:signal', candidate(i), 8000)));
    const elapsed = (Date.now() - started) / 1000;
    const ok = answers.filter((x) => x.ok).length;
    expect(ok, 'within RATE_LIMIT_EVENTS (50/s)').to.be.within(1, Math.ceil(50 * (elapsed + 1)));
    for (const x of answers.filter((y) => !y.ok)) expect(x.error.code).to.equal('RATE_LIMITED');
    await sleep(200);
    expect(received, 'the callee got exactly the signals that were accepted').to.have.length(ok);
    await sleep(1000); // a fresh event budget for the checks below

    const refusals: Array<[string, unknown, string]> = [
      ['a 40 KB SDP', { to: peerB, kind: 'offer', data: { type: 'offer', sdp: 'v=0\r\n' + 'a'.repeat(40 * 1024) } }, 'VALIDATION_FAILED'],
      ['a 3 KB candidate', { to: peerB, kind: 'ice-candidate', data: { candidate: 'c'.repeat(3 * 1024) } }, 'VALIDATION_FAILED'],
      ['an unknown SDP type', { to: peerB, kind: 'offer', data: { type: 'bogus', sdp: 'v=0' } }, 'VALIDATION_FAILED'],
      ['an unknown kind', { to: peerB, kind: 'renegotiate', data: {} }, 'VALIDATION_FAILED'],
      ['a peer that does not exist', { to: 'no-such-peer', kind: 'offer', data: { type: 'offer', sdp: 'v=0' } }, 'PEER_NOT_FOUND'],
      ['itself', { to: rtcA.id, kind: 'offer', data: { type: 'offer', sdp: 'v=0' } }, 'PEER_NOT_FOUND'],
    ];
    for (const [what, payload, code] of refusals) expect((await ask(rtcA, 'rtc:signal', payload)).error?.code, what).to.equal(code);
    // A 5 MB SDP is over the frame limit: Socket.IO drops the sender's connection unanswered.
    const dropped = next<string>(rtcA, 'disconnect');
    rtcA.emit('rtc:signal', { to: peerB, kind: 'offer', data: { type: 'offer', sdp: 'a'.repeat(5 * 1024 * 1024) } });
    expect(await dropped).to.equal('transport close');
    await sleep(100);
    expect(received, 'no refused signal reached the callee').to.have.length(ok);
    expect(rtcB.connected).to.equal(true);
  });

  it('REST flood: past RATE_LIMIT_HTTP an address gets 429 RATE_LIMITED with Retry-After; others and /healthz are served', async () => {
    const ip = newIp();
    const { token } = await guestFrom(newIp(), 'rester');
    const statuses: number[] = [];
    let limited;
    for (let i = 0; i < 31; i++) {
      const res = await request(server.url, 'GET', '/api/ice-servers', { token, headers: { 'x-forwarded-for': ip } });
      statuses.push(res.status);
      limited = res;
    }
    expect(statuses.filter((s) => s === 200)).to.have.length(30);
    expectError(limited!, 429, 'RATE_LIMITED');
    expect(Number(limited!.headers.get('retry-after'))).to.be.within(1, 60);
    expect(limited!.body.error.retryAfterMs).to.be.within(1, 60_000);
    // Unauthenticated requests from the address are limited too (the limit runs before auth).
    expectError(await request(server.url, 'POST', '/api/auth/guest', { body: { name: 'x' }, headers: { 'x-forwarded-for': ip } }), 429, 'RATE_LIMITED');
    expect((await request(server.url, 'GET', '/healthz', { headers: { 'x-forwarded-for': ip } })).status).to.equal(200);
    expect((await request(server.url, 'GET', '/api/ice-servers', { token, headers: { 'x-forwarded-for': newIp() } })).status).to.equal(200);
  });
});
