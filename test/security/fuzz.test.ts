import { expect } from 'chai';
import fc from 'fast-check';
import type { Socket } from 'socket.io-client';
import { ZodError } from 'zod';
import { httpStatusOf, type ErrorCode } from '../../src/protocol/error-codes.js';
import { buildSchemas } from '../../src/protocol/schemas.js';
import { createRoom, guest, request } from '../helpers/http-client.js';
import { connect } from '../helpers/socket-client.js';
import { Control, EXPECTED_CODES, startSecure, watchProcessFaults, type SecureServer } from './harness.js';
import { RawClient } from './raw-client.js';

/**
 * Property-based fuzz (fast-check), bounded by run count and time: every inbound schema,
 * every socket event and REST route with random and mutated payloads, and raw Socket.IO
 * frames. Each answer is `ok` or a code from the closed set (never INTERNAL), malformed
 * frames at worst close their own connection, nothing hangs, and the control pair keeps
 * talking throughout. Replay a failure with the seed fast-check prints.
 */

const EVENTS = {
  '/chat': ['room:join', 'room:leave', 'chat:send', 'chat:edit', 'chat:delete', 'chat:react', 'chat:history', 'chat:typing', 'chat:ack'],
  '/rtc': ['call:join', 'call:leave', 'rtc:signal', 'rtc:media'],
} as const;
const RESERVED = ['connect', 'connect_error', 'disconnect', 'disconnecting', 'newListener', 'removeListener'];

/** A value that is sometimes right, often wrong in a way that tends to matter. */
const hostile = fc.oneof(
  fc.anything({ maxDepth: 2 }),
  fc.constantFrom('', ' ', '\u0000', '\ud800', 'x'.repeat(5000), '__proto__', '$where', -1, 0, 1.5, 2 ** 53, Number.MAX_VALUE, null, true, [], {}),
  fc.string({ unit: 'binary', maxLength: 20 }),
  fc.record({ $ne: fc.constant(null) }),
  fc.record({ $gt: fc.constant('') }),
);

/** Keeps or breaks each field of a valid payload, and sometimes adds a key the schema does not know. */
function mutate(valid: Record<string, unknown>): fc.Arbitrary<unknown> {
  const fields = Object.fromEntries(Object.entries(valid).map(([k, v]) => [k, fc.oneof({ weight: 2, arbitrary: fc.constant(v) }, hostile)]));
  return fc
    .tuple(fc.record(fields, { requiredKeys: [] }), fc.option(fc.tuple(fc.constantFrom('extra', 'isAdmin', 'senderId', 'from', '$where', 'constructor'), hostile)))
    .map(([payload, extra]) => (extra ? { ...payload, [extra[0]]: extra[1] } : payload));
}

const RUN = (runs: number, ms: number) => ({ numRuns: runs, interruptAfterTimeLimit: ms, markInterruptAsFailure: false });

