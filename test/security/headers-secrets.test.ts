import { createHmac } from 'node:crypto';
import { readFileSync, statSync } from 'node:fs';
import { join } from 'node:path';
import { expect } from 'chai';
import type { Socket } from 'socket.io-client';
import { ConfigError, loadConfig } from '../../src/config/load-config.js';
import { guest, request, type HttpResult } from '../helpers/http-client.js';
import { ask, connect } from '../helpers/socket-client.js';
import { expectError, JWT_SECRET, startSecure, useSecureServer, watchProcessFaults, type SecureServer } from './harness.js';

/**
 * S27, S32, S33 and the secrets: helmet's headers on every answer, trust proxy keying the
 * rate limits on the real client, TURN credentials for authenticated users only, and the
 * TURN secret, the JWT secret and the admin token never in a response, a header or a log.
 */

const TURN_SECRET = 'turn-static-auth-secret-do-not-leak-0123';
const ADMIN_TOKEN = 'admin-token-do-not-leak-0123456789';
const TTL = 600;

describe('security: headers and secrets (S27, S32, S33)', function () {
  watchProcessFaults();
  let token: string;
  let userId: string;
  const sockets: Socket[] = [];
  const { server, control } = useSecureServer(
    {
      TURN_URLS: 'turn:turn.example.com:3478?transport=udp,turns:turn.example.com:5349',
      TURN_SECRET,
      TURN_TTL_SECONDS: String(TTL),
      ADMIN_TOKEN,
      RATE_LIMIT_HTTP: '100000',
    },
    [sockets],
  );
  /** Every response this suite saw, headers and body, to grep for secrets at the end. */
  const seen: string[] = [];
  const call = async (method: string, path: string, options: Parameters<typeof request>[3] = {}): Promise<HttpResult> => {
    const res = await request(server.url, method, path, options);
    seen.push(JSON.stringify([...res.headers.entries()]), typeof res.body === 'string' ? res.body : JSON.stringify(res.body));
    return res;
  };

  before(async () => {
    const g = await guest(server.url, 'headers');
    token = g.token;
    userId = g.user.id;
  });

  it('S32 every answer carries helmet’s headers (nosniff, CSP, frame and referrer policy, HSTS) and no x-powered-by', async () => {
    const answers = [
      await call('GET', '/healthz'),
      await call('GET', '/readyz'),
      await call('GET', '/metrics'),
      await call('GET', '/api/ice-servers', { token }),
      await call('POST', '/api/rooms', { token, body: { name: 'hdr' } }),
      await call('POST', '/api/rooms', { token, body: { name: '' } }),
      await call('GET', '/api/ice-servers'),
      await call('GET', '/api/admin/dead-letters', { token }),
      await call('GET', '/api/no/such/route', { token }),
      await call('POST', '/api/messages', { token, rawBody: '{"roomId":', headers: { 'content-type': 'application/json' } }),
    ];
    expect(answers.map((a) => a.status)).to.deep.equal([200, 200, 200, 200, 201, 400, 401, 403, 404, 400]);
    for (const res of answers) {
      const h = res.headers;
      const what = `${res.status}`;
      expect(h.get('x-content-type-options'), what).to.equal('nosniff');
      expect(h.get('x-powered-by'), what).to.equal(null);
      // helmet's default CSP on the API; an unmatched path may get the demo page's stricter one.
      const csp = h.get('content-security-policy') ?? '';
      expect(csp, what).to.contain("default-src 'self'").and.contain("object-src 'none'").and.match(/frame-ancestors '(self|none)'/);
      expect(csp, what).not.to.match(/script-src[^;]*'unsafe-(inline|eval)'/);
      expect(h.get('x-frame-options'), what).to.equal('SAMEORIGIN');
      expect(h.get('referrer-policy'), what).to.equal('no-referrer');
      expect(h.get('strict-transport-security'), what).to.match(/max-age=\d+/);
      expect(h.get('cross-origin-opener-policy'), what).to.equal('same-origin');
    }
    for (const res of answers.filter((a) => a.status !== 200 || a.headers.get('content-type')?.includes('json'))) {
      expect(res.headers.get('content-type'), `${res.status} content-type`).to.match(/^application\/json; charset=utf-8/);
    }
  });

  it('S32 /metrics labels are route patterns only: random paths do not create new series (no cardinality DoS)', async () => {
    const before = (await call('GET', '/metrics')).body as string;
    const series = (text: string) => text.split('\n').filter((l) => l.startsWith('http_requests_total{')).length;
    for (let i = 0; i < 20; i++) {
      await call('GET', `/api/random-${i}-${Date.now()}`);
      await call('GET', `/api/admin/x${i}`);
      await call('POST', `/api/y${i}`, { rawBody: 'x', headers: { 'content-type': 'text/plain' } });
      await call('GET', `/nothing-${i}`);
    }
    const after = (await call('GET', '/metrics')).body as string;
    expect(series(after) - series(before), 'new series from 80 random paths').to.be.at.most(6);
    expect(after).not.to.contain('random-');
  });

  it('S27 TURN credentials: 401 without a token; coturn REST credentials for the caller, short-lived; the secret never sent', async () => {
    expectError(await call('GET', '/api/ice-servers'), 401, 'UNAUTHORIZED');
    const res = await call('GET', '/api/ice-servers', { token });
    expect(res.status).to.equal(200);
    expect(res.headers.get('cache-control')).to.equal('no-store');
    const turn = res.body.iceServers.find((s: { username?: string }) => s.username);
    const [expiry, who, ...rest] = String(turn.username).split(':');
    expect(rest).to.deep.equal([]);
    expect(who).to.equal(userId);
    const left = Number(expiry) - Date.now() / 1000;
    expect(left).to.be.within(TTL - 5, TTL + 1);
    expect(turn.credential).to.equal(createHmac('sha1', TURN_SECRET).update(turn.username).digest('base64'));
    expect(new Date(res.body.expiresAt).getTime() / 1000).to.be.closeTo(Number(expiry), 1);
    // The same over the socket: call:join hands out credentials for the joining user.
    const rtc = await connect(server.url, '/rtc', token);
    sockets.push(rtc);
    const joined = await ask(rtc, 'call:join', { roomId: control.roomId });
    seen.push(JSON.stringify(joined));
    expect(joined.iceServers.find((s: { username?: string }) => s.username).username).to.match(new RegExp(`^\\d+:${userId}$`));
  });

  it('S27 admin API: 401 without a token, 403 with a user token or a wrong admin token, 200 with ADMIN_TOKEN', async () => {
    expectError(await call('GET', '/api/admin/dead-letters'), 401, 'UNAUTHORIZED');
    expectError(await call('GET', '/api/admin/dead-letters', { token }), 403, 'FORBIDDEN');
    expectError(await call('GET', '/api/admin/dead-letters', { token: ADMIN_TOKEN.slice(0, -1) + 'x' }), 403, 'FORBIDDEN');
    expectError(await call('GET', '/api/admin/dead-letters', { token: ADMIN_TOKEN + 'x' }), 403, 'FORBIDDEN');
    expect((await call('GET', '/api/admin/dead-letters', { token: ADMIN_TOKEN })).status).to.equal(200);
  });

  it('S33 (bearer tokens, no cookies) no answer sets a cookie, the Engine.IO handshake included; a cross-site POST without a token is 401', async () => {
    expect(seen.join('\n')).not.to.match(/set-cookie/i);
    const polling = await fetch(`${server.url}/ws/?EIO=4&transport=polling`);
    expect(polling.headers.get('set-cookie')).to.equal(null);
    await polling.text();
    const guestRes = await call('POST', '/api/auth/guest', { body: { name: 'c' } });
    expect(guestRes.headers.get('set-cookie')).to.equal(null);
    const csrf = await call('POST', '/api/rooms', { body: { name: 'csrf' }, headers: { origin: 'https://evil.example', cookie: 'session=stolen' } });
    expectError(csrf, 401, 'UNAUTHORIZED');
    expect(csrf.headers.get('access-control-allow-origin')).to.equal(null);
  });

  it('S27 secrets in bad configuration values are hidden in the start-up error', () => {
    for (const [name, value] of [
      ['TURN_SECRET', 'short-secret'],
      ['JWT_SECRET', 'too-short-jwt-secret'],
      ['ADMIN_TOKEN', 'short-admin'],
      ['REDIS_URL', 'http://user:redis-password@host'],
      ['MONGODB_URI', 'http://user:mongo-password@host/db'],
      ['REDIS_PASSWORD', ''],
    ] as const) {
      if (value === '') continue;
      let message = '';
      try {
        loadConfig({ [name]: value });
      } catch (err) {
        expect(err).to.be.instanceOf(ConfigError);
        message = (err as Error).message;
      }
      expect(message, name).to.contain(name).and.contain('(hidden)');
      expect(message, name).not.to.contain(value);
      expect(message).not.to.contain('password');
    }
  });

  // Last: it reads every response and log line of the suite.
  it('S27/S8 the TURN secret, the JWT secret and the admin token appear in no response, header or log line', async () => {
    seen.push((await call('GET', '/metrics')).body as string, JSON.stringify((await call('GET', '/readyz')).body));
    const responses = seen.join('\n');
    const logs = server.logs.join('\n');
    expect(server.logs.length).to.be.above(10);
    for (const [name, secret] of [
      ['TURN_SECRET', TURN_SECRET],
      ['JWT_SECRET', JWT_SECRET],
      ['ADMIN_TOKEN', ADMIN_TOKEN],
    ]) {
      expect(responses.includes(secret!), `${name} in a response`).to.equal(false);
      expect(logs.includes(secret!), `${name} in a log line`).to.equal(false);
    }
    expect(logs.includes(token), 'a user token in a log line').to.equal(false);
  });
});

