import { randomUUID } from 'node:crypto';
import { expect } from 'chai';
import type { Socket } from 'socket.io-client';
import WebSocket from 'ws';
import { guest } from '../helpers/http-client.js';
import { ask, connect, eventually, next } from '../helpers/socket-client.js';
import { Control, sleep, startSecure, watchProcessFaults, type SecureServer } from './harness.js';
import { RawClient } from './raw-client.js';
import { rawExchange, rawWebSocket, upgradeRequest, wsFrame } from './raw-http.js';

/**
 * S10–S14, S24 (idle connections), S30, S34: the transport. Oversized frames, malformed and
 * truncated packets, the binary placeholder trick, reserved event names, unknown-event floods,
 * events without acks, crafted upgrades: each ends in a disconnect of the sender or a clear
 * ack, the process stays up, and the control pair never notices.
 */
describe('security: transport (S10–S14, S24, S30, S34)', function () {
  watchProcessFaults();
  let server: SecureServer;
  let control: Control;
  let token: string;
  let idle: RawClient;
  let idleOpenedAt: number;
  const raws: RawClient[] = [];
  const sockets: Socket[] = [];
  /** Why the server dropped each /chat socket, as Socket.IO reports it (for the logs of a failure). */
  const reasons: string[] = [];

  before(async () => {
    // The control pair sends a message after every test; message floods are S23's business.
    server = await startSecure({ RATE_LIMIT_HANDSHAKES: '10000', RATE_LIMIT_MESSAGES: '100000' });
    // Opened first and left alone: S24 checks at the end that it was closed for never authenticating.
    idle = await RawClient.open(server.port);
    idleOpenedAt = Date.now();
    control = await Control.open(server.url);
    token = (await guest(server.url, 'raw')).token;
    server.app.io.of('/chat').on('connection', (s) => s.on('disconnect', (r) => reasons.push(r)));
  });
  afterEach(async function () {
    for (const r of raws.splice(0)) r.close();
    for (const s of sockets.splice(0)) s.close();
    await control.check(this.currentTest?.title ?? '');
  });
  after(async () => {
    idle?.close();
    control?.close();
    await server?.stop();
  });

  /** A raw client connected to /chat with a valid token. */
  async function rawChat(): Promise<RawClient> {
    const raw = await RawClient.open(server.port);
    raws.push(raw);
    const answer = await raw.connect('/chat', { token });
    expect(answer.ok, JSON.stringify(answer)).to.equal(true);
    return raw;
  }

  it('S10 a frame over MAX_PAYLOAD_BYTES closes only its sender (1009), over WebSocket and polling', async () => {
    const raw = await rawChat();
    const heard: unknown[] = [];
    control.b.on('chat:message', (m) => heard.push(m));
    raw.sendRaw(`42/chat,1${JSON.stringify(['chat:send', { roomId: control.roomId, clientMsgId: 'big', text: 'x'.repeat(100 * 1024) }])}`);
    expect(await raw.waitClosed(), 'closed').to.equal(true);
    expect(raw.closeCode).to.equal(1009);
    // Long-polling: the POST is refused before its body is read.
    const open = await fetch(`${server.url}/ws/?EIO=4&transport=polling`);
    const { sid } = JSON.parse((await open.text()).slice(1)) as { sid: string };
    const post = await fetch(`${server.url}/ws/?EIO=4&transport=polling&sid=${sid}`, { method: 'POST', body: '4' + 'x'.repeat(100 * 1024) });
    expect(post.status).to.equal(413);
    await sleep(50);
    expect(heard, 'the oversized message reached nobody').to.deep.equal([]);
  });

  const CLOSES: Array<[string, (raw: RawClient) => void]> = [
    ['truncated JSON', (r) => r.sendRaw('42/chat,["chat:send",{"roomId":')],
    ['an object instead of an array', (r) => r.sendRaw('42/chat,{"event":"chat:send"}')],
    ['an empty event array', (r) => r.sendRaw('42/chat,[]')],
    ['a non-numeric ack id', (r) => r.sendRaw('42/chat,1a["chat:typing",{}]')],
    ['an unknown Socket.IO packet type', (r) => r.sendRaw('49/chat,["x"]')],
    ['a packet that is not Socket.IO at all', (r) => r.sendRaw('4[1,2,3]')],
    ['an unknown Engine.IO packet type', (r) => r.sendRaw('9hello')],
    ['an empty frame', (r) => r.sendRaw('')],
    ['a binary frame outside a binary packet', (r) => r.sendRaw(Buffer.from([0xde, 0xad, 0xbe, 0xef]))],
    ['a text frame that is not UTF-8', (r) => r.sendRaw(Buffer.from([0x34, 0x32, 0xff, 0xfe, 0xc3]), false)],
    ['placeholder num "splice" (CVE-2022-2421)', (r) => (r.sendRaw('451-/chat,["chat:send",{"_placeholder":true,"num":"splice"}]'), r.sendRaw(Buffer.from('x')))],
    ['placeholder num out of range', (r) => (r.sendRaw('451-/chat,["chat:send",{"_placeholder":true,"num":7}]'), r.sendRaw(Buffer.from('x')))],
    ['a text frame where an attachment is due', (r) => (r.sendRaw('451-/chat,["chat:send",{"_placeholder":true,"num":0}]'), r.sendRaw('42/chat,["x"]'))],
    ['too many attachments', (r) => r.sendRaw('4599-/chat,["chat:send",{"_placeholder":true,"num":0}]')],
    ['a negative attachment count', (r) => r.sendRaw('45-1-/chat,["chat:send"]')],
    ['a second CONNECT to a connected namespace', (r) => r.sendRaw(`40/chat,${JSON.stringify({ token })}`)],
    ['an event for a namespace never joined', (r) => r.sendRaw('42/rtc,["call:join",{"roomId":"x"}]')],
    ['a CONNECT_ERROR from the client', (r) => r.sendRaw('44/chat,{"message":"x"}')],
  ];
  for (const [what, attack] of CLOSES) {
    it(`S11 malformed packet: ${what} closes that connection only`, async () => {
      const raw = await rawChat();
      attack(raw);
      expect(await raw.waitClosed(), `${what}: closed`).to.equal(true);
    });
  }

  it('S11 packets that parse but carry junk get an ack with VALIDATION_FAILED and keep the connection', async () => {
    const raw = await rawChat();
    const cases: Array<[string, (id: number) => string | [string, Buffer]]> = [
      ['a numeric event name', (id) => `42/chat,${id}[42,{}]`],
      ['limit 1e999 (Infinity)', (id) => `42/chat,${id}["chat:history",{"roomId":"r","limit":1e999}]`],
      ['a placeholder object in a plain event', (id) => `42/chat,${id}["chat:send",{"roomId":{"_placeholder":true,"num":0},"clientMsgId":"c","text":"t"}]`],
      ['a real attachment where a string is due', (id) => [`451-/chat,${id}["chat:send",{"roomId":{"_placeholder":true,"num":0},"clientMsgId":"c","text":"t"}]`, Buffer.from('room')]],
      ['a deeply nested payload', (id) => `42/chat,${id}["chat:send",${'['.repeat(20_000)}${']'.repeat(20_000)}]`],
      ['an unknown event named "error"', (id) => `42/chat,${id}["error",{"message":"x"}]`],
    ];
    for (const [what, build] of cases) {
      const id = raw.ackId();
      const frame = build(id);
      if (typeof frame === 'string') raw.sendRaw(frame);
      else {
        raw.sendRaw(frame[0]);
        raw.sendRaw(frame[1]);
      }
      const answer = await raw.ackFor('/chat', id);
      expect(answer?.error?.code, `${what}: ${JSON.stringify(answer)}`).to.equal('VALIDATION_FAILED');
    }
    // An ACK for an id the server never sent is ignored.
    raw.sendRaw('43/chat,999[{"ok":true}]');
    // A CONNECT to a namespace that does not exist is answered, and the connection stays.
    raw.sendRaw('40/admin,{}');
    const refused = await raw.frame((f) => f.startsWith('44/admin,'));
    expect(refused, 'unknown namespace answered').to.be.a('string');
    expect((await raw.ask('/chat', 'chat:typing', { roomId: 'x', typing: false }))?.error?.code).to.equal('NOT_IN_ROOM');
    expect(raw.closed).to.equal(false);
  });

  for (const name of ['connect', 'connect_error', 'disconnect', 'disconnecting', 'newListener', 'removeListener']) {
    it(`S12 reserved event name "${name}" from the wire closes the connection; no handler runs`, async () => {
      const raw = await rawChat();
      const id = raw.ackId();
      raw.sendRaw(`42/chat,${id}["${name}",{"roomId":"${control.roomId}"}]`);
      expect(await raw.waitClosed(), name).to.equal(true);
      expect(await raw.ackFor('/chat', id, 10), 'never answered').to.equal(null);
    });
  }

  it('S13 a flood of 1000 unknown event names is answered VALIDATION_FAILED or RATE_LIMITED; the connection stays', async () => {
    const socket = await connect(server.url, '/chat', token);
    sockets.push(socket);
    const answers = await Promise.all(Array.from({ length: 1000 }, () => ask(socket, `x:${randomUUID()}`, {}, 8000)));
    const codes = new Map<string, number>();
    for (const a of answers) codes.set(a.error?.code, (codes.get(a.error?.code) ?? 0) + 1);
    expect([...codes.keys()].sort(), JSON.stringify([...codes])).to.deep.equal(['RATE_LIMITED', 'VALIDATION_FAILED']);
    // Unknown events cost the event budget (RATE_LIMIT_EVENTS=50 per second) like any other.
    expect(codes.get('VALIDATION_FAILED')).to.be.at.most(150);
    // Without acks they are dropped quietly.
    for (let i = 0; i < 1000; i++) socket.emit(`y:${i}`, { i });
    await sleep(1100);
    expect(socket.connected).to.equal(true);
    await eventually(async () => (await ask(socket, 'chat:typing', { roomId: control.roomId, typing: false })).error?.code === 'NOT_IN_ROOM', 3000);
  });

  it('S14 events without an ack, or with a non-function last argument, are processed and never throw', async () => {
    const socket = await connect(server.url, '/chat', token);
    sockets.push(socket);
    expect((await ask(socket, 'room:join', { roomId: control.roomId })).ok).to.equal(true);
    const ids = [randomUUID(), randomUUID(), randomUUID()];
    const arrived = Promise.all(ids.map((id) => next(control.b, 'chat:message', (m: any) => m.clientMsgId === id)));
    socket.emit('chat:send', { roomId: control.roomId, clientMsgId: ids[0], text: 'no ack' });
    socket.emit('chat:send', { roomId: control.roomId, clientMsgId: ids[1], text: 'number last' }, 42);
    const raw = await rawChat();
    expect((await raw.ask('/chat', 'room:join', { roomId: control.roomId })).ok).to.equal(true);
    raw.sendRaw(`42/chat,${JSON.stringify(['chat:send', { roomId: control.roomId, clientMsgId: ids[2], text: 'extra args' }, 42, 'x', null])}`);
    raw.sendRaw('42/chat,["chat:send","garbage"]');
    raw.sendRaw('42/chat,["chat:typing"]');
    await arrived;
    expect(socket.connected && !raw.closed).to.equal(true);
  });

  it('S24 a connection that never completes a namespace handshake is closed by the server (connectTimeout)', async () => {
    const deadline = idleOpenedAt + 12_000;
    expect(await idle.waitClosed(Math.max(0, deadline - Date.now())), 'closed within connectTimeout (10 s)').to.equal(true);
    expect(Date.now() - idleOpenedAt).to.be.at.least(9000);
  });

  it('S30 crafted upgrades (header flood, HTTP/2 preface, bad versions, bad RSV bits) are refused; the process lives', async () => {
    const flood = Array.from({ length: 2100 }, (_, i) => `x-${i}: ${i}`);
    const headerFlood = await rawExchange(server.port, upgradeRequest(server.port, flood));
    expect(headerFlood.status === null ? 'closed' : headerFlood.status, 'header flood').to.be.oneOf([400, 431, 'closed']);
    const huge = await rawExchange(server.port, upgradeRequest(server.port, [`x-big: ${'a'.repeat(20_000)}`]));
    expect(huge.status, 'one 20 KB header').to.equal(431);
    const h2 = await rawExchange(server.port, 'PRI * HTTP/2.0\r\n\r\nSM\r\n\r\n');
    expect(h2.status === null ? 'closed' : h2.status, 'HTTP/2 preface').to.be.oneOf([400, 505, 'closed']);
    const v99 = await rawExchange(server.port, upgradeRequest(server.port).replace('Sec-WebSocket-Version: 13', 'Sec-WebSocket-Version: 99'));
    expect(v99.status, 'WebSocket version 99').to.be.oneOf([400, 426]);
    // Engine.IO checks the protocol version after the WebSocket upgrade, then closes without an open packet.
    const eio3 = await rawExchange(server.port, upgradeRequest(server.port, [], '/ws/?EIO=3&transport=websocket'));
    expect(eio3.closed, 'Engine.IO v3 closed').to.equal(true);
    expect(eio3.text, 'Engine.IO v3 never opened').not.to.contain('0{"sid"');
    const flash = await rawExchange(server.port, upgradeRequest(server.port, [], '/ws/?EIO=4&transport=flashsocket'));
    expect(flash.status, 'unknown transport').to.equal(400);
    const badSid = await fetch(`${server.url}/ws/?EIO=4&transport=polling&sid=${'A'.repeat(20)}`);
    expect(badSid.status, 'unknown sid').to.equal(400);
    expect(await badSid.json()).to.deep.equal({ code: 1, message: 'Session ID unknown' });

    // A frame with RSV1 set on a connection that negotiated no extension: closed.
    const ws = await rawWebSocket(server.port);
    const ended = new Promise<boolean>((resolve) => {
      const timer = setTimeout(() => resolve(false), 2000);
      ws.on('close', () => (clearTimeout(timer), resolve(true)));
    });
    ws.on('error', () => undefined);
    ws.write(wsFrame(Buffer.from('40/chat,{}'), 0xc1));
    expect(await ended, 'RSV1 frame closes the connection').to.equal(true);
  });

  it('S34 no compression on the socket: perMessageDeflate and httpCompression are off, and a deflate offer is declined', async () => {
    const opts = (server.app.io.engine as unknown as { opts: { perMessageDeflate: unknown; httpCompression: unknown } }).opts;
    expect(opts.perMessageDeflate).to.equal(false);
    expect(opts.httpCompression).to.equal(false);
    const ws = new WebSocket(`ws://127.0.0.1:${server.port}/ws/?EIO=4&transport=websocket`, { perMessageDeflate: true });
    await new Promise<void>((resolve, reject) => {
      ws.once('open', () => resolve());
      ws.once('error', reject);
    });
    expect(ws.extensions, 'no permessage-deflate negotiated').to.equal('');
    ws.close();
  });

  it('after the barrage: the server dropped only attackers, each for a transport-level reason', () => {
    // Socket.IO reports a decoder error as "forced close" or "parse error", an oversized frame
    // as "transport error"; the control pair is never among them.
    expect(reasons.length).to.be.above(20);
    const known = ['transport error', 'forced close', 'parse error', 'transport close', 'client namespace disconnect'];
    for (const reason of reasons) expect(known, reason).to.include(reason);
    expect(control.a.connected && control.b.connected).to.equal(true);
  });
});
