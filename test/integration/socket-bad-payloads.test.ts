import { randomUUID } from 'node:crypto';
import { expect } from 'chai';
import type { Socket } from 'socket.io-client';
import { createRoom, guest, request } from '../helpers/http-client.js';
import { ask, collect, connect, eventually, next } from '../helpers/socket-client.js';
import { startServer, useServer, type TestServer } from '../helpers/test-server.js';

/**
 * Hostile and malformed input over Socket.IO: every inbound event refuses bad payloads with
 * VALIDATION_FAILED and keeps the connection; floods are rate-limited; oversized frames cost
 * only the sender its connection.
 */

type Case = [label: string, payload: unknown];

/** A payload whose own `__proto__` key survives JSON (an object literal would set the prototype). */
const withProto = (base: object) => JSON.parse(JSON.stringify(base).replace(/^\{/, '{"__proto__":{"polluted":"yes"},'));
const withConstructor = (base: object) => ({ ...base, constructor: { prototype: { polluted: 'yes' } } });

const LONG_ID = 'i'.repeat(129);
/** Includes a Buffer: it travels as a Socket.IO binary attachment, not as JSON. */
const HOSTILE_IDS: unknown[] = [{ $ne: null }, { $gt: '' }, LONG_ID, '', 42, null, true, ['a'], {}, Buffer.from('room')];
const BAD_SEQS: unknown[] = [-1, 1.5, 2 ** 53, 1e300, '5', null, true, {}, [1]];
const NOT_OBJECTS: Case[] = [
  ['null', null],
  ['a string', 'room'],
  ['a number', 42],
  ['a boolean', true],
  ['an empty array', []],
  ['an array', [{ roomId: 'x' }]],
];

/** Generic cases for any event: not an object, empty object, each field broken, extra keys, pollution. */
function casesFor(valid: Record<string, unknown>, fields: Record<string, unknown[]>, optional: string[] = []): Case[] {
  const cases: Case[] = [...NOT_OBJECTS, ['an unknown key', { ...valid, extra: 1 }]];
  if (Object.keys(valid).some((k) => !optional.includes(k))) cases.push(['an empty object', {}]);
  for (const key of Object.keys(valid)) {
    if (!optional.includes(key)) {
      const { [key]: _dropped, ...rest } = valid;
      cases.push([`missing ${key}`, rest]);
    }
  }
  for (const [key, values] of Object.entries(fields)) {
    for (const v of values) cases.push([`${key} = ${JSON.stringify(v)?.slice(0, 40)}`, { ...valid, [key]: v }]);
  }
  cases.push(['__proto__ pollution', withProto(valid)]);
  cases.push(['constructor.prototype pollution', withConstructor(valid)]);
  return cases;
}

describe('socket bad payloads: every inbound event validates strictly', function () {
  const MAX_LEN = 4000;
  let server: TestServer;
  let token: string;
  let roomId: string;
  let chat: Socket;
  let rtc: Socket;
  let otherRtc: Socket;
  let otherPeerId: string;
  const validTexts: string[] = [];
  const extraSockets: Socket[] = [];

  before(async () => {
    // A generous event budget: this suite is about validation, not rate limits.
    server = await startServer({ RATE_LIMIT_EVENTS: '100000', RATE_LIMIT_MESSAGES: '100000' });
    const alice = await guest(server.url, 'alice');
    const bob = await guest(server.url, 'bob');
    token = alice.token;
    roomId = (await createRoom(server.url, token, { name: 'target' })).id;
    chat = await connect(server.url, '/chat', token);
    rtc = await connect(server.url, '/rtc', token);
    otherRtc = await connect(server.url, '/rtc', bob.token);
    expect((await ask(chat, 'room:join', { roomId })).ok).to.equal(true);
    expect((await ask(rtc, 'call:join', { roomId })).ok).to.equal(true);
    otherPeerId = (await ask(otherRtc, 'call:join', { roomId })).peerId;
  });
  after(async () => {
    for (const s of [chat, rtc, otherRtc, ...extraSockets]) s?.close();
    await server?.stop();
  });

  const table = (): Record<string, { nsp: 'chat' | 'rtc'; cases: Case[] }> => {
    const text = 'hello';
    const to = otherPeerId;
    return {
      'room:join': {
        nsp: 'chat',
        cases: casesFor({ roomId, lastSeq: 0 }, { roomId: HOSTILE_IDS, lastSeq: BAD_SEQS }, ['lastSeq']),
      },
      'room:leave': { nsp: 'chat', cases: casesFor({ roomId }, { roomId: HOSTILE_IDS }) },
      'chat:send': {
        nsp: 'chat',
        cases: casesFor(
          { roomId, clientMsgId: 'c-1', text },
          {
            roomId: HOSTILE_IDS,
            clientMsgId: [LONG_ID, '', 7, null, { $ne: null }],
            text: [
              '',
              '   \n\t ',
              'nul\u0000byte',
              'bell\u0007',
              'del\u007f',
              'lone \ud800 surrogate',
              'trailing \udc00',
              'x'.repeat(MAX_LEN + 1),
              '😀'.repeat(MAX_LEN + 1),
              12,
              null,
              ['hi'],
              { $ne: null },
              Buffer.from('hi'),
            ],
          },
        ),
      },
      'chat:history': {
        nsp: 'chat',
        cases: casesFor(
          { roomId, before: 10, after: 0, limit: 10 },
          { roomId: HOSTILE_IDS, before: BAD_SEQS, after: BAD_SEQS, limit: [0, 101, -1, 1.5, '10', null, 1e9] },
          ['before', 'after', 'limit'],
        ),
      },
      'chat:typing': {
        nsp: 'chat',
        cases: casesFor({ roomId, typing: true }, { roomId: HOSTILE_IDS, typing: ['yes', 1, 0, null, {}] }),
      },
      'chat:ack': { nsp: 'chat', cases: casesFor({ roomId, seq: 0 }, { roomId: HOSTILE_IDS, seq: BAD_SEQS }) },
      'chat:read': { nsp: 'chat', cases: casesFor({ roomId, seq: 0 }, { roomId: HOSTILE_IDS, seq: BAD_SEQS }) },
      'call:join': { nsp: 'rtc', cases: casesFor({ roomId }, { roomId: HOSTILE_IDS }) },
      'call:leave': { nsp: 'rtc', cases: casesFor({ roomId }, { roomId: HOSTILE_IDS }) },
      'rtc:signal': {
        nsp: 'rtc',
        cases: [
          ...casesFor(
            { to, kind: 'offer', data: { type: 'offer', sdp: 'v=0' } },
            {
              to: HOSTILE_IDS,
              kind: ['bogus', 'OFFER', '', 1, null, ['offer']],
              data: [null, 'v=0', 5, [], { type: 'bogus' }, { type: 'offer', sdp: 5 }, { type: 'offer', sdp: 'v=0', x: 1 }],
            },
          ),
          ['a smuggled from', { to, from: to, kind: 'offer', data: { type: 'offer', sdp: 'v=0' } }],
          ['ice-candidate without data', { to, kind: 'ice-candidate' }],
          ['ice-candidate with a number', { to, kind: 'ice-candidate', data: { candidate: 5 } }],
          ['ice-candidate with a bad sdpMLineIndex', { to, kind: 'ice-candidate', data: { candidate: 'c', sdpMLineIndex: -1 } }],
          ['ice-candidate with an unknown key', { to, kind: 'ice-candidate', data: { candidate: 'c', extra: true } }],
          ['ice-restart with data', { to, kind: 'ice-restart', data: { iceRestart: true } }],
          ['answer with a string body', { to, kind: 'answer', data: 'sdp' }],
          ['offer with a binary sdp', { to, kind: 'offer', data: { type: 'offer', sdp: Buffer.from('v=0') } }],
        ],
      },
      'rtc:media': {
        nsp: 'rtc',
        cases: casesFor(
          { audio: true, video: false, screen: false },
          { audio: ['true', 1, null], video: ['false', 0, {}], screen: [[], 'no', null] },
        ),
      },
    };
  };

  it('answers VALIDATION_FAILED to every malformed payload of every event, and the socket stays usable', async () => {
    const delivered = collect(otherRtc, 'rtc:signal');
    const events = table();
    expect(Object.keys(events)).to.have.length(11);
    let count = 0;
    for (const [event, { nsp, cases }] of Object.entries(events)) {
      const socket = nsp === 'chat' ? chat : rtc;
      // The bare event, without any payload at all.
      const bare = await socket.timeout(5000).emitWithAck(event);
      expect(bare?.error?.code, `${event} without payload`).to.equal('VALIDATION_FAILED');
      for (const [label, payload] of cases) {
        const answer = await ask(socket, event, payload);
        expect(answer, `${event}: ${label}`).to.deep.include({ ok: false });
        expect(answer.error.code, `${event}: ${label} → ${JSON.stringify(answer.error)}`).to.equal('VALIDATION_FAILED');
        expect(answer.error.message, `${event}: ${label}`).to.be.a('string');
        count++;
      }
    }
    expect(count).to.be.above(200);

    expect(({} as any).polluted, 'Object.prototype polluted').to.equal(undefined);
    expect((Object.prototype as any).polluted).to.equal(undefined);
    expect(chat.connected && rtc.connected && otherRtc.connected).to.equal(true);
    expect(delivered, 'no malformed signal was relayed').to.deep.equal([]);

    // A valid message still goes through on the same socket…
    const sent = await ask(chat, 'chat:send', { roomId, clientMsgId: randomUUID(), text: 'still here' });
    expect(sent.ok, JSON.stringify(sent)).to.equal(true);
    validTexts.push('still here');
    // …and a valid signal still reaches the peer.
    const arrived = next(otherRtc, 'rtc:signal');
    expect((await ask(rtc, 'rtc:signal', { to: otherPeerId, kind: 'offer', data: { type: 'offer', sdp: 'v=0' } })).ok).to.equal(true);
    expect((await arrived).kind).to.equal('offer');

    // History holds only the valid message(s).
    const history = await request(server.url, 'GET', `/api/messages?roomId=${roomId}`, { token });
    expect(history.status).to.equal(200);
    expect(history.body.messages.map((m: any) => m.text)).to.deep.equal(validTexts);
    expect(history.body.messages.map((m: any) => m.seq)).to.deep.equal([1]);
  });

  it('answers VALIDATION_FAILED to an unknown event that carries an ack, in both namespaces', async () => {
    for (const socket of [chat, rtc]) {
      for (const event of ['no:such:event', 'chat:delete', '__proto__', 'constructor', 'hello']) {
        const answer = await ask(socket, event, { roomId });
        expect(answer.ok, event).to.equal(false);
        expect(answer.error.code, event).to.equal('VALIDATION_FAILED');
      }
    }
    // Events of the other namespace are unknown here.
    expect((await ask(chat, 'call:join', { roomId })).error.code).to.equal('VALIDATION_FAILED');
    expect((await ask(rtc, 'chat:send', { roomId, clientMsgId: 'x', text: 'x' })).error.code).to.equal('VALIDATION_FAILED');
    expect(chat.connected && rtc.connected).to.equal(true);
    expect((await ask(chat, 'chat:typing', { roomId, typing: false })).ok).to.equal(true);
  });

  it('processes events sent without an ack callback all the same', async () => {
    const bob = await guest(server.url, 'bob-chat');
    const listener = await connect(server.url, '/chat', bob.token);
    extraSockets.push(listener);
    expect((await ask(listener, 'room:join', { roomId })).ok).to.equal(true);
    const clientMsgId = randomUUID();
    const arrived = next(listener, 'chat:message', (m: any) => m.clientMsgId === clientMsgId);
    chat.emit('chat:send', { roomId, clientMsgId, text: 'no ack needed' });
    const message = await arrived;
    expect(message).to.include({ roomId, text: 'no ack needed', clientMsgId });
    validTexts.push('no ack needed');

    // A malformed event without an ack is dropped quietly; the socket stays.
    chat.emit('chat:send', { roomId, text: 'no id' });
    chat.emit('chat:send', 'garbage');
    chat.emit('no:such:event', { roomId });
    // Events of one socket are handled in order: once this answers, the ones above were seen.
    expect((await ask(chat, 'chat:typing', { roomId, typing: false })).ok).to.equal(true);

    await eventually(async () => {
      const history = await request(server.url, 'GET', `/api/messages?roomId=${roomId}`, { token });
      return history.body.messages.some((m: any) => m.clientMsgId === clientMsgId);
    });
    const history = await request(server.url, 'GET', `/api/messages?roomId=${roomId}`, { token });
    expect(history.body.messages.map((m: any) => m.text)).to.deep.equal(validTexts);
    expect(chat.connected).to.equal(true);

    // rtc without acks: a signal still reaches the peer.
    const signal = next(otherRtc, 'rtc:signal');
    rtc.emit('rtc:signal', { to: otherPeerId, kind: 'ice-restart' });
    expect(await signal).to.deep.include({ kind: 'ice-restart' });
  });
});

describe('socket floods: RATE_LIMIT_MESSAGES', function () {
  const { server, sockets } = useServer({ RATE_LIMIT_MESSAGES: '5' });

  it('answers RATE_LIMITED with retryAfterMs past the message budget, while another user keeps chatting', async () => {
    const flooder = await guest(server.url, 'flooder');
    const healthy = await guest(server.url, 'healthy');
    const room = await createRoom(server.url, flooder.token);
    const a = await connect(server.url, '/chat', flooder.token);
    const b = await connect(server.url, '/chat', healthy.token);
    sockets.push(a, b);
    expect((await ask(a, 'room:join', { roomId: room.id })).ok).to.equal(true);
    expect((await ask(b, 'room:join', { roomId: room.id })).ok).to.equal(true);

    const answers = await Promise.all(
      Array.from({ length: 9 }, (_, i) => ask(a, 'chat:send', { roomId: room.id, clientMsgId: `flood-${i}`, text: `flood ${i}` })),
    );
    const ok = answers.filter((x) => x.ok);
    const limited = answers.filter((x) => !x.ok);
    expect(ok).to.have.length(5);
    expect(limited).to.have.length(4);
    for (const l of limited) {
      expect(l.error.code).to.equal('RATE_LIMITED');
      expect(l.error.retryAfterMs).to.be.a('number').above(0);
    }

    const fromB = next(a, 'chat:message', (m: any) => m.text === 'healthy here');
    const sent = await ask(b, 'chat:send', { roomId: room.id, clientMsgId: 'h-1', text: 'healthy here' });
    expect(sent.ok).to.equal(true);
    await fromB;
    expect(a.connected).to.equal(true);

    const history = await request(server.url, 'GET', `/api/messages?roomId=${room.id}`, { token: healthy.token });
    expect(history.body.messages).to.have.length(6);
    expect(history.body.messages.filter((m: any) => m.senderId === flooder.user.id)).to.have.length(5);
  });

  it('meters REST sends with the same per-user budget as socket sends: 429 with Retry-After past it', async () => {
    const user = await guest(server.url, 'rest-sender');
    const room = await createRoom(server.url, user.token);
    const s = await connect(server.url, '/chat', user.token);
    sockets.push(s);
    expect((await ask(s, 'room:join', { roomId: room.id })).ok).to.equal(true);
    // Two over the socket, then a retried clientMsgId and two new ones over REST: five in all.
    for (const id of ['s1', 's2']) expect((await ask(s, 'chat:send', { roomId: room.id, clientMsgId: id, text: id })).ok).to.equal(true);
    const post = (clientMsgId: string) => request(server.url, 'POST', '/api/messages', { token: user.token, body: { roomId: room.id, text: clientMsgId, clientMsgId } });
    expect((await post('s1')).status, 'a retried clientMsgId is answered, and counts').to.equal(200);
    expect((await post('r1')).status).to.equal(201);
    expect((await post('r2')).status).to.equal(201);

    const refused = await post('r3');
    expect(refused.status).to.equal(429);
    expect(refused.body.error.code).to.equal('RATE_LIMITED');
    expect(Number(refused.headers.get('retry-after'))).to.be.within(1, 10);
    const overSocket = await ask(s, 'chat:send', { roomId: room.id, clientMsgId: 's3', text: 's3' });
    expect(overSocket.ok, 'the socket shares the budget REST used up').to.equal(false);
    expect(overSocket.error.code).to.equal('RATE_LIMITED');

    const history = await request(server.url, 'GET', `/api/messages?roomId=${room.id}`, { token: user.token });
    expect(history.body.messages.map((m: any) => m.text)).to.deep.equal(['s1', 's2', 'r1', 'r2']);
  });
});

describe('socket floods: RATE_LIMIT_EVENTS', function () {
  const { server, sockets } = useServer({ RATE_LIMIT_EVENTS: '10' });

  it('answers RATE_LIMITED past the per-connection event budget; the connection and the server stay up', async () => {
    const user = await guest(server.url, 'typist');
    const room = await createRoom(server.url, user.token);
    const flooder = await connect(server.url, '/chat', user.token);
    // Same user, another connection: the budget is per connection.
    const bystander = await connect(server.url, '/chat', user.token);
    sockets.push(flooder, bystander);
    expect((await ask(flooder, 'room:join', { roomId: room.id })).ok).to.equal(true);
    expect((await ask(bystander, 'room:join', { roomId: room.id })).ok).to.equal(true);

    const answers = await Promise.all(Array.from({ length: 30 }, () => ask(flooder, 'chat:typing', { roomId: room.id, typing: true })));
    const limited = answers.filter((x) => !x.ok);
    expect(answers.filter((x) => x.ok).length).to.be.within(1, 10);
    expect(limited.length).to.be.at.least(20);
    for (const l of limited) {
      expect(l.error.code).to.equal('RATE_LIMITED');
      expect(l.error.retryAfterMs).to.be.above(0);
    }

    expect((await ask(bystander, 'chat:typing', { roomId: room.id, typing: false })).ok).to.equal(true);
    expect((await request(server.url, 'GET', '/healthz')).status).to.equal(200);
    expect(flooder.connected).to.equal(true);
    // Once the window passes, the flooder is served again.
    await eventually(async () => (await ask(flooder, 'chat:typing', { roomId: room.id, typing: false })).ok === true, 3000);
  });
});

describe('socket frames: MAX_PAYLOAD_BYTES', function () {
  // Long messages are allowed, so only the frame size can refuse the 10 KB text.
  const { server, sockets } = useServer({ MAX_PAYLOAD_BYTES: '2048', MAX_MESSAGE_LENGTH: '20000' });

  it('disconnects only the socket that sends an oversized frame', async () => {
    const big = await guest(server.url, 'big');
    const control = await guest(server.url, 'control');
    const room = await createRoom(server.url, big.token);
    const a = await connect(server.url, '/chat', big.token);
    const b = await connect(server.url, '/chat', control.token);
    sockets.push(a, b);
    expect((await ask(a, 'room:join', { roomId: room.id })).ok).to.equal(true);
    expect((await ask(b, 'room:join', { roomId: room.id })).ok).to.equal(true);
    const bGot = collect(b, 'chat:message');

    const dropped = next<string>(a, 'disconnect');
    let answered = false;
    a.emit('chat:send', { roomId: room.id, clientMsgId: 'big-1', text: 'x'.repeat(10 * 1024) }, () => (answered = true));
    expect(await dropped).to.be.a('string');
    expect(answered, 'an oversized frame is not answered').to.equal(false);
    expect(a.connected).to.equal(false);

    expect(b.connected).to.equal(true);
    const sent = await ask(b, 'chat:send', { roomId: room.id, clientMsgId: 'small-1', text: 'small' });
    expect(sent.ok).to.equal(true);
    expect(bGot, 'the oversized message reached nobody').to.deep.equal([]);
    const history = await request(server.url, 'GET', `/api/messages?roomId=${room.id}`, { token: control.token });
    expect(history.body.messages.map((m: any) => m.text)).to.deep.equal(['small']);
  });
});