describe('security: the generated JWT secret (S27)', function () {
  let server: SecureServer;
  before(async () => {
    // An empty value means "not set": the server generates the secret into DATA_DIR.
    server = await startSecure({ JWT_SECRET: '' });
  });
  after(async () => {
    await server?.stop();
  });

  it('S27 is kept private (mode 0600) and never appears in a response or a log line', async () => {
    const file = join(server.dataDir, 'jwt-secret');
    expect(statSync(file).mode & 0o777).to.equal(0o600);
    const secret = readFileSync(file, 'utf8').trim();
    expect(secret.length).to.be.at.least(32);
    const { token } = await guest(server.url, 'gen');
    const bodies = await Promise.all(
      ['/healthz', '/readyz', '/metrics', '/api/ice-servers', '/api/nothing'].map(async (p) => JSON.stringify((await request(server.url, 'GET', p, { token })).body)),
    );
    expect(bodies.join('\n').includes(secret)).to.equal(false);
    expect(server.logs.join('\n').includes(secret)).to.equal(false);
  });
});

describe('security: trust proxy and rate-limit keys (S32)', function () {
  const servers: SecureServer[] = [];
  after(async () => {
    await Promise.all(servers.map((s) => s.stop()));
  });
  const start = async (env: Record<string, string>) => {
    const s = await startSecure({ RATE_LIMIT_HTTP: '5', ...env });
    servers.push(s);
    return s;
  };
  const hits = async (s: SecureServer, forwardedFor: (i: number) => string, n: number) => {
    const statuses: number[] = [];
    for (let i = 0; i < n; i++) statuses.push((await request(s.url, 'GET', '/api/ice-servers', { headers: { 'x-forwarded-for': forwardedFor(i) } })).status);
    return statuses;
  };

  it('S32 without TRUST_PROXY a forged X-Forwarded-For does not buy a fresh budget', async () => {
    const s = await start({});
    const statuses = await hits(s, (i) => `10.9.8.${i}`, 8);
    expect(statuses).to.deep.equal([401, 401, 401, 401, 401, 429, 429, 429]);
  });

  it('S32 with TRUST_PROXY=1 the key is the address nginx appended (the last entry), not what the client wrote', async () => {
    const s = await start({ TRUST_PROXY: '1' });
    // The client forges a first entry; nginx appends the real address ($proxy_add_x_forwarded_for).
    expect(await hits(s, (i) => `10.9.8.${i}, 203.0.113.50`, 7)).to.deep.equal([401, 401, 401, 401, 401, 429, 429]);
    // Another real client behind the same proxy has its own budget.
    expect(await hits(s, () => '203.0.113.51', 1)).to.deep.equal([401]);
  });
});
