import { generateKeyPairSync } from 'node:crypto';
import { expect } from 'chai';
import { SignJWT } from 'jose';
import type { Socket } from 'socket.io-client';
import { createRoom, guest, request } from '../helpers/http-client.js';
import { ask, connect, connectError, next, quietFor } from '../helpers/socket-client.js';
import { expectError, JWT_SECRET, sleep, useSecureServer, watchProcessFaults } from './harness.js';
import { RawClient } from './raw-client.js';

/**
 * S3–S8: tokens. HS256 is pinned; unsigned, key-confused, foreign, expired and not-yet-valid
 * tokens are refused on REST (401 UNAUTHORIZED) and on the handshake (connect_error
 * UNAUTHORIZED); an expiring socket is told and closed, and connection-state recovery cannot
 * bring it back; tokens come from `auth` only and never reach a log line.
 */

const key = new TextEncoder().encode(JWT_SECRET);
const b64 = (o: object) => Buffer.from(JSON.stringify(o)).toString('base64url');
const now = () => Math.floor(Date.now() / 1000);

describe('security: tokens (S3–S8)', function () {
  watchProcessFaults();
  let roomId: string;
  const sockets: Socket[] = [];
  const raws: RawClient[] = [];
  // Many handshakes in a few seconds: the storm limit is S24's business, not this suite's.
  const { server, control } = useSecureServer({ RATE_LIMIT_HANDSHAKES: '10000' }, [sockets, raws]);
  /** Every token this suite handed to the server, good or bad: none may appear in a log. */
  const seenTokens = new Set<string>();

  before(() => {
    roomId = control.roomId;
  });

  /** Refused with 401 UNAUTHORIZED on REST, and connect_error UNAUTHORIZED on both namespaces; nothing stored. */
  async function refusedEverywhere(label: string, token: string): Promise<void> {
    seenTokens.add(token);
    const before = (await request(server.url, 'GET', `/api/messages?roomId=${roomId}`, { token: control.tokens.a })).body.messages.length;
    expectError(await request(server.url, 'GET', `/api/rooms/${roomId}`, { token }), 401, 'UNAUTHORIZED', `${label}: GET room`);
    expectError(
      await request(server.url, 'POST', '/api/messages', { token, body: { roomId, text: 'forged' } }),
      401,
      'UNAUTHORIZED',
      `${label}: POST message`,
    );
    for (const nsp of ['/chat', '/rtc']) {
      const err = await connectError(server.url, nsp, token);
      expect(err.message, `${label}: ${nsp}`).to.equal('UNAUTHORIZED');
      expect(err.data?.code, `${label}: ${nsp}`).to.equal('UNAUTHORIZED');
    }
    const after = (await request(server.url, 'GET', `/api/messages?roomId=${roomId}`, { token: control.tokens.a })).body.messages.length;
    expect(after, `${label}: nothing stored`).to.equal(before);
  }

  it('S3 no credentials: the handshake is refused with UNAUTHORIZED and no handler can be reached', async () => {
    for (const nsp of ['/chat', '/rtc']) {
      expect((await connectError(server.url, nsp, undefined)).message).to.equal('UNAUTHORIZED');
      expect((await connectError(server.url, nsp, undefined, { auth: { token: '' } })).message).to.equal('UNAUTHORIZED');
    }
    // By hand: CONNECT without a token, then events anyway. The namespace never connected, so
    // Socket.IO closes the connection instead of running a handler, and nobody hears of it.
    const raw = await RawClient.open(server.port);
    raws.push(raw);
    const answer = await raw.connect('/chat', {});
    expect(answer).to.deep.include({ ok: false, message: 'UNAUTHORIZED' });
    const presence = quietFor(control.b, 'room:presence', 300);
    raw.sendRaw(`42/chat,1${JSON.stringify(['room:join', { roomId }])}`);
    raw.sendRaw(`42/chat,2${JSON.stringify(['chat:send', { roomId, clientMsgId: 'anon', text: 'anonymous' }])}`);
    expect(await raw.waitClosed()).to.equal(true);
    expect(await raw.ackFor('/chat', 1, 10)).to.equal(null);
    expect(await presence, 'no presence from an unauthenticated client').to.deep.equal([]);
  });

  it('S4 alg:none tokens (any spelling, with or without a signature) are refused: 401 and UNAUTHORIZED', async () => {
    const claims = { sub: 'victim', name: 'Admin', guest: false, exp: now() + 600 };
    for (const alg of ['none', 'None', 'NONE', 'nOnE']) {
      await refusedEverywhere(`alg ${alg}`, `${b64({ alg, typ: 'JWT' })}.${b64(claims)}.`);
    }
    // A none header in front of a valid signature of other claims.
    const good = await new SignJWT({ name: 'x' }).setProtectedHeader({ alg: 'HS256' }).setSubject('u').setExpirationTime(now() + 600).sign(key);
    await refusedEverywhere('none header, stolen signature', `${b64({ alg: 'none' })}.${b64(claims)}.${good.split('.')[2]}`);
  });

  it('S5 key confusion: RS256 tokens and HS256 tokens keyed with a public key are refused: 401 and UNAUTHORIZED', async () => {
    const { publicKey, privateKey } = generateKeyPairSync('rsa', { modulusLength: 2048 });
    const pem = publicKey.export({ type: 'spki', format: 'pem' }).toString();
    const claims = { name: 'mallory', guest: false };
    const rs256 = await new SignJWT(claims).setProtectedHeader({ alg: 'RS256' }).setSubject('victim').setExpirationTime(now() + 600).sign(privateKey);
    const confused = await new SignJWT(claims)
      .setProtectedHeader({ alg: 'HS256' })
      .setSubject('victim')
      .setExpirationTime(now() + 600)
      .sign(new TextEncoder().encode(pem));
    // The right secret under another HMAC algorithm: the algorithm is pinned, not negotiated.
    const hs512 = await new SignJWT(claims).setProtectedHeader({ alg: 'HS512' }).setSubject('victim').setExpirationTime(now() + 600).sign(key);
    await refusedEverywhere('RS256', rs256);
    await refusedEverywhere('HS256 keyed with the RSA public key', confused);
    await refusedEverywhere('HS512 with the server secret', hs512);
  });

  it('S6 wrong secret, expired, not-yet-valid (nbf) and exp-less tokens are refused; a valid hand-made one is accepted', async () => {
    const sign = (build: (j: SignJWT) => SignJWT, secret = key) =>
      build(new SignJWT({ name: 'x', guest: true }).setProtectedHeader({ alg: 'HS256' }).setSubject('hand-made')).sign(secret);
    await refusedEverywhere('another secret', await sign((j) => j.setExpirationTime(now() + 600), new TextEncoder().encode('x'.repeat(48))));
    await refusedEverywhere('expired a second ago', await sign((j) => j.setExpirationTime(now() - 1)));
    await refusedEverywhere('issued by the server, expired', await server.app.tokens.issue({ id: 'late', name: 'late', guest: true }, -30));
    await refusedEverywhere('nbf in 10 minutes', await sign((j) => j.setNotBefore(now() + 600).setExpirationTime(now() + 1200)));
    await refusedEverywhere('no exp', await sign((j) => j));
    await refusedEverywhere('tampered payload', (await sign((j) => j.setExpirationTime(now() + 600))).replace(/\.[^.]+\./, `.${b64({ sub: 'admin', exp: now() + 600 })}.`));

    // The refusals are about the tokens, not the key: the same secret, used properly, works.
    const good = await sign((j) => j.setNotBefore(now() - 5).setExpirationTime(now() + 600));
    seenTokens.add(good);
    expect((await request(server.url, 'GET', `/api/rooms/${roomId}`, { token: good })).status).to.equal(200);
    sockets.push(await connect(server.url, '/chat', good), await connect(server.url, '/rtc', good));
  });

  it('S7 a socket whose token expires gets auth:expired, is disconnected, and recovery cannot bring it back', async () => {
    const user = await guest(server.url, 'brief');
    const short = await server.app.tokens.issue({ id: user.user.id, name: 'brief', guest: true }, 2);
    seenTokens.add(short).add(user.token);

    // A raw client, so that the recovery credentials (pid, offset) can be replayed exactly.
    const raw = await RawClient.open(server.port);
    raws.push(raw);
    const first = await raw.connect('/chat', { token: short });
    if (!first.ok) throw new Error(`connect refused: ${first.message}`);
    expect(first.pid, 'connection-state recovery is on').to.be.a('string');
    expect((await raw.ask('/chat', 'room:join', { roomId })).ok).to.equal(true);
    const offset = raw.lastOffset('/chat');
    expect(offset).to.be.a('string');

    const expired = await raw.frame((f) => f.startsWith('42/chat,["auth:expired"'), 4000);
    expect(expired, 'auth:expired before the close').to.be.a('string');
    expect(await raw.waitClosed(2000), 'closed after auth:expired').to.equal(true);

    // A message the expired socket must never see.
    const sent = await ask(control.a, 'chat:send', { roomId, clientMsgId: `after-expiry-${Date.now()}`, text: 'not for expired eyes' });
    expect(sent.ok).to.equal(true);

    // Back with the same pid and offset and the expired token: refused, and nothing replayed.
    const again = await RawClient.open(server.port);
    raws.push(again);
    const refused = await again.connect('/chat', { token: short, pid: first.pid, offset });
    expect(refused).to.deep.include({ ok: false, message: 'UNAUTHORIZED' });
    expect(again.events('/chat'), 'no missed packet leaks before the refusal').to.deep.equal([]);

    // Back with a fresh token: a new session (new sid), not the expired one.
    const fresh = await server.app.tokens.issue({ id: user.user.id, name: 'brief', guest: true }, 600);
    seenTokens.add(fresh);
    const renewed = await RawClient.open(server.port);
    raws.push(renewed);
    const answer = await renewed.connect('/chat', { token: fresh, pid: first.pid, offset });
    expect(answer.ok).to.equal(true);
    expect((answer as { sid: string }).sid, 'the expired session is not recovered').not.to.equal(first.sid);
  });

  it('S7 a token that expires during a network drop cannot recover the session, nor read what it missed', async () => {
    const user = await guest(server.url, 'dropper');
    const short = await server.app.tokens.issue({ id: user.user.id, name: 'dropper', guest: true }, 2);
    seenTokens.add(short).add(user.token);
    const raw = await RawClient.open(server.port);
    raws.push(raw);
    const first = await raw.connect('/chat', { token: short });
    if (!first.ok) throw new Error(`connect refused: ${first.message}`);
    expect((await raw.ask('/chat', 'room:join', { roomId })).ok).to.equal(true);
    const offset = raw.lastOffset('/chat');
    expect(offset).to.be.a('string');
    // A transport failure is recoverable: Socket.IO keeps the session for RECOVERY_WINDOW_MS.
    raw.drop();
    const missed = `missed-${Date.now()}`;
    expect((await ask(control.a, 'chat:send', { roomId, clientMsgId: missed, text: 'sent during the drop' })).ok).to.equal(true);
    const expiresIn = (await server.app.tokens.verify(short)).expiresAt - Date.now();
    await sleep(Math.max(0, expiresIn) + 100);

    const back = await RawClient.open(server.port);
    raws.push(back);
    const refused = await back.connect('/chat', { token: short, pid: first.pid, offset });
    expect(refused).to.deep.include({ ok: false, message: 'UNAUTHORIZED' });
    expect(back.frames.join('\n'), 'the message sent during the drop is not replayed').not.to.contain(missed);
  });

  it('S7 control: with a valid token the same drop is recovered (same sid) and the missed message replayed', async () => {
    // Shows that the two tests above would see a recovery if there were one.
    const user = await guest(server.url, 'recovers');
    seenTokens.add(user.token);
    const raw = await RawClient.open(server.port);
    raws.push(raw);
    const first = await raw.connect('/chat', { token: user.token });
    if (!first.ok) throw new Error(`connect refused: ${first.message}`);
    expect((await raw.ask('/chat', 'room:join', { roomId })).ok).to.equal(true);
    const offset = raw.lastOffset('/chat');
    expect(offset).to.be.a('string');
    raw.drop();
    const missed = `replayed-${Date.now()}`;
    expect((await ask(control.a, 'chat:send', { roomId, clientMsgId: missed, text: 'replayed' })).ok).to.equal(true);
    const back = await RawClient.open(server.port);
    raws.push(back);
    const answer = await back.connect('/chat', { token: user.token, pid: first.pid, offset });
    expect(answer).to.deep.include({ ok: true, sid: first.sid });
    expect(back.frames.join('\n')).to.contain(missed);
  });

  it('S8 a token in the query string is ignored: UNAUTHORIZED on the handshake, 401 on REST', async () => {
    const { token } = await guest(server.url, 'query');
    seenTokens.add(token);
    for (const nsp of ['/chat', '/rtc']) {
      const err = await connectError(server.url, nsp, undefined, { query: { token, auth: token, access_token: token } });
      expect(err.message, nsp).to.equal('UNAUTHORIZED');
    }
    for (const q of [`token=${token}`, `access_token=${token}`]) {
      expectError(await request(server.url, 'GET', `/api/ice-servers?${q}`), 401, 'UNAUTHORIZED', q);
    }
    // The token only in `auth` works, so the refusals above are about where it was put.
    const socket = await connect(server.url, '/chat', token);
    sockets.push(socket);
    expect((await ask(socket, 'room:join', { roomId })).ok).to.equal(true);
  });

  it('S7 an expiring socket is told before it is closed (socket.io-client sees auth:expired, then io server disconnect)', async () => {
    const user = await guest(server.url, 'client');
    const short = await server.app.tokens.issue({ id: user.user.id, name: 'client', guest: true }, 2);
    seenTokens.add(short).add(user.token);
    const socket = await connect(server.url, '/rtc', short);
    sockets.push(socket);
    const order: string[] = [];
    socket.on('auth:expired', () => order.push('auth:expired'));
    const reason = await next<string>(socket, 'disconnect', () => true, 4000);
    order.push(reason);
    expect(order).to.deep.equal(['auth:expired', 'io server disconnect']);
  });

  // Last: it reads what the whole suite made the server log.
  it('S8 no log line holds a token or the JWT secret, though the suite logged plenty', async () => {
    const room = await createRoom(server.url, control.tokens.a, { name: 'logged' });
    expect(room.id).to.be.a('string');
    seenTokens.add(control.tokens.a).add(control.tokens.b);
    expect(server.logs.length, 'the capturing logger saw the traffic').to.be.above(20);
    const all = server.logs.join('\n');
    for (const token of seenTokens) {
      expect(all.includes(token), `a token is in the logs: ${token.slice(0, 16)}…`).to.equal(false);
      // A signature alone would be enough to replay a token.
      const signature = token.split('.')[2];
      if (signature && signature.length > 20) expect(all.includes(signature), 'a token signature is in the logs').to.equal(false);
    }
    expect(all.includes(JWT_SECRET), 'the JWT secret is in the logs').to.equal(false);
  });
});
