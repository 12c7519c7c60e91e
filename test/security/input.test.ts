import { randomUUID } from 'node:crypto';
import { gzipSync } from 'node:zlib';
import { expect } from 'chai';
import fc from 'fast-check';
import type { Socket } from 'socket.io-client';
import { createRoom, guest, request } from '../helpers/http-client.js';
import { ask, connect, connectError, next } from '../helpers/socket-client.js';
import { Control, deepKeys, expectError, startSecure, watchProcessFaults, type SecureServer } from './harness.js';
import { RawClient } from './raw-client.js';

/**
 * S9, S15–S21, S28, S29: input. Strict schemas everywhere (unknown keys refused, never
 * applied), operator objects and `$where` never reach the store, prototype pollution leaves
 * Object.prototype clean, text rules for control characters, surrogates and length, markup
 * kept as inert text, and REST bodies and cursors bounded.
 */

/** A payload whose own `__proto__` key survives (an object literal would set the prototype instead). */
const withProto = (base: object, inner = '{"polluted":"yes","isAdmin":true}') => JSON.stringify(base).replace(/^\{/, `{"__proto__":${inner},`);

/** Independent restatement of the text rules (MAX_MESSAGE_LENGTH code points; no C0/C1 but tab, LF, CR). */
function acceptable(text: string, max = 4000): boolean {
  if (text.trim().length === 0 || !text.isWellFormed()) return false;
  for (const ch of text) {
    const c = ch.codePointAt(0)!;
    if ((c < 0x20 && c !== 0x09 && c !== 0x0a && c !== 0x0d) || (c >= 0x7f && c <= 0x9f)) return false;
  }
  return [...text].length <= max;
}

describe('security: input (S9, S15–S21, S28, S29)', function () {
  watchProcessFaults();
  let server: SecureServer;
  let control: Control;
  let roomId: string;
  let token: string;
  let attacker: Socket;
  let prototypeNames: string[];

  before(async () => {
    prototypeNames = Object.getOwnPropertyNames(Object.prototype).sort();
    server = await startSecure({ RATE_LIMIT_HTTP: '100000', RATE_LIMIT_EVENTS: '100000', RATE_LIMIT_MESSAGES: '100000', RATE_LIMIT_HANDSHAKES: '10000' });
    control = await Control.open(server.url);
    roomId = control.roomId;
    token = (await guest(server.url, 'attacker')).token;
    attacker = await connect(server.url, '/chat', token);
    expect((await ask(attacker, 'room:join', { roomId })).ok).to.equal(true);
  });
  afterEach(async function () {
    expect(Object.getOwnPropertyNames(Object.prototype).sort(), 'Object.prototype gained a property').to.deep.equal(prototypeNames);
    expect(({} as Record<string, unknown>).polluted).to.equal(undefined);
    expect(({} as Record<string, unknown>).isAdmin).to.equal(undefined);
    expect(attacker.connected, 'bad input never costs the connection').to.equal(true);
    await control.check(this.currentTest?.title ?? '');
  });
  after(async () => {
    attacker?.close();
    control?.close();
    await server?.stop();
  });

  const send = (text: unknown) => ask(attacker, 'chat:send', { roomId, clientMsgId: randomUUID(), text });
  const history = async () => (await request(server.url, 'GET', `/api/messages?roomId=${roomId}&limit=100`, { token })).body.messages as any[];
  const callsOf = (method: string) => server.storeCalls.filter((c) => c.method === method).length;
  // The read markers of own sends are written in the background, a moment after an earlier test's sends.
  const requestCalls = () => server.storeCalls.filter((c) => c.method !== 'setReadMarkers').length;

  it('S9 text over MAX_MESSAGE_LENGTH is refused (VALIDATION_FAILED on "text") and the socket keeps working; 4000 emoji (16 KB) pass', async () => {
    for (const text of ['x'.repeat(4001), '😀'.repeat(4001), 'a'.repeat(60_000)]) {
      const answer = await send(text);
      expect(answer.error?.code).to.equal('VALIDATION_FAILED');
      expect(answer.error.details[0].path).to.equal('text');
      expect(JSON.stringify(answer), 'the refused text is not echoed').to.have.length.below(500);
    }
    const big = '😀'.repeat(4000);
    const heard = next(control.b, 'chat:message', (m: any) => m.text === big);
    expect((await send(big)).ok).to.equal(true);
    expect(Buffer.byteLength(big)).to.equal(16_000);
    await heard;
  });

  it('S15 unknown keys and wrong types are refused with VALIDATION_FAILED and the field path, never applied', async () => {
    const rooms = callsOf('createRoom');
    const appends = callsOf('append');
    for (const [body, path] of [
      [{ name: 'r', createdBy: 'victim' }, '(root)'],
      [{ name: 'r', id: 'chosen-id' }, '(root)'],
      [{ name: 'r', lastSeq: 999 }, '(root)'],
      [{ name: 'r', isPrivate: 'false' }, 'isPrivate'],
      [{ name: 'r', maxParticipants: '8' }, 'maxParticipants'],
      [{ name: ['r'] }, 'name'],
    ] as const) {
      const res = await request(server.url, 'POST', '/api/rooms', { token, body });
      expectError(res, 400, 'VALIDATION_FAILED', JSON.stringify(body));
      expect(res.body.error.details.map((d: any) => d.path), JSON.stringify(body)).to.include(path);
    }
    for (const body of [
      { roomId, text: 'x', seq: 1 },
      { roomId, text: 'x', senderId: 'victim' },
      { roomId, text: 'x', senderName: 'Admin' },
      { roomId, text: 'x', id: 'chosen' },
      { roomId, text: 'x', createdAt: '1970-01-01T00:00:00Z' },
    ]) {
      expectError(await request(server.url, 'POST', '/api/messages', { token, body }), 400, 'VALIDATION_FAILED', JSON.stringify(body));
      const answer = await ask(attacker, 'chat:send', { ...body, clientMsgId: randomUUID() });
      expect(answer.error?.code, JSON.stringify(body)).to.equal('VALIDATION_FAILED');
    }
    for (const payload of [{ roomId: 5 }, { roomId: [roomId] }, { roomId, lastSeq: '3' }, { roomId, lastSeq: -1 }]) {
      expect((await ask(attacker, 'room:join', payload)).error?.code, JSON.stringify(payload)).to.equal('VALIDATION_FAILED');
    }
    expect(callsOf('createRoom'), 'no room created').to.equal(rooms);
    expect(callsOf('append'), 'no message stored').to.equal(appends);
  });

  it('S16 operator objects ($ne, $gt, $regex) are refused before any store call (400 / VALIDATION_FAILED)', async () => {
    const before = requestCalls();
    const queries = ['roomId[$ne]=x', 'roomId[$regex]=.*', `roomId=${roomId}&before[$gt]=0`, `roomId=${roomId}&limit[$gt]=1`];
    for (const q of queries) expectError(await request(server.url, 'GET', `/api/messages?${q}`, { token }), 400, 'VALIDATION_FAILED', q);
    for (const body of [{ roomId: { $ne: null }, text: 'x' }, { roomId: { $gt: '' }, text: 'x' }, { roomId, text: { $regex: '.*' } }]) {
      expectError(await request(server.url, 'POST', '/api/messages', { token, body }), 400, 'VALIDATION_FAILED', JSON.stringify(body));
    }
    expectError(
      await request(server.url, 'POST', `/api/rooms/${roomId}/members`, { token, body: { userId: { $ne: null } } }),
      400,
      'VALIDATION_FAILED',
    );
    for (const [event, payload] of [
      ['room:join', { roomId: { $ne: null } }],
      ['chat:history', { roomId, before: { $gt: 0 } }],
      ['chat:history', { roomId: { $regex: '.*' } }],
      ['chat:ack', { roomId, seq: { $gt: 0 } }],
      ['chat:read', { roomId, seq: { $gt: 0 } }],
    ] as const) {
      expect((await ask(attacker, event, payload)).error?.code, `${event} ${JSON.stringify(payload)}`).to.equal('VALIDATION_FAILED');
    }
    expect(requestCalls(), 'refused input never reached the store').to.equal(before);
  });

  it('S17 $where / $expr / $function payloads are refused fast (400 / VALIDATION_FAILED) and never reach the store', async () => {
    const before = requestCalls();
    const started = Date.now();
    for (const q of ['$where=sleep(1000)', `roomId=${roomId}&$where=sleep(1000)`, `roomId=${roomId}&$expr=1`]) {
      expectError(await request(server.url, 'GET', `/api/messages?${q}`, { token }), 400, 'VALIDATION_FAILED', q);
    }
    for (const body of [
      { roomId, text: 'x', $where: 'sleep(1000)' },
      { roomId: { $where: 'sleep(1000)' }, text: 'x' },
      { roomId: { $function: { body: 'sleep(1000)', args: [], lang: 'js' } }, text: 'x' },
    ]) {
      expectError(await request(server.url, 'POST', '/api/messages', { token, body }), 400, 'VALIDATION_FAILED', JSON.stringify(body));
    }
    expectError(await request(server.url, 'POST', '/api/rooms', { token, body: { name: 'r', $expr: { $eq: [1, 1] } } }), 400, 'VALIDATION_FAILED');
    expect((await ask(attacker, 'chat:history', { roomId, $where: 'sleep(1000)' })).error?.code).to.equal('VALIDATION_FAILED');
    expect(Date.now() - started, 'nothing slept').to.be.below(2000);
    expect(requestCalls()).to.equal(before);
  });

  it('S18 every store call is keyed by validated scalars: no filter object, no unknown field, no empty id', async () => {
    // Some accepted traffic first, so that there are calls to inspect.
    expect((await send('scalar check')).ok).to.equal(true);
    expect((await request(server.url, 'GET', `/api/messages?roomId=${roomId}&after=0&limit=5`, { token })).status).to.equal(200);
    expect((await ask(attacker, 'chat:ack', { roomId, seq: 1 })).ok).to.equal(true);
    expect((await ask(attacker, 'chat:read', { roomId, seq: 1 })).ok).to.equal(true);
    const fields = new Set([
      ...['id', 'roomId', 'seq', 'senderId', 'senderName', 'text', 'clientMsgId', 'createdAt'],
      ...['name', 'isPrivate', 'maxParticipants', 'createdBy', 'after', 'before', 'limit'],
      ...['locked', 'lobby', 'role'],
      // Read markers of own sends, batched: the user id comes from the token, never the payload.
      'userId',
    ]);
    expect(server.storeCalls.length).to.be.above(10);
    for (const { method, args } of server.storeCalls) {
      for (const arg of args) {
        if (typeof arg === 'string') expect(arg.length, `${method}: empty id`).to.be.above(0);
        for (const key of deepKeys(arg)) {
          if (/^\d+$/.test(key)) continue; // array index (insertAssigned)
          expect(fields.has(key), `${method} got a field "${key}"`).to.equal(true);
        }
        const nested = Array.isArray(arg) ? arg : [arg];
        for (const item of nested) {
          if (typeof item !== 'object' || item === null) continue;
          for (const v of Object.values(item)) expect(v === null || typeof v !== 'object', `${method}: nested object`).to.equal(true);
        }
      }
    }
  });

  it('S19 prototype pollution through every REST body and query is refused (400) and Object.prototype stays clean', async () => {
    const raw = (path: string, body: string) => request(server.url, 'POST', path, { token, rawBody: body, headers: { 'content-type': 'application/json' } });
    const cases: Array<[string, string]> = [
      ['/api/auth/guest', withProto({ name: 'p' })],
      ['/api/rooms', withProto({ name: 'p' })],
      ['/api/rooms', JSON.stringify({ name: 'p', constructor: { prototype: { polluted: 'yes' } } })],
      [`/api/rooms/${roomId}/members`, withProto({ userId: 'u' })],
      ['/api/messages', withProto({ roomId, text: 'p' })],
      ['/api/messages', JSON.stringify({ roomId, text: 'p', constructor: { prototype: { isAdmin: true } } })],
      ['/api/messages', `{"roomId":${JSON.stringify(roomId)},"text":"p","__proto__":{"__proto__":{"polluted":"deep"}}}`],
    ];
    for (const [path, body] of cases) expectError(await raw(path, body), 400, 'VALIDATION_FAILED', `${path} ${body.slice(0, 60)}`);
    for (const q of [`roomId=${roomId}&__proto__[polluted]=yes`, `roomId=${roomId}&__proto__=x`, `roomId=${roomId}&constructor[prototype][isAdmin]=1`]) {
      expectError(await request(server.url, 'GET', `/api/messages?${q}`, { token }), 400, 'VALIDATION_FAILED', q);
    }
  });

  it('S19 prototype pollution through socket payloads and the handshake auth object changes nothing', async () => {
    // Sent as raw frames, so that `__proto__` arrives as an own key exactly as an attacker writes it.
    const raw = await RawClient.open(server.port);
    try {
      const connected = await raw.connect('/chat', JSON.parse(withProto({ token })));
      expect(connected.ok, 'an extra __proto__ key in auth is harmless').to.equal(true);
      for (const [event, payload] of [
        ['room:join', withProto({ roomId })],
        ['chat:send', withProto({ roomId, clientMsgId: 'p1', text: 'p' })],
        ['chat:history', withProto({ roomId })],
        ['chat:typing', withProto({ roomId, typing: true })],
        ['chat:send', JSON.stringify({ roomId, clientMsgId: 'p2', text: 'p', constructor: { prototype: { polluted: 'yes' } } })],
      ] as const) {
        const id = raw.ackId();
        raw.sendRaw(`42/chat,${id}["${event}",${payload}]`);
        const answer = await raw.ackFor('/chat', id);
        expect(answer?.error?.code, `${event} ${payload.slice(0, 50)}`).to.equal('VALIDATION_FAILED');
      }
    } finally {
      raw.close();
    }
    // A token hidden in auth's __proto__ is not a token.
    const hidden = await RawClient.open(server.port);
    try {
      expect(await hidden.connect('/chat', JSON.parse(`{"__proto__":{"token":${JSON.stringify(token)}}}`))).to.deep.include({
        ok: false,
        message: 'UNAUTHORIZED',
      });
    } finally {
      hidden.close();
    }
    expect((await connectError(server.url, '/rtc', undefined, { auth: JSON.parse(`{"__proto__":{"token":${JSON.stringify(token)}}}`) })).message).to.equal(
      'UNAUTHORIZED',
    );
  });

  it('S20 markup is stored and delivered as inert text, exactly as sent, in JSON with nosniff', async () => {
    const payloads = [
      '<img src=x onerror=alert(1)>',
      '<script>alert(document.cookie)</script>',
      '"><svg/onload=alert(1)>',
      'javascript:alert(1)',
      '[click](javascript:alert(1))',
      '{{constructor.constructor("alert(1)")()}}',
      '&lt;b&gt; &amp; &#x3C;',
    ];
    for (const text of payloads) {
      const heard = next(control.b, 'chat:message', (m: any) => m.text === text);
      expect((await send(text)).ok, text).to.equal(true);
      expect((await heard).text).to.equal(text);
    }
    const posted = await request(server.url, 'POST', '/api/messages', { token, body: { roomId, text: payloads[0] } });
    expect(posted.status).to.equal(201);
    expect(posted.body.text).to.equal(payloads[0]);
    const res = await request(server.url, 'GET', `/api/messages?roomId=${roomId}&limit=100`, { token });
    expect(res.headers.get('content-type')).to.match(/^application\/json/);
    expect(res.headers.get('x-content-type-options')).to.equal('nosniff');
    const stored = (res.body.messages as any[]).map((m) => m.text);
    for (const text of payloads) expect(stored, text).to.include(text);
    const room = await createRoom(server.url, token, { name: '<b onmouseover=alert(1)>room</b>' });
    expect((await request(server.url, 'GET', `/api/rooms/${room.id}`, { token })).body.name).to.equal('<b onmouseover=alert(1)>room</b>');
  });

  it('S21 control characters, C1, NUL and lone surrogates are refused; RTL override, zero-width, combining marks are kept as sent', async () => {
    const refused = ['\u0000', 'a\u0000b', '\u0007bell', '\u001b[2J', '\u007f', '\u0085next line', '\u009bcsi', '\ud800', 'x\udfff', '\udc00\ud800', '  \n\t  '];
    for (const text of refused) {
      const answer = await send(text);
      expect(answer.error?.code, JSON.stringify(text)).to.equal('VALIDATION_FAILED');
      expect(answer.error.details[0].path).to.equal('text');
    }
    const kept = [
      'abc\u202edcba',
      'zero\u200bwidth\u200d',
      '\ufeffbom',
      'e\u0301',
      'tab\tand\nnewline\r\n.',
      '𝕳𝖊𝖑𝖑𝖔',
      'a' + '\u0301'.repeat(3999),
      '𝕳'.repeat(4000),
    ];
    for (const text of kept) {
      const answer = await send(text);
      expect(answer.ok, JSON.stringify(text).slice(0, 40)).to.equal(true);
      expect(answer.message.text).to.equal(text);
    }
    expect((await send('a' + '\u0301'.repeat(4000))).error?.code, '4001 code points').to.equal('VALIDATION_FAILED');
    // Names are single-line text with the same rules.
    for (const name of ['a\nb', 'a\u0000', '\ud800', 'x'.repeat(65)]) {
      expectError(await request(server.url, 'POST', '/api/auth/guest', { body: { name } }), 400, 'VALIDATION_FAILED', JSON.stringify(name));
    }
  });

  it('S21 property: any UTF-16 string is accepted iff the text rules allow it, and then stored exactly (fast-check)', async () => {
    const stored = new Map<string, string>();
    const text = fc.oneof(
      fc.string({ unit: 'binary', maxLength: 24 }),
      fc.string({ unit: fc.constantFrom('a', ' ', '\n', '\t', '\r', '\u0000', '\u001f', '\u0085', '\u202e', '\u200b', '\ud83d', '\ude00', '😀', 'é'), maxLength: 12 }),
    );
    await fc.assert(
      fc.asyncProperty(text, async (t) => {
        const clientMsgId = randomUUID();
        const answer = await ask(attacker, 'chat:send', { roomId, clientMsgId, text: t });
        expect(answer.ok, `${JSON.stringify(t)} → ${JSON.stringify(answer.error)}`).to.equal(acceptable(t));
        if (answer.ok) {
          expect(answer.message.text).to.equal(t);
          stored.set(clientMsgId, t);
        } else {
          expect(answer.error.code).to.equal('VALIDATION_FAILED');
        }
      }),
      { numRuns: 150, interruptAfterTimeLimit: 8000 },
    );
    const page = await history();
    for (const m of page) if (stored.has(m.clientMsgId)) expect(m.text).to.equal(stored.get(m.clientMsgId));
  });

  it('S28 REST bodies: too large 413, not JSON 415, malformed 400, gzip bomb 413, unknown encodings 415, no stack traces', async () => {
    const post = (rawBody: string | Buffer, headers: Record<string, string>) =>
      fetch(`${server.url}/api/messages`, { method: 'POST', headers: { authorization: `Bearer ${token}`, ...headers }, body: rawBody }).then(
        async (r) => ({ status: r.status, headers: r.headers, body: JSON.parse(await r.text()) }),
      );
    const json = { 'content-type': 'application/json' };
    expectError(await post(JSON.stringify({ roomId, text: 'x'.repeat(1024 * 1024) }), json), 413, 'PAYLOAD_TOO_LARGE', '1 MB');
    expectError(await post(JSON.stringify({ roomId, text: 'x' }), { 'content-type': 'text/plain' }), 415, 'UNSUPPORTED_MEDIA_TYPE', 'text/plain');
    expectError(await post(`roomId=${roomId}&text=x`, { 'content-type': 'application/x-www-form-urlencoded' }), 415, 'UNSUPPORTED_MEDIA_TYPE', 'form');
    expectError(await post(JSON.stringify({ roomId, text: 'x' }), { 'content-type': 'application/json; charset=iso-8859-1' }), 415, 'UNSUPPORTED_MEDIA_TYPE', 'latin-1');
    for (const bad of ['{"roomId":', '{"a":1}}', "{'a':1}", '\u0000', '{"a":1e999999}x']) {
      const res = await post(bad, json);
      expectError(res, 400, 'VALIDATION_FAILED', JSON.stringify(bad));
      expect(JSON.stringify(res.body), 'no stack or parser internals').not.to.match(/at .*\.js|SyntaxError|node_modules/);
    }
    const bomb = gzipSync(JSON.stringify({ roomId, text: 'a'.repeat(20 * 1024 * 1024) }));
    expect(bomb.length).to.be.below(64 * 1024);
    const started = Date.now();
    expectError(await post(bomb, { ...json, 'content-encoding': 'gzip' }), 413, 'PAYLOAD_TOO_LARGE', 'gzip bomb');
    expect(Date.now() - started).to.be.below(2000);
    expectError(await post(Buffer.from('not gzip at all'), { ...json, 'content-encoding': 'gzip' }), 400, 'VALIDATION_FAILED', 'corrupt gzip');
    expectError(await post(JSON.stringify({ roomId, text: 'x' }), { ...json, 'content-encoding': 'x-evil' }), 415, 'UNSUPPORTED_MEDIA_TYPE', 'x-evil');
  });

  it('S29 cursors and ids: limit=1e9, negative, hex, non-numeric and oversized ids are 400; unknown ids 404, never 500', async () => {
    for (const q of ['limit=1e9', 'limit=101', 'limit=0', 'limit=-1', 'before=not-an-objectid', 'after=0x10', 'after=1.5', `before=${'9'.repeat(17)}`]) {
      expectError(await request(server.url, 'GET', `/api/messages?roomId=${roomId}&${q}`, { token }), 400, 'VALIDATION_FAILED', q);
    }
    expectError(await request(server.url, 'GET', `/api/messages?roomId=${'r'.repeat(129)}`, { token }), 400, 'VALIDATION_FAILED', 'long id');
    expectError(await request(server.url, 'GET', `/api/rooms/${'r'.repeat(129)}`, { token }), 400, 'VALIDATION_FAILED', 'long id');
    expectError(await request(server.url, 'GET', '/api/messages?roomId=507f1f77bcf86cd799439011', { token }), 404, 'ROOM_NOT_FOUND', 'objectid');
    expectError(await request(server.url, 'GET', `/api/rooms/${encodeURIComponent('../../etc/passwd')}`, { token }), 404, 'ROOM_NOT_FOUND', 'path');
    for (const payload of [
      { roomId, limit: 1e9 },
      { roomId, limit: 0 },
      { roomId, before: -1 },
      { roomId, after: 2 ** 60 },
      { roomId, after: 1.5 },
    ]) {
      expect((await ask(attacker, 'chat:history', payload)).error?.code, JSON.stringify(payload)).to.equal('VALIDATION_FAILED');
    }
    expect((await ask(attacker, 'room:join', { roomId, lastSeq: 2 ** 60 })).error?.code).to.equal('VALIDATION_FAILED');
    expect((await ask(attacker, 'room:join', { roomId: 'no-such-room' })).error?.code).to.equal('ROOM_NOT_FOUND');
    const page = await request(server.url, 'GET', `/api/messages?roomId=${roomId}&limit=100&after=0`, { token });
    expect(page.status).to.equal(200);
    expect(page.body.messages.length).to.be.at.most(100);
  });
});
