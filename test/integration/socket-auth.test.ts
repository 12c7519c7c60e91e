import { readFileSync } from 'node:fs';
import { request as httpRequest } from 'node:http';
import { join } from 'node:path';
import { expect } from 'chai';
import { SignJWT } from 'jose';
import type { Socket } from 'socket.io-client';
import { guest } from '../helpers/http-client.js';
import { connect, connectError, eventually, next } from '../helpers/socket-client.js';
import { useServer } from '../helpers/test-server.js';

/** The Socket.IO handshake: tokens, origins, namespaces, connection caps, token expiry. */

/** Raw engine.io polling handshake with a given Origin: the HTTP status it gets. */
function pollingHandshakeStatus(url: string, origin: string | undefined): Promise<number> {
  return new Promise((resolve, reject) => {
    const req = httpRequest(
      `${url}/ws/?EIO=4&transport=polling`,
      { headers: origin === undefined ? {} : { origin } },
      (res) => {
        res.resume();
        resolve(res.statusCode ?? 0);
      },
    );
    req.on('error', reject);
    req.end();
  });
}

/**
 * Connects to /chat once the user has a free connection slot: until then every attempt must
 * be refused with TOO_MANY_CONNECTIONS. Fails after `timeoutMs` naming `what`.
 */
async function connectOnceFree(url: string, token: string, timeoutMs: number, what: string): Promise<Socket> {
  let socket: Socket | undefined;
  await eventually(
    async () => {
      try {
        socket = await connect(url, '/chat', token);
        return true;
      } catch (err) {
        expect((err as Error).message).to.equal('TOO_MANY_CONNECTIONS');
        return false;
      }
    },
    timeoutMs,
    what,
  );
  return socket!;
}

describe('socket handshake: authentication and origin', function () {
  const { server, sockets } = useServer();
  let token: string;

  before(async () => {
    token = (await guest(server.url, 'alice')).token;
  });

  it('connects to /chat and /rtc with a valid token in auth', async () => {
    for (const nsp of ['/chat', '/rtc']) {
      const socket = await connect(server.url, nsp, token);
      sockets.push(socket);
      expect(socket.connected).to.equal(true);
    }
  });

  for (const nsp of ['/chat', '/rtc']) {
    it(`refuses ${nsp} without a token: connect_error UNAUTHORIZED`, async () => {
      const err = await connectError(server.url, nsp, undefined);
      expect(err.message).to.equal('UNAUTHORIZED');
      expect(err.data?.code).to.equal('UNAUTHORIZED');
    });
  }

  it('refuses a garbage token with UNAUTHORIZED', async () => {
    for (const bad of ['garbage', 'a.b.c', `${token}x`, 'x'.repeat(10_000)]) {
      const err = await connectError(server.url, '/chat', bad);
      expect(err.message, bad.slice(0, 20)).to.equal('UNAUTHORIZED');
    }
  });

  it('refuses a token that is not a string with UNAUTHORIZED', async () => {
    for (const bad of [42, { $ne: null }, ['a'], null]) {
      const err = await connectError(server.url, '/chat', undefined, { auth: { token: bad } });
      expect(err.message, JSON.stringify(bad)).to.equal('UNAUTHORIZED');
    }
  });

  it('refuses an expired token with UNAUTHORIZED', async () => {
    const expired = await server.app.tokens.issue({ id: 'user-expired', name: 'late', guest: true }, -60);
    const err = await connectError(server.url, '/chat', expired);
    expect(err.message).to.equal('UNAUTHORIZED');
  });

  it('refuses tokens that are forged, unsigned or without exp', async () => {
    const secret = new TextEncoder().encode(readFileSync(join(server.dataDir, 'jwt-secret'), 'utf8').trim());
    const now = Math.floor(Date.now() / 1000);
    const forged = await new SignJWT({ name: 'mallory', guest: true })
      .setProtectedHeader({ alg: 'HS256' })
      .setSubject('victim')
      .setExpirationTime(now + 600)
      .sign(new TextEncoder().encode('not-the-server-secret-not-the-server-secret'));
    const noExp = await new SignJWT({ name: 'forever', guest: true }).setProtectedHeader({ alg: 'HS256' }).setSubject('u1').sign(secret);
    const b64 = (o: object) => Buffer.from(JSON.stringify(o)).toString('base64url');
    const unsigned = `${b64({ alg: 'none', typ: 'JWT' })}.${b64({ sub: 'victim', exp: now + 600 })}.`;
    // The same secret, signed by hand, is accepted: the refusals above are about the token, not the key.
    const good = await new SignJWT({ name: 'ok', guest: true })
      .setProtectedHeader({ alg: 'HS256' })
      .setSubject('u-handmade')
      .setExpirationTime(now + 600)
      .sign(secret);

    for (const [label, bad] of [
      ['forged', forged],
      ['no exp', noExp],
      ['alg none', unsigned],
    ] as const) {
      const err = await connectError(server.url, '/chat', bad);
      expect(err.message, label).to.equal('UNAUTHORIZED');
    }
    const socket = await connect(server.url, '/chat', good);
    sockets.push(socket);
    expect(socket.connected).to.equal(true);
  });

  it('ignores a token passed only in the query string (UNAUTHORIZED)', async () => {
    const err = await connectError(server.url, '/chat', undefined, { query: { token } });
    expect(err.message).to.equal('UNAUTHORIZED');
  });

  it('refuses the main namespace "/" even with a valid token', async () => {
    const err = await connectError(server.url, '/', token);
    expect(err).to.be.instanceOf(Error);
    expect(err.message).not.to.equal('UNAUTHORIZED');
  });

  it('refuses a foreign Origin before the handshake, over WebSocket and polling', async () => {
    const ws = await connectError(server.url, '/chat', token, {
      transports: ['websocket'],
      extraHeaders: { origin: 'http://evil.example' },
    });
    expect(ws).to.be.instanceOf(Error);
    expect(ws.data, 'refused by transport, not by the namespace').to.equal(undefined);

    const polling = await connectError(server.url, '/chat', token, {
      transports: ['polling'],
      extraHeaders: { origin: 'http://evil.example' },
    });
    expect(polling).to.be.instanceOf(Error);
    expect(await pollingHandshakeStatus(server.url, 'http://evil.example')).to.equal(403);
  });

  it('accepts an allowed Origin (localhost in dev/test) and a request without Origin', async () => {
    const withOrigin = await connect(server.url, '/chat', token, {
      transports: ['websocket'],
      extraHeaders: { origin: 'http://localhost:3000' },
    });
    sockets.push(withOrigin);
    expect(withOrigin.connected).to.equal(true);

    const polling = await connect(server.url, '/rtc', token, {
      transports: ['polling'],
      extraHeaders: { origin: 'http://localhost:3000' },
    });
    sockets.push(polling);
    expect(polling.connected).to.equal(true);

    const native = await connect(server.url, '/rtc', token);
    sockets.push(native);
    expect(native.connected).to.equal(true);
    expect(await pollingHandshakeStatus(server.url, undefined)).to.equal(200);
  });
});

