import { request as httpRequest } from 'node:http';
import { expect } from 'chai';
import type { Socket } from 'socket.io-client';
import { guest, request } from '../helpers/http-client.js';
import { connect, connectError } from '../helpers/socket-client.js';
import { startSecure, useSecureServer, watchProcessFaults, type SecureServer } from './harness.js';
import { RawClient } from './raw-client.js';

/**
 * S1–S2: origins. The handshake checks Origin against CORS_ORIGINS on both transports
 * (browsers apply no CORS to WebSocket upgrades, so only this stops cross-site WebSocket
 * hijacking); a request without Origin is not a browser and is let through to token auth.
 */

/** Status and body of a raw Engine.IO polling handshake sent with `origin`. */
function polling(port: number, origin: string | undefined): Promise<{ status: number; body: string }> {
  return new Promise((resolve, reject) => {
    const req = httpRequest(
      { host: '127.0.0.1', port, path: '/ws/?EIO=4&transport=polling', headers: origin === undefined ? {} : { origin } },
      (res) => {
        let body = '';
        res.on('data', (chunk: Buffer) => (body += chunk.toString()));
        res.on('end', () => resolve({ status: res.statusCode ?? 0, body }));
      },
    );
    req.on('error', reject);
    req.end();
  });
}
const pollingStatus = async (port: number, origin: string | undefined) => (await polling(port, origin)).status;

/** Status and body of a raw WebSocket upgrade sent with `origin` (101 when accepted). */
async function upgrade(port: number, origin: string): Promise<{ status: number; body: string }> {
  try {
    const raw = await RawClient.open(port, { origin });
    raw.close();
    return { status: 101, body: '' };
  } catch (err) {
    const e = err as { status?: number; body?: string };
    return { status: e.status ?? 0, body: e.body ?? '' };
  }
}
const upgradeStatus = async (port: number, origin: string) => (await upgrade(port, origin)).status;

/**
 * How a foreign origin is refused. Polling: HTTP 403 with Engine.IO's JSON error. WebSocket:
 * Engine.IO answers every refused upgrade with HTTP 400 (it has no other status for them),
 * with our reason as the body.
 */
async function expectRefused(port: number, origin: string): Promise<void> {
  const ws = await upgrade(port, origin);
  expect(ws, `${origin}: WebSocket upgrade`).to.deep.equal({ status: 400, body: 'origin not allowed' });
  const poll = await polling(port, origin);
  expect(poll.status, `${origin}: polling handshake`).to.equal(403);
  expect(JSON.parse(poll.body), `${origin}: polling body`).to.deep.equal({ code: 4, message: 'origin not allowed' });
}

const ALLOWED = 'https://app.example';
const FOREIGN = ['https://evil.example', 'http://app.example', 'https://app.example.evil.com', 'https://app.example:444', 'https://evilapp.example', 'http://localhost:3000', 'null'];

describe('security: origins (S1–S2), CORS_ORIGINS set', function () {
  watchProcessFaults();
  let token: string;
  const sockets: Socket[] = [];
  const { server } = useSecureServer({ CORS_ORIGINS: ALLOWED, RATE_LIMIT_HANDSHAKES: '10000' }, [sockets]);

  before(async () => {
    token = (await guest(server.url, 'victim')).token;
  });

  it('S1 CSWSH: a foreign Origin is refused before the handshake: upgrade 400 / polling 403 "origin not allowed"', async () => {
    for (const origin of FOREIGN) await expectRefused(server.port, origin);
  });

  it('S1 CSWSH: a socket.io client carrying the victim’s token from a foreign page never connects', async () => {
    for (const transports of [['websocket'], ['polling']]) {
      // connectError fails the test if the socket ever connects.
      const err = await connectError(server.url, '/chat', token, { transports, extraHeaders: { origin: 'https://evil.example' } });
      // Refused by the transport (no namespace ever answered), not by the token check.
      expect(err.data, transports[0]).to.equal(undefined);
    }
  });

  it('S1 the allowed origin connects over both transports, and REST CORS answers only it', async () => {
    expect(await upgradeStatus(server.port, ALLOWED)).to.equal(101);
    expect(await pollingStatus(server.port, ALLOWED)).to.equal(200);
    for (const transports of [['websocket'], ['polling']]) {
      sockets.push(await connect(server.url, '/chat', token, { transports, extraHeaders: { origin: ALLOWED } }));
    }
    const preflight = (origin: string) =>
      request(server.url, 'OPTIONS', '/api/rooms', {
        headers: { origin, 'access-control-request-method': 'POST', 'access-control-request-headers': 'authorization,content-type' },
      });
    expect((await preflight(ALLOWED)).headers.get('access-control-allow-origin')).to.equal(ALLOWED);
    for (const origin of FOREIGN) {
      expect((await preflight(origin)).headers.get('access-control-allow-origin'), origin).to.equal(null);
    }
  });

  it('S1 the server’s own origin passes too: native clients (Python websocket-client) send the address they dial', async () => {
    const own = `http://127.0.0.1:${server.port}`;
    expect(await upgradeStatus(server.port, own)).to.equal(101);
    expect(await pollingStatus(server.port, own)).to.equal(200);
    for (const transports of [['websocket'], ['polling']]) {
      sockets.push(await connect(server.url, '/chat', token, { transports, extraHeaders: { origin: own } }));
    }
    // The same host on another port is another origin.
    await expectRefused(server.port, `http://127.0.0.1:${server.port + 1}`);
  });

  it('S2 missing Origin (native apps, servers) is allowed through to token auth: UNAUTHORIZED without a token', async () => {
    expect(await pollingStatus(server.port, undefined)).to.equal(200);
    for (const nsp of ['/chat', '/rtc']) {
      expect((await connectError(server.url, nsp, undefined)).message, nsp).to.equal('UNAUTHORIZED');
      sockets.push(await connect(server.url, nsp, token));
    }
    const raw = await RawClient.open(server.port);
    expect(await raw.connect('/chat', {})).to.deep.include({ ok: false, message: 'UNAUTHORIZED' });
    raw.close();
  });
});

describe('security: origins (S1), production without CORS_ORIGINS', function () {
  watchProcessFaults();
  let server: SecureServer;

  before(async () => {
    server = await startSecure({ NODE_ENV: 'production', ALLOW_GUESTS: 'true', RATE_LIMIT_HANDSHAKES: '10000' });
  });
  after(async () => {
    await server?.stop();
  });

  it('S1 only the server’s own origin is allowed; localhost is foreign in production', async () => {
    expect(await upgradeStatus(server.port, `http://127.0.0.1:${server.port}`)).to.equal(101);
    expect(await pollingStatus(server.port, `http://127.0.0.1:${server.port}`)).to.equal(200);
    for (const origin of ['http://localhost:3000', `http://127.0.0.1:${server.port + 1}`, 'https://evil.example']) {
      await expectRefused(server.port, origin);
    }
    expect((await request(server.url, 'GET', '/healthz')).status).to.equal(200);
  });
});