describe('security: property-based fuzz (S11, S15, S21, S26)', function () {
  this.timeout(60_000);
  watchProcessFaults();
  let server: SecureServer;
  let control: Control;
  let token: string;
  let chat: Socket;
  let rtc: Socket;
  let peer: Socket;
  let peerId: string;

  before(async () => {
    server = await startSecure({
      RATE_LIMIT_EVENTS: '100000',
      RATE_LIMIT_MESSAGES: '100000',
      RATE_LIMIT_HTTP: '1000000',
      RATE_LIMIT_HANDSHAKES: '1000000',
      MAX_CONNECTIONS_PER_USER: '1000',
    });
    control = await Control.open(server.url);
    const g = await guest(server.url, 'fuzzer');
    token = g.token;
    chat = await connect(server.url, '/chat', token);
    rtc = await connect(server.url, '/rtc', token);
    peer = await connect(server.url, '/rtc', (await guest(server.url, 'peer')).token);
    await chat.timeout(5000).emitWithAck('room:join', { roomId: control.roomId });
    await rtc.timeout(5000).emitWithAck('call:join', { roomId: control.roomId });
    peerId = (await peer.timeout(5000).emitWithAck('call:join', { roomId: control.roomId })).peerId;
  });
  afterEach(async function () {
    expect(({} as Record<string, unknown>).polluted, 'Object.prototype polluted').to.equal(undefined);
    await control.check(this.currentTest?.title ?? '');
  });
  after(async () => {
    for (const s of [chat, rtc, peer]) s?.close();
    control?.close();
    await server?.stop();
  });

  it('S15 every schema: any input parses or fails with a ZodError, and what parses has only known keys', async () => {
    const schemas = buildSchemas();
    const known: Record<string, string[]> = {
      guestAuth: ['name'],
      createRoom: ['name', 'isPrivate', 'maxParticipants', 'locked', 'lobby'],
      addMember: ['userId'],
      updateRoom: ['name', 'isPrivate', 'maxParticipants', 'locked', 'lobby'],
      setRole: ['role'],
      postMessage: ['roomId', 'text', 'clientMsgId', 'replyTo'],
      editMessage: ['text'],
      adminMessage: ['text'],
      adminDisconnect: ['revoke'],
      roomJoin: ['roomId', 'lastSeq', 'lastRev'],
      roomLeave: ['roomId'],
      chatSend: ['roomId', 'clientMsgId', 'text', 'replyTo'],
      chatEdit: ['roomId', 'seq', 'text'],
      chatDelete: ['roomId', 'seq'],
      chatReact: ['roomId', 'seq', 'emoji', 'on'],
      chatHistory: ['roomId', 'before', 'after', 'limit'],
      chatTyping: ['roomId', 'typing'],
      chatAck: ['roomId', 'seq'],
      chatRead: ['roomId', 'seq'],
      callJoin: ['roomId'],
      callLeave: ['roomId'],
      callKick: ['roomId', 'peerId'],
      callMute: ['roomId', 'kind', 'peerId'],
      callEnd: ['roomId'],
      callAdmit: ['roomId', 'requestId', 'admit'],
      rtcSignal: ['to', 'kind', 'data'],
      rtcMedia: ['audio', 'video', 'screen'],
    };
    expect(Object.keys(schemas).sort()).to.deep.equal(Object.keys(known).sort());
    const valid = { roomId: 'r', text: 't', clientMsgId: 'c', name: 'n', userId: 'u', to: 'p', kind: 'offer', data: { type: 'offer', sdp: 'v=0' } };
    for (const [name, schema] of Object.entries(schemas)) {
      // The properties run synchronously in this process, which also keeps the control
      // heartbeat: yield between schemas, or a slow machine reads its own fuzzing as a stall.
      await new Promise((resolve) => setImmediate(resolve));
      fc.assert(
        fc.property(fc.oneof(fc.anything(), mutate({ ...valid, typing: true, audio: true, video: false, screen: false, seq: 1, lastSeq: 0, lastRev: 0, replyTo: 1, emoji: '👍', on: true })), (input) => {
          let out: unknown;
          try {
            out = schema.parse(input);
          } catch (err) {
            expect(err, name).to.be.instanceOf(ZodError);
            return;
          }
          for (const key of Object.keys(out as object)) expect(known[name], `${name} let "${key}" through`).to.include(key);
        }),
        RUN(1000, 3000),
      );
    }
  });

  for (const [nsp, events] of Object.entries(EVENTS)) {
    for (const event of events) {
      it(`S15 ${nsp} ${event}: random and mutated payloads are answered ok or with an expected code, never INTERNAL`, async () => {
        const socket = nsp === '/chat' ? chat : rtc;
        const valid: Record<string, Record<string, unknown>> = {
          'room:join': { roomId: control.roomId, lastSeq: 0, lastRev: 0 },
          'room:leave': { roomId: control.roomId },
          'chat:send': { roomId: control.roomId, clientMsgId: 'fuzz', text: 'fuzz' },
          'chat:edit': { roomId: control.roomId, seq: 1, text: 'fuzz edit' },
          'chat:delete': { roomId: control.roomId, seq: 2 },
          'chat:react': { roomId: control.roomId, seq: 1, emoji: '👍', on: true },
          'chat:history': { roomId: control.roomId, before: 5, after: 0, limit: 10 },
          'chat:typing': { roomId: control.roomId, typing: true },
          'chat:ack': { roomId: control.roomId, seq: 1 },
          'call:join': { roomId: control.roomId },
          'call:leave': { roomId: control.roomId },
          'rtc:signal': { to: peerId, kind: 'ice-candidate', data: { candidate: 'candidate:1 1 udp 1 10.0.0.1 9 typ host' } },
          'rtc:media': { audio: true, video: false, screen: false },
        };
        let runs = 0;
        await fc.assert(
          fc.asyncProperty(fc.oneof(fc.anything(), mutate(valid[event]!)), async (payload) => {
            runs++;
            const answer = await socket.timeout(5000).emitWithAck(event, payload);
            if (answer.ok === true) return;
            expect(answer.ok, JSON.stringify(answer)).to.equal(false);
            expect(EXPECTED_CODES.has(answer.error.code), `${event} → ${JSON.stringify(answer.error)}`).to.equal(true);
            expect(answer.error.message).to.be.a('string');
          }),
          RUN(500, 4000),
        );
        expect(runs, 'the time limit left too few runs').to.be.at.least(50);
        expect(socket.connected).to.equal(true);
      });
    }
  }

  it('S15/S29 REST: random bodies and queries on every route get a 2xx or a clear 4xx with its code, never a 5xx', async () => {
    const room = await createRoom(server.url, token, { name: 'fuzz rest' });
    const routes: Array<[string, string, Record<string, unknown> | null]> = [
      ['POST', '/api/auth/guest', { name: 'n' }],
      ['POST', '/api/rooms', { name: 'n', isPrivate: false, maxParticipants: 4 }],
      ['POST', `/api/rooms/${room.id}/members`, { userId: 'u' }],
      ['POST', '/api/messages', { roomId: room.id, text: 't', clientMsgId: 'c' }],
    ];
    const check = (res: { status: number; body: any }, what: string) => {
      expect(res.status, what).to.be.below(500);
      if (res.status >= 400) {
        const code = res.body?.error?.code as ErrorCode;
        expect(EXPECTED_CODES.has(code), `${what} → ${JSON.stringify(res.body)}`).to.equal(true);
        expect(httpStatusOf[code], what).to.equal(res.status);
      }
    };
    for (const [method, path, valid] of routes) {
      await fc.assert(
        fc.asyncProperty(fc.oneof(fc.anything(), mutate(valid!)), async (body) => {
          const rawBody = JSON.stringify(body) ?? 'null';
          const res = await request(server.url, method, path, { token, rawBody, headers: { 'content-type': 'application/json' } });
          check(res, `${method} ${path} ${rawBody.slice(0, 80)}`);
        }),
        RUN(300, 4000),
      );
    }
    const key = fc.oneof(fc.constantFrom('roomId', 'after', 'before', 'limit', 'roomId[$ne]', '__proto__', 'roomId[]'), fc.string({ maxLength: 8 }));
    const value = fc.oneof(fc.constant(room.id), fc.string({ unit: 'binary', maxLength: 12 }), fc.integer().map(String), fc.constantFrom('1e9', '-1', '0x10', ''));
    await fc.assert(
      fc.asyncProperty(fc.array(fc.tuple(key, value), { maxLength: 5 }), async (pairs) => {
        const query = new URLSearchParams(pairs.map(([k, v]): [string, string] => [k, v.isWellFormed() ? v : 'x'])).toString();
        check(await request(server.url, 'GET', `/api/messages?${query}`, { token }), `GET /api/messages?${query}`);
        check(await request(server.url, 'GET', `/api/rooms/${encodeURIComponent(pairs[0]?.[1] ?? 'x') || 'x'}`, { token }), 'GET /api/rooms/:id');
      }),
      RUN(300, 4000),
    );
  });

  it('S11 raw Socket.IO frames: every mutated frame is answered or closes its own connection; nothing hangs, the control pair keeps talking', async () => {
    let raw: RawClient | null = null;
    const stats = { runs: 0, closed: 0, answered: 0 };
    const live = async () => {
      if (raw && !raw.closed) return raw;
      raw?.close();
      raw = await RawClient.open(server.port);
      const answer = await raw.connect('/chat', { token });
      expect(answer.ok, JSON.stringify(answer)).to.equal(true);
      return raw;
    };
    const eventFrame = fc
      .tuple(
        fc.constantFrom(...EVENTS['/chat'], ...EVENTS['/rtc'], ...RESERVED, 'error', 'hello', 'x:unknown', '__proto__'),
        fc.oneof(fc.anything({ maxDepth: 2 }), mutate({ roomId: control.roomId, clientMsgId: 'raw', text: 'raw fuzz', typing: true })),
        fc.boolean(),
      )
      .map(([event, payload, withAck]) => ({ event, payload, withAck }));
    type Frame = { kind: 'text'; data: string } | { kind: 'binary'; data: Uint8Array };
    const text = (data: string): Frame => ({ kind: 'text', data });
    const frames: fc.Arbitrary<Frame[]> = fc.oneof(
      // A well-formed event, with or without an ack id.
      eventFrame.map(({ event, payload, withAck }) => [text(`42/chat,${withAck ? 9_000_000 : ''}${JSON.stringify([event, payload])}`)]),
      // The same, truncated anywhere.
      fc.tuple(eventFrame, fc.nat()).map(([{ event, payload }, cut]) => {
        const whole = `42/chat,${JSON.stringify([event, payload])}`;
        return [text(whole.slice(0, cut % (whole.length + 1)))];
      }),
      // One character of it replaced.
      fc.tuple(eventFrame, fc.nat(), fc.string({ unit: 'binary', minLength: 1, maxLength: 1 })).map(([{ event, payload }, at, ch]) => {
        const whole = `42/chat,${JSON.stringify([event, payload])}`;
        const i = at % whole.length;
        return [text(whole.slice(0, i) + ch + whole.slice(i + 1))];
      }),
      // Any packet-type prefix before garbage.
      fc
        .tuple(fc.constantFrom('', '0', '1', '2', '3', '4', '5', '6', '7', '40', '41', '42', '43', '44', '45', '46', '49', '42/rtc,', '43/chat,1'), fc.string({ unit: 'binary', maxLength: 40 }))
        .map(([p, rest]) => [text(p + rest)]),
      // Binary packets: declared attachments, placeholders, and 0–3 buffers that may or may not match.
      fc
        .tuple(fc.integer({ min: -1, max: 12 }), fc.oneof(fc.nat(4), fc.constantFrom('splice', '0', -1, null, 1e9)), fc.array(fc.uint8Array({ maxLength: 16 }), { maxLength: 3 }))
        .map(([n, num, buffers]): Frame[] => [
          text(`45${n}-/chat,${JSON.stringify(['chat:send', { roomId: { _placeholder: true, num }, clientMsgId: 'b', text: 't' }])}`),
          ...buffers.map((b): Frame => ({ kind: 'binary', data: b })),
        ]),
      // Raw bytes, as a binary frame or as a text frame that may not be UTF-8.
      fc.uint8Array({ minLength: 1, maxLength: 64 }).map((b): Frame[] => [{ kind: 'binary', data: b }]),
    );

    await fc.assert(
      fc.asyncProperty(frames, async (batch) => {
        const client = await live();
        stats.runs++;
        for (const f of batch) {
          if (f.kind === 'text') client.sendRaw(f.data);
          else client.sendRaw(Buffer.from(f.data), true);
        }
        // Every frame above is followed by a probe: an ack proves the server is still serving
        // this connection; otherwise it must have closed it. Silence would be a hang.
        const probe = client.ackId();
        client.sendRaw(`42/chat,${probe}${JSON.stringify(['chat:typing', { roomId: 'probe', typing: false }])}`);
        const answer = await client.ackFor('/chat', probe, 3000);
        if (answer === null) {
          expect(client.closed, `no answer and no close after ${JSON.stringify(batch).slice(0, 200)}`).to.equal(true);
          stats.closed++;
        } else {
          expect(answer.error?.code).to.be.oneOf(['NOT_IN_ROOM', 'VALIDATION_FAILED']);
          stats.answered++;
        }
        // Any ack the fuzzed frame itself earned carries an expected code.
        const own = await client.ackFor('/chat', 9_000_000, 0);
        if (own && own.ok === false) expect(EXPECTED_CODES.has(own.error.code), JSON.stringify(own)).to.equal(true);
        client.frames.length = 0;
      }),
      RUN(1500, 20_000),
    );
    (raw as RawClient | null)?.close();
    expect(stats.runs).to.be.above(50);
    expect(stats.closed, JSON.stringify(stats)).to.be.above(0);
    expect(stats.answered, JSON.stringify(stats)).to.be.above(0);
    expect(control.longestSilenceMs(), 'control heartbeat during the fuzz').to.be.below(2500);
  });
});