describe('socket handshake: MAX_CONNECTIONS_PER_USER', function () {
  const { server, sockets } = useServer({ MAX_CONNECTIONS_PER_USER: '2' });

  it('refuses a user’s socket past the cap (all namespaces) with TOO_MANY_CONNECTIONS, and admits one once a socket closes', async () => {
    const alice = await guest(server.url, 'alice');
    const bob = await guest(server.url, 'bob');
    const first = await connect(server.url, '/chat', alice.token);
    const second = await connect(server.url, '/rtc', alice.token);
    sockets.push(first, second);

    for (const nsp of ['/chat', '/rtc']) {
      const err = await connectError(server.url, nsp, alice.token);
      expect(err.message, nsp).to.equal('TOO_MANY_CONNECTIONS');
    }
    // The cap is per user: someone else still gets in.
    const other = await connect(server.url, '/chat', bob.token);
    sockets.push(other);

    first.close();
    const third = await connectOnceFree(server.url, alice.token, 3000, 'a freed connection slot');
    sockets.push(third);
    expect(third.connected).to.equal(true);
  });
});

describe('socket handshake: clients that drop mid-handshake', function () {
  const { server, sockets } = useServer({ MAX_CONNECTIONS_PER_USER: '2' });

  it('does not keep a connection slot for a client that vanished while its handshake ran', async () => {
    const alice = await guest(server.url, 'alice');
    // Raw engine.io long-polling: one POST carries the namespace CONNECT and, right behind it,
    // the engine.io close packet, so the transport is gone while the token is being checked.
    for (let i = 0; i < 3; i++) {
      const open = await fetch(`${server.url}/ws/?EIO=4&transport=polling`);
      const { sid } = JSON.parse((await open.text()).slice(1)) as { sid: string };
      const sent = await fetch(`${server.url}/ws/?EIO=4&transport=polling&sid=${sid}`, {
        method: 'POST',
        body: `40/chat,${JSON.stringify({ token: alice.token })}\x1e1`,
      });
      expect(sent.status).to.equal(200);
    }
    // The cap is 2: both regular sockets must still get in.
    sockets.push(await connectOnceFree(server.url, alice.token, 2000, 'a connection slot'));
    sockets.push(await connect(server.url, '/rtc', alice.token));
    expect(sockets.every((s) => s.connected)).to.equal(true);
  });
});

describe('socket handshake: token expiry while connected', function () {
  const { server, sockets } = useServer();

  it('sends auth:expired and then disconnects /chat and /rtc sockets when their token expires', async () => {
    const shortLived = await server.app.tokens.issue({ id: 'user-short-lived', name: 'brief', guest: true }, 2);
    const longLived = (await guest(server.url, 'stays')).token;
    const expiring = [await connect(server.url, '/chat', shortLived), await connect(server.url, '/rtc', shortLived)];
    const control = await connect(server.url, '/chat', longLived);
    sockets.push(...expiring, control);

    const started = Date.now();
    await Promise.all(
      expiring.map(async (socket) => {
        const order: string[] = [];
        socket.on('auth:expired', (e: { message?: unknown }) => order.push(`auth:expired ${typeof e.message}`));
        await next<string>(socket, 'disconnect', () => true, 4000);
        order.push('disconnect');
        expect(order).to.deep.equal(['auth:expired string', 'disconnect']);
        expect(socket.connected).to.equal(false);
      }),
    );
    expect(Date.now() - started).to.be.below(4000);
    // Only the expired sockets go.
    expect(control.connected).to.equal(true);
    // And the expired token cannot come back.
    const err = await connectError(server.url, '/chat', shortLived);
    expect(err.message).to.equal('UNAUTHORIZED');
  });
});
