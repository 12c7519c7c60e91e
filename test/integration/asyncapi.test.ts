import { Parser } from '@asyncapi/parser';
import { expect } from 'chai';
import { io, type Socket } from 'socket.io-client';
import { createRoom, guest, request } from '../helpers/http-client.js';
import { componentChecker } from '../helpers/schema-check.js';
import { ask, eventually } from '../helpers/socket-client.js';
import { useServer } from '../helpers/test-server.js';

type Ref = { $ref: string };
interface Doc {
  asyncapi: string;
  channels: Record<string, { address: string; messages: Record<string, Ref> }>;
  operations: Record<string, { action: 'send' | 'receive'; channel: Ref; messages: Ref[]; reply?: { messages: Ref[] } }>;
  components: { messages: Record<string, { name: string; payload: Ref }>; schemas: unknown };
}

/** Events this suite does not provoke: each needs a clock or a failure of its own, and has its own test elsewhere. */
const NOT_PROVOKED = ['chat send auth:expired', 'rtc send auth:expired', 'chat send chat:resync'];

/**
 * GET /api/asyncapi.json: valid AsyncAPI 3 for the AsyncAPI project's own parser, and true
 * of the server: real acks and real server events, over both namespaces, match the schemas
 * the document gives them.
 */
describe('AsyncAPI document (GET /api/asyncapi.json)', () => {
  const { server } = useServer();
  let doc: Doc;
  let check: ReturnType<typeof componentChecker>;
  const opened: Socket[] = [];
  afterEach(() => opened.splice(0).forEach((s) => s.close()));

  before(async () => {
    const res = await request(server.url, 'GET', '/api/asyncapi.json');
    expect(res.status).to.equal(200);
    doc = res.body;
    check = componentChecker(doc, 'draft-07');
  });

  /** The payload schema name of a message, followed through the channel to the component. */
  const payloadOf = (ref: Ref) => {
    const [, , ns, , id] = ref.$ref.split('/');
    const component = doc.channels[ns!]!.messages[id!]!.$ref.split('/').pop()!;
    return doc.components.messages[component]!.payload.$ref.split('/').pop()!;
  };
  const operationOf = (ns: string, event: string, action: 'send' | 'receive') => {
    const found = Object.values(doc.operations).find(
      (op) => op.action === action && op.channel.$ref === `#/channels/${ns}` && messageName(op.messages[0]!) === event,
    );
    if (!found) throw new Error(`no ${action} operation for ${ns} ${event}`);
    return found;
  };
  const messageName = (ref: Ref) => {
    const [, , ns, , id] = ref.$ref.split('/');
    return doc.components.messages[doc.channels[ns!]!.messages[id!]!.$ref.split('/').pop()!]!.name;
  };

  it('is valid AsyncAPI 3 for @asyncapi/parser, and names the handshake and both namespaces', async () => {
    expect(doc.asyncapi).to.match(/^3\./);
    const { document, diagnostics } = await new Parser().parse(JSON.stringify(doc));
    // Severity 0 is an error, 1 a warning; 2 and 3 are hints (a newer 3.x exists).
    expect(diagnostics.filter((d) => d.severity < 2).map((d) => `${d.code} ${d.message} at ${d.path.join('.')}`)).to.deep.equal([]);
    expect(document).to.not.equal(undefined);
    expect(Object.values(doc.channels).map((c) => c.address)).to.deep.equal(['/chat', '/rtc']);
    expect(JSON.stringify(doc)).to.contain('auth: {token}');
  });

  it('real acks and server events of /chat and /rtc match their documented schemas', async () => {
    const ann = await guest(server.url, 'ann');
    const bob = await guest(server.url, 'bob');
    const room = await createRoom(server.url, ann.token);
    const seen = new Set<string>();
    const open = async (ns: 'chat' | 'rtc', token: string) => {
      const socket = io(`${server.url}/${ns}`, { path: '/ws', transports: ['websocket'], auth: { token }, reconnection: false, forceNew: true, autoConnect: false });
      opened.push(socket);
      // The recovery offset may trail the payload: the payload is always the first argument.
      socket.onAny((event: string, payload: unknown) => {
        check(payloadOf(operationOf(ns, event, 'send').messages[0]!), payload);
        seen.add(`${ns} send ${event}`);
      });
      socket.connect();
      await new Promise<void>((resolve, reject) => {
        socket.once('connect', () => resolve());
        socket.once('connect_error', reject);
      });
      return socket;
    };
    const call = async (ns: 'chat' | 'rtc', socket: Socket, event: string, payload: unknown, ok: boolean) => {
      const answer = await ask(socket, event, payload);
      expect(answer.ok, `${event} ${JSON.stringify(answer)}`).to.equal(ok);
      check(payloadOf(operationOf(ns, event, 'receive').reply!.messages[0]!), answer);
      seen.add(`${ns} receive ${event}`);
      return answer;
    };

    const a = await open('chat', ann.token);
    const b = await open('chat', bob.token);
    await call('chat', a, 'room:join', { roomId: room.id }, true);
    await call('chat', b, 'room:join', { roomId: room.id, lastSeq: 0 }, true);
    await call('chat', a, 'room:join', { roomId: 'nope' }, false);
    await call('chat', a, 'chat:send', { roomId: room.id, clientMsgId: 'm1', text: 'hi' }, true);
    await call('chat', a, 'chat:send', { roomId: room.id, text: 'no id' }, false);
    await call('chat', b, 'chat:history', { roomId: room.id, after: 0 }, true);
    await call('chat', b, 'chat:typing', { roomId: room.id, typing: true }, true);
    await call('chat', b, 'chat:ack', { roomId: room.id, seq: 1 }, true);
    await call('chat', b, 'chat:read', { roomId: room.id, seq: 1 }, true);
    await call('chat', b, 'chat:read', { roomId: room.id, seq: 2 }, false);
    await call('chat', a, 'chat:send', { roomId: room.id, clientMsgId: 'm2', text: 'a reply', replyTo: 1 }, true);
    await call('chat', a, 'chat:edit', { roomId: room.id, seq: 1, text: 'hi there' }, true);
    await call('chat', b, 'chat:edit', { roomId: room.id, seq: 1, text: 'not mine' }, false);
    await call('chat', b, 'chat:react', { roomId: room.id, seq: 1, emoji: '👍', on: true }, true);
    await call('chat', b, 'chat:react', { roomId: room.id, seq: 1, emoji: 'no', on: true }, false);
    await call('chat', a, 'chat:delete', { roomId: room.id, seq: 2 }, true);
    await call('chat', a, 'chat:delete', { roomId: room.id, seq: 99 }, false);
    await call('chat', b, 'room:join', { roomId: room.id, lastSeq: 2, lastRev: 0 }, true);
    await call('chat', b, 'room:leave', { roomId: room.id }, true);

    const ra = await open('rtc', ann.token);
    const rb = await open('rtc', bob.token);
    await call('rtc', ra, 'call:join', { roomId: room.id }, true);
    const { peerId: bobPeer } = await call('rtc', rb, 'call:join', { roomId: room.id }, true);
    await call('rtc', ra, 'rtc:signal', { to: bobPeer, kind: 'offer', data: { type: 'offer', sdp: 'v=0' } }, true);
    await call('rtc', ra, 'rtc:signal', { to: 'nobody', kind: 'offer', data: { type: 'offer', sdp: 'v=0' } }, false);
    await call('rtc', ra, 'rtc:media', { audio: false, video: true, screen: false }, true);
    await call('rtc', rb, 'call:leave', { roomId: room.id }, true);

    // Moderation: Ann owns the room.
    const { peerId: bobAgain } = await call('rtc', rb, 'call:join', { roomId: room.id }, true);
    await call('rtc', ra, 'call:mute', { roomId: room.id, kind: 'audio', peerId: bobAgain }, true);
    await call('rtc', rb, 'call:kick', { roomId: room.id, peerId: ra.id }, false);
    await call('rtc', ra, 'call:kick', { roomId: room.id, peerId: bobAgain }, true);
    expect((await request(server.url, 'PATCH', `/api/rooms/${room.id}`, { token: ann.token, body: { lobby: true } })).status).to.equal(200);
    const knocked = new Promise<{ requestId: string }>((resolve) => ra.once('call:knock', resolve));
    const waiting = await call('rtc', rb, 'call:join', { roomId: room.id }, true);
    expect(waiting).to.include({ waiting: true });
    expect((await knocked).requestId).to.equal(waiting.requestId);
    await call('rtc', ra, 'call:admit', { roomId: room.id, requestId: waiting.requestId, admit: true }, true);
    await call('rtc', ra, 'call:admit', { roomId: room.id, requestId: waiting.requestId, admit: true }, false);
    const carol = await guest(server.url, 'carol');
    const rc = await open('rtc', carol.token);
    const carolWaits = await call('rtc', rc, 'call:join', { roomId: room.id }, true);
    await call('rtc', ra, 'call:admit', { roomId: room.id, requestId: carolWaits.requestId, admit: false }, true);
    await call('rtc', rb, 'call:join', { roomId: room.id }, true);
    await call('rtc', ra, 'call:end', { roomId: room.id }, true);
    // Removal and deletion reach /chat sockets.
    await call('chat', b, 'room:join', { roomId: room.id }, true);
    expect((await request(server.url, 'DELETE', `/api/rooms/${room.id}/members/${bob.user.id}`, { token: ann.token })).status).to.equal(204);
    expect((await request(server.url, 'DELETE', `/api/rooms/${room.id}`, { token: ann.token })).status).to.equal(204);

    // Every documented event, both directions, was exercised and held to its schema.
    const documented = Object.values(doc.operations).map((op) => `${op.channel.$ref.split('/').pop()} ${op.action} ${messageName(op.messages[0]!)}`);
    const expected = documented.filter((e) => !NOT_PROVOKED.includes(e)).sort();
    await eventually(() => expected.every((e) => seen.has(e)), 5000, `all of ${expected.filter((e) => !seen.has(e)).join(', ')}`);
    expect([...seen].sort()).to.deep.equal(expected);
  });
});
