import { expect } from 'chai';
import { TokenService } from '../../src/services/token-service.js';
import { createRoom, guest, request, type HttpResult } from '../helpers/http-client.js';
import { startServer, type TestServer } from '../helpers/test-server.js';

/** Asserts the error envelope of the contract with the expected status and code. */
function expectError(res: HttpResult, status: number, code: string, what = ''): void {
  expect(res.status, `${what} status (body ${JSON.stringify(res.body)?.slice(0, 200)})`).to.equal(status);
  expect(res.body, what).to.be.an('object');
  expect(res.body.error, what).to.be.an('object');
  expect(res.body.error.code, what).to.equal(code);
  expect(res.body.error.message, what).to.be.a('string').and.not.equal('');
}

describe('REST bad input: clear errors, nothing stored changes', () => {
  let server: TestServer;
  let url: string;
  let token: string;
  let roomId: string;
  let baseline: any[];

  before(async () => {
    server = await startServer();
    url = server.url;
    token = (await guest(url, 'Alice')).token;
    roomId = (await createRoom(url, token, { name: 'Guarded' })).id;
    for (const [i, text] of ['first', 'second'].entries()) {
      const res = await request(url, 'POST', '/api/messages', { token, body: { roomId, text, clientMsgId: `ok-${i}` } });
      expect(res.status).to.equal(201);
    }
    baseline = (await request(url, 'GET', `/api/messages?roomId=${roomId}`, { token })).body.messages;
    expect(baseline).to.have.length(2);
  });
  after(async () => {
    await server?.stop();
  });

  /** The room's history and lastSeq are exactly what they were before the bad input. */
  async function expectUnchanged(): Promise<void> {
    const res = await request(url, 'GET', `/api/messages?roomId=${roomId}`, { token });
    expect(res.status).to.equal(200);
    expect(res.body).to.deep.equal({ messages: baseline, hasMore: false });
    const room = await request(url, 'GET', `/api/rooms/${roomId}`, { token });
    expect(room.body.lastSeq).to.equal(2);
  }

  const postRaw = (rawBody: string, contentType = 'application/json') =>
    request(url, 'POST', '/api/messages', { token, rawBody, headers: { 'content-type': contentType } });

  describe('POST /api/messages', () => {
    const bodies: Array<[string, () => unknown]> = [
      ['an empty object', () => ({})],
      ['a missing text', () => ({ roomId })],
      ['a missing roomId', () => ({ text: 'hello' })],
      ['a numeric roomId', () => ({ roomId: 123, text: 'hello' })],
      ['a null roomId', () => ({ roomId: null, text: 'hello' })],
      ['an empty roomId', () => ({ roomId: '', text: 'hello' })],
      ['a roomId over 128 characters', () => ({ roomId: 'r'.repeat(129), text: 'hello' })],
      ['a numeric text', () => ({ roomId, text: 42 })],
      ['an array text', () => ({ roomId, text: ['hello'] })],
      ['a numeric clientMsgId', () => ({ roomId, text: 'hello', clientMsgId: 7 })],
      ['an empty clientMsgId', () => ({ roomId, text: 'hello', clientMsgId: '' })],
      ['an unknown key (seq)', () => ({ roomId, text: 'hello', seq: 99 })],
      ['an unknown key (senderId)', () => ({ roomId, text: 'hello', senderId: 'someone-else' })],
      ['an operator object as roomId', () => ({ roomId: { $ne: null }, text: 'hello' })],
      ['an operator object as text', () => ({ roomId, text: { $gt: '' } })],
      ['an operator object as clientMsgId', () => ({ roomId, text: 'hello', clientMsgId: { $ne: null } })],
      ['an array body', () => [{ roomId, text: 'hello' }]],
      ['empty text', () => ({ roomId, text: '' })],
      ['whitespace-only text', () => ({ roomId, text: '  \n\t  ' })],
      ['text with NUL', () => ({ roomId, text: 'hi\u0000there' })],
      ['text with an escape sequence', () => ({ roomId, text: '\u001b[2Jcleared' })],
      ['text over MAX_MESSAGE_LENGTH (4000)', () => ({ roomId, text: 'x'.repeat(4001) })],
    ];
    for (const [what, body] of bodies) {
      it(`refuses ${what} with 400 VALIDATION_FAILED`, async () => {
        const res = await request(url, 'POST', '/api/messages', { token, body: body() });
        expectError(res, 400, 'VALIDATION_FAILED', what);
        await expectUnchanged();
      });
    }

    it('refuses a __proto__ key (400), and pollutes nothing', async () => {
      const res = await postRaw(`{"roomId":${JSON.stringify(roomId)},"text":"hello","__proto__":{"polluted":true}}`);
      expectError(res, 400, 'VALIDATION_FAILED');
      expect(({} as any).polluted).to.equal(undefined);
      await expectUnchanged();
    });

    it('refuses a lone surrogate in text (400)', async () => {
      const res = await postRaw(`{"roomId":${JSON.stringify(roomId)},"text":"bad \\ud800 half"}`);
      expectError(res, 400, 'VALIDATION_FAILED');
      await expectUnchanged();
    });

    it('does not echo the refused text back', async () => {
      const res = await request(url, 'POST', '/api/messages', { token, body: { roomId, text: 'secret-ish\u0000payload' } });
      expectError(res, 400, 'VALIDATION_FAILED');
      expect(JSON.stringify(res.body)).not.to.contain('secret-ish');
    });

    for (const [what, raw] of [
      ['malformed JSON', '{"roomId": "x", "text": '],
      ['trailing garbage', '{"roomId":"x","text":"y"} extra'],
      ['a bare JSON string', '"hello"'],
      ['JSON null', 'null'],
    ] as const) {
      it(`refuses ${what} with 400 VALIDATION_FAILED`, async () => {
        const res = await postRaw(raw);
        expectError(res, 400, 'VALIDATION_FAILED', what);
        await expectUnchanged();
      });
    }

    it('refuses a 2 MB body with 413 PAYLOAD_TOO_LARGE', async () => {
      const res = await request(url, 'POST', '/api/messages', { token, body: { roomId, text: 'x'.repeat(2 * 1024 * 1024) } });
      expectError(res, 413, 'PAYLOAD_TOO_LARGE');
      await expectUnchanged();
    });

    it('refuses a text/plain body with 415 UNSUPPORTED_MEDIA_TYPE', async () => {
      const res = await postRaw(JSON.stringify({ roomId, text: 'hello' }), 'text/plain');
      expectError(res, 415, 'UNSUPPORTED_MEDIA_TYPE');
      await expectUnchanged();
    });

    it('refuses a form-encoded body with 415 UNSUPPORTED_MEDIA_TYPE', async () => {
      const res = await postRaw(`roomId=${roomId}&text=hello`, 'application/x-www-form-urlencoded');
      expectError(res, 415, 'UNSUPPORTED_MEDIA_TYPE');
      await expectUnchanged();
    });
  });

  describe('GET /api/messages', () => {
    const queries: Array<[string, () => string]> = [
      ['no roomId', () => ''],
      ['limit=1e9', () => `roomId=${roomId}&limit=1e9`],
      ['limit=0', () => `roomId=${roomId}&limit=0`],
      ['limit=101', () => `roomId=${roomId}&limit=101`],
      ['limit=-5', () => `roomId=${roomId}&limit=-5`],
      ['limit=', () => `roomId=${roomId}&limit=`],
      ['after=-1', () => `roomId=${roomId}&after=-1`],
      ['after=abc', () => `roomId=${roomId}&after=abc`],
      ['after=1.5', () => `roomId=${roomId}&after=1.5`],
      ['before=0x10', () => `roomId=${roomId}&before=0x10`],
      ['roomId[$ne]=x', () => 'roomId[$ne]=x'],
      ['roomId[$ne]=x beside a real roomId', () => `roomId=${roomId}&roomId[$ne]=x`],
      ['a repeated roomId', () => `roomId=${roomId}&roomId=${roomId}`],
      ['an unknown parameter', () => `roomId=${roomId}&sort=desc`],
    ];
    for (const [what, query] of queries) {
      it(`refuses ${what} with 400 VALIDATION_FAILED`, async () => {
        const res = await request(url, 'GET', `/api/messages?${query()}`, { token });
        expectError(res, 400, 'VALIDATION_FAILED', what);
      });
    }

    it('accepts the edges: limit=1, limit=100, after=0', async () => {
      for (const q of ['limit=1', 'limit=100', 'after=0']) {
        const res = await request(url, 'GET', `/api/messages?roomId=${roomId}&${q}`, { token });
        expect(res.status, q).to.equal(200);
      }
    });
  });

  describe('rooms and members', () => {
    const roomBodies: Array<[string, unknown]> = [
      ['a missing name', {}],
      ['an empty name', { name: '' }],
      ['a whitespace name', { name: '   ' }],
      ['a numeric name', { name: 5 }],
      ['a name over 100 characters', { name: 'n'.repeat(101) }],
      ['a multi-line name', { name: 'two\nlines' }],
      ['a string isPrivate', { name: 'r', isPrivate: 'yes' }],
      ['maxParticipants 1', { name: 'r', maxParticipants: 1 }],
      ['maxParticipants over MAX_CALL_PARTICIPANTS', { name: 'r', maxParticipants: 9 }],
      ['a fractional maxParticipants', { name: 'r', maxParticipants: 2.5 }],
      ['an unknown key (createdBy)', { name: 'r', createdBy: 'someone-else' }],
      ['an unknown key (lastSeq)', { name: 'r', lastSeq: 100 }],
      ['an operator object as name', { name: { $ne: null } }],
    ];
    for (const [what, body] of roomBodies) {
      it(`POST /api/rooms refuses ${what} with 400 VALIDATION_FAILED`, async () => {
        expectError(await request(url, 'POST', '/api/rooms', { token, body }), 400, 'VALIDATION_FAILED', what);
      });
    }

    for (const [what, body] of [
      ['a missing userId', {}],
      ['a numeric userId', { userId: 1 }],
      ['an empty userId', { userId: '' }],
      ['an operator object as userId', { userId: { $ne: null } }],
      ['an unknown key', { userId: 'u', role: 'admin' }],
    ] as Array<[string, unknown]>) {
      it(`POST /api/rooms/:id/members refuses ${what} with 400 VALIDATION_FAILED`, async () => {
        const res = await request(url, 'POST', `/api/rooms/${roomId}/members`, { token, body });
        expectError(res, 400, 'VALIDATION_FAILED', what);
      });
    }

    it('GET /api/rooms/:id refuses an id over 128 characters with 400 VALIDATION_FAILED', async () => {
      expectError(await request(url, 'GET', `/api/rooms/${'r'.repeat(129)}`, { token }), 400, 'VALIDATION_FAILED');
    });
  });

  describe('guest login', () => {
    for (const [what, body] of [
      ['a missing name', {}],
      ['an empty name', { name: '' }],
      ['a numeric name', { name: 7 }],
      ['a name over 64 characters', { name: 'n'.repeat(65) }],
      ['a name with NUL', { name: 'a\u0000b' }],
      ['an unknown key', { name: 'x', admin: true }],
    ] as Array<[string, unknown]>) {
      it(`refuses ${what} with 400 VALIDATION_FAILED`, async () => {
        expectError(await request(url, 'POST', '/api/auth/guest', { body }), 400, 'VALIDATION_FAILED', what);
      });
    }
  });

  describe('authentication', () => {
    const cases: Array<[string, () => Record<string, string>]> = [
      ['no Authorization header', () => ({})],
      ['a garbage bearer token', () => ({ authorization: 'Bearer garbage' })],
      ['a three-part garbage token', () => ({ authorization: 'Bearer aaa.bbb.ccc' })],
      ['an empty bearer', () => ({ authorization: 'Bearer ' })],
      ['a Basic scheme', () => ({ authorization: `Basic ${Buffer.from('a:b').toString('base64')}` })],
      ['the token without the Bearer scheme', () => ({ authorization: token })],
    ];
    for (const [what, headers] of cases) {
      it(`answers ${what} with 401 UNAUTHORIZED on every protected route`, async () => {
        const h = headers();
        for (const [method, path, body] of [
          ['GET', `/api/messages?roomId=${roomId}`, undefined],
          ['POST', '/api/messages', { roomId, text: 'sneaky' }],
          ['GET', `/api/rooms/${roomId}`, undefined],
          ['POST', '/api/rooms', { name: 'sneaky' }],
          ['GET', '/api/ice-servers', undefined],
        ] as const) {
          const res = await request(url, method, path, { headers: h, body });
          expectError(res, 401, 'UNAUTHORIZED', `${what}: ${method} ${path}`);
        }
        await expectUnchanged();
      });
    }

    it('refuses a token from another server (other secret) with 401', async () => {
      const other = new TokenService('a-different-servers-secret-0123456789', 3600);
      const { token: foreign } = await other.issueGuest('Mallory');
      const res = await request(url, 'POST', '/api/messages', { token: foreign, body: { roomId, text: 'from elsewhere' } });
      expectError(res, 401, 'UNAUTHORIZED');
      await expectUnchanged();
    });

    it('refuses an expired token with 401', async () => {
      const expired = await server.app.tokens.issue({ id: 'u-expired', name: 'Late', guest: true }, -60);
      const res = await request(url, 'POST', '/api/messages', { token: expired, body: { roomId, text: 'too late' } });
      expectError(res, 401, 'UNAUTHORIZED');
      await expectUnchanged();
    });
  });

  // Nested so that it runs after the other suites (mocha runs a suite's own tests first).
  describe('after the barrage', () => {
    it('still answers /healthz and serves the stored history', async () => {
      const health = await request(url, 'GET', '/healthz');
      expect(health.status).to.equal(200);
      expect(health.body.status).to.equal('ok');
      await expectUnchanged();
      const next = await request(url, 'POST', '/api/messages', { token, body: { roomId, text: 'third' } });
      expect(next.status).to.equal(201);
      expect(next.body.seq).to.equal(3);
    });
  });
});

describe('REST bad input under tighter configuration', () => {
  const servers: TestServer[] = [];
  after(async () => {
    await Promise.all(servers.map((s) => s.stop()));
  });
  const start = async (env: Record<string, string>) => {
    const s = await startServer(env);
    servers.push(s);
    return s;
  };

  it('MAX_MESSAGE_LENGTH=10 refuses 11 characters (400) and accepts 10 emoji', async () => {
    const s = await start({ MAX_MESSAGE_LENGTH: '10' });
    const { token } = await guest(s.url);
    const room = await createRoom(s.url, token);
    const tooLong = await request(s.url, 'POST', '/api/messages', { token, body: { roomId: room.id, text: 'abcdefghijk' } });
    expectError(tooLong, 400, 'VALIDATION_FAILED');
    const emoji = await request(s.url, 'POST', '/api/messages', { token, body: { roomId: room.id, text: '😀'.repeat(10) } });
    expect(emoji.status).to.equal(201);
    expect(emoji.body.seq).to.equal(1);
    const list = await request(s.url, 'GET', `/api/messages?roomId=${room.id}`, { token });
    expect(list.body.messages.map((m: any) => m.text)).to.deep.equal(['😀'.repeat(10)]);
  });

  it('ALLOW_GUESTS=false refuses guest login with 403 FORBIDDEN', async () => {
    const s = await start({ ALLOW_GUESTS: 'false' });
    const res = await request(s.url, 'POST', '/api/auth/guest', { body: { name: 'Nobody' } });
    expectError(res, 403, 'FORBIDDEN');
    expect(res.body.token).to.equal(undefined);
  });

  it('RATE_LIMIT_HTTP=5: the 6th request gets 429 RATE_LIMITED with Retry-After; health endpoints are not limited', async () => {
    const s = await start({ RATE_LIMIT_HTTP: '5' });
    const { token } = await guest(s.url); // 1
    for (let i = 2; i <= 5; i++) {
      const res = await request(s.url, 'GET', '/api/ice-servers', { token });
      expect(res.status, `request ${i}`).to.equal(200);
    }
    const limited = await request(s.url, 'GET', '/api/ice-servers', { token });
    expectError(limited, 429, 'RATE_LIMITED');
    const retryAfter = Number(limited.headers.get('retry-after'));
    expect(retryAfter).to.be.within(1, 60);
    // Unauthenticated calls are limited too (the limit is per IP, before auth).
    expectError(await request(s.url, 'POST', '/api/auth/guest', { body: { name: 'x' } }), 429, 'RATE_LIMITED');

    for (let i = 0; i < 10; i++) {
      expect((await request(s.url, 'GET', '/healthz')).status).to.equal(200);
    }
    expect((await request(s.url, 'GET', '/readyz')).status).to.equal(200);
    expect((await request(s.url, 'GET', '/metrics')).status).to.equal(200);
  });
});
