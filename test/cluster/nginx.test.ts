import { expect } from 'chai';
import { Agent } from 'node:http';
import { io, type Socket } from 'socket.io-client';
import { describeWithRedis, startCluster, type TestCluster } from '../helpers/cluster.js';
import { createRoom, guest } from '../helpers/http-client.js';
import { hasLoopbackAliases, httpFrom, nginxBinary, TestNginx } from '../helpers/nginx.js';
import { ask, collect, connect, eventually, next } from '../helpers/socket-client.js';

/**
 * deploy/nginx.conf in front of two cluster nodes: a real nginx (rendered from the shipped
 * file, see test/helpers/nginx.ts), a real Redis, real clients over WebSocket and over
 * long-polling from several loopback source addresses.
 */

const NGINX = nginxBinary();
/** REST budget per client address per minute on the nodes (small, to reach it quickly). */
const HTTP_LIMIT = 40;

function describeWithNginx(title: string, body: () => void): void {
  if (NGINX) describeWithRedis(title, body);
  else
    describe(title, () => {
      it('is skipped: nginx is not installed (apt-get install nginx; it runs as a child process, no service needed)');
    });
}

describeWithNginx('nginx in front of two nodes (deploy/nginx.conf)', () => {
  let cluster: TestCluster;
  let nginx: TestNginx;
  const sockets: Socket[] = [];
  const nodeById = (nodeId: string) => cluster.nodes.find((n) => n.app.config.nodeId === nodeId)!;

  /** A /chat client through nginx; `hello` is awaited from before the connection. */
  const openViaProxy = async (token: string, options: { transports: string[]; localAddress?: string }) => {
    const socket = io(`${nginx.url}/chat`, {
      path: '/ws',
      transports: options.transports as ('polling' | 'websocket')[],
      auth: { token },
      reconnection: false,
      forceNew: true,
      // Source address of the client as nginx sees it: polling goes through an http.Agent,
      // WebSocket takes localAddress. The typings only know the browser's `agent: string`.
      ...(options.localAddress
        ? { agent: new Agent({ localAddress: options.localAddress }) as never, localAddress: options.localAddress }
        : {}),
    } as Parameters<typeof io>[1]);
    sockets.push(socket);
    const hello = next<{ nodeId: string }>(socket, 'hello');
    hello.catch(() => undefined); // awaited below; no unhandled rejection if connecting fails
    await new Promise<void>((resolve, reject) => {
      const timer = setTimeout(() => reject(new Error('connect timeout through nginx')), 5000);
      socket.once('connect', () => (clearTimeout(timer), resolve()));
      socket.once('connect_error', (err) => (clearTimeout(timer), reject(err)));
    });
    return { socket, nodeId: (await hello).nodeId };
  };

  let aliases = false;
  /** Tests that play several clients need source addresses besides 127.0.0.1. */
  const needAliases = (ctx: Mocha.Context) => {
    if (aliases) return;
    console.log('      (skipped: this host cannot use loopback source addresses besides 127.0.0.1, e.g. macOS without lo0 aliases)');
    ctx.skip();
  };

  before(async () => {
    aliases = await hasLoopbackAliases();
    cluster = await startCluster(2, { TRUST_PROXY: '1', RATE_LIMIT_HTTP: String(HTTP_LIMIT) });
    nginx = new TestNginx(NGINX!, cluster.nodes.map((n) => `127.0.0.1:${n.port}`));
    await nginx.start();
  });
  afterEach(() => sockets.splice(0).forEach((s) => s.close()));
  after(async () => {
    await nginx?.stop();
    await cluster?.stop();
  });

  it('proxies REST, health, readiness and metrics; errors keep the API shape', async () => {
    const health = await httpFrom('127.0.0.1', nginx.url, 'GET', '/healthz');
    expect(health.status).to.equal(200);
    expect(['node-1', 'node-2']).to.include(health.body.nodeId);
    const ready = await httpFrom('127.0.0.1', nginx.url, 'GET', '/readyz');
    expect(ready.status).to.equal(200);
    expect(ready.body.status).to.equal('ok');
    const metrics = await httpFrom('127.0.0.1', nginx.url, 'GET', '/metrics');
    expect(metrics.status).to.equal(200);
    expect(metrics.body).to.be.a('string').and.match(/^# (HELP|TYPE) /m);

    const ann = await guest(nginx.url, 'ann');
    const room = await createRoom(nginx.url, ann.token, { name: 'behind nginx' });
    const sent = await httpFrom('127.0.0.1', nginx.url, 'POST', '/api/messages', {
      token: ann.token,
      body: { roomId: room.id, text: 'hello through the proxy', clientMsgId: 'n1' },
    });
    expect(sent.status).to.equal(201);
    expect(sent.body).to.include({ roomId: room.id, seq: 1, text: 'hello through the proxy', senderId: ann.user.id });
    const history = await httpFrom('127.0.0.1', nginx.url, 'GET', `/api/messages?roomId=${room.id}`, { token: ann.token });
    expect(history.body.messages.map((m: { seq: number }) => m.seq)).to.deep.equal([1]);

    // client_max_body_size = MAX_PAYLOAD_BYTES; nginx answers in the contract's shape.
    const tooBig = await httpFrom('127.0.0.1', nginx.url, 'POST', '/api/messages', {
      token: ann.token,
      body: { roomId: room.id, text: 'x'.repeat(70_000), clientMsgId: 'big' },
    });
    expect(tooBig.status).to.equal(413);
    expect(tooBig.body.error.code).to.equal('PAYLOAD_TOO_LARGE');
    const unknown = await httpFrom('127.0.0.1', nginx.url, 'GET', '/not-ours');
    expect(unknown.status).to.equal(404);
    expect(unknown.body.error.code).to.equal('NOT_FOUND');
  });

  it('a WebSocket client through nginx gets messages sent on node 2 and on node 1', async () => {
    const ann = await guest(nginx.url, 'ann');
    const bob = await guest(cluster.nodes[1]!.url, 'bob');
    const cat = await guest(cluster.nodes[0]!.url, 'cat');
    const room = await createRoom(nginx.url, ann.token, { name: 'ws via nginx' });

    const { socket: a } = await openViaProxy(ann.token, { transports: ['websocket'] });
    expect(a.io.engine.transport.name).to.equal('websocket');
    expect((await ask(a, 'room:join', { roomId: room.id })).ok).to.equal(true);
    const b = await connect(cluster.nodes[1]!.url, '/chat', bob.token);
    const c = await connect(cluster.nodes[0]!.url, '/chat', cat.token);
    sockets.push(b, c);
    await ask(b, 'room:join', { roomId: room.id });
    await ask(c, 'room:join', { roomId: room.id });

    // Whichever node nginx picked for ann, one of these crosses nodes.
    const fromBob = next(a, 'chat:message', (m) => m.clientMsgId === 'b1');
    expect((await ask(b, 'chat:send', { roomId: room.id, clientMsgId: 'b1', text: 'from node 2' })).ok).to.equal(true);
    expect(await fromBob).to.include({ text: 'from node 2', senderId: bob.user.id, seq: 1 });
    const fromCat = next(a, 'chat:message', (m) => m.clientMsgId === 'c1');
    await ask(c, 'chat:send', { roomId: room.id, clientMsgId: 'c1', text: 'from node 1' });
    expect(await fromCat).to.include({ text: 'from node 1', seq: 2 });

    // And back: ann sends through the proxy, both direct clients receive.
    const atB = next(b, 'chat:message', (m) => m.clientMsgId === 'a1');
    const atC = next(c, 'chat:message', (m) => m.clientMsgId === 'a1');
    const ack = await ask(a, 'chat:send', { roomId: room.id, clientMsgId: 'a1', text: 'through nginx' });
    expect(ack.message.seq).to.equal(3);
    expect((await atB).seq).to.equal(3);
    expect((await atC).seq).to.equal(3);
  });

  it('long-polling clients stick to one node each (no "Session ID unknown")', async function () {
    needAliases(this);
    // Find a client address for each node: consistent hashing of $remote_addr decides.
    const addressOf = new Map<string, string>();
    for (let i = 10; i < 80 && addressOf.size < 2; i++) {
      const addr = `127.0.0.${i}`;
      const res = await httpFrom(addr, nginx.url, 'GET', '/healthz');
      if (!addressOf.has(res.body.nodeId)) addressOf.set(res.body.nodeId, addr);
    }
    expect([...addressOf.keys()].sort(), 'client addresses spread over both nodes').to.deep.equal(['node-1', 'node-2']);

    const owner = await guest(cluster.nodes[0]!.url, 'owner');
    const room = await createRoom(cluster.nodes[0]!.url, owner.token, { name: 'polling via nginx' });
    const clients: { socket: Socket; addr: string; nodeId: string; errors: unknown[]; got: any[] }[] = [];
    for (const [expectedNode, addr] of addressOf) {
      const user = await guest(cluster.nodes[0]!.url, `poller-${expectedNode}`);
      const { socket, nodeId } = await openViaProxy(user.token, { transports: ['polling'], localAddress: addr });
      expect(nodeId, `the socket of ${addr} is served by the node its /healthz came from`).to.equal(expectedNode);
      const errors: unknown[] = [];
      socket.on('connect_error', (e) => errors.push(e));
      socket.on('disconnect', (reason) => errors.push(reason));
      expect((await ask(socket, 'room:join', { roomId: room.id })).ok).to.equal(true);
      clients.push({ socket, addr, nodeId, errors, got: collect(socket, 'chat:message') });
    }

    // Several rounds over polling on both sides: every message crosses nodes.
    const rounds = 5;
    for (let i = 0; i < rounds; i++) {
      for (const [k, client] of clients.entries()) {
        const res = await ask(client.socket, 'chat:send', { roomId: room.id, clientMsgId: `p${k}-${i}`, text: `poll ${k}/${i}` });
        expect(res.ok).to.equal(true);
      }
    }
    // Each client gets the other's messages (a sender's own socket has its ack instead).
    const expected = rounds * (clients.length - 1);
    await eventually(() => clients.every((c) => c.got.length === expected), 5000, 'polling delivery');
    for (const [k, client] of clients.entries()) {
      const seqs = client.got.map((m) => m.seq);
      expect(seqs).to.deep.equal([...seqs].sort((x, y) => x - y));
      expect(client.got.every((m) => !m.clientMsgId.startsWith(`p${k}-`))).to.equal(true);
      expect(client.socket.io.engine.transport.name).to.equal('polling');
      expect(client.socket.connected).to.equal(true);
      expect(client.errors).to.deep.equal([]);
    }

    // nginx's own record: every polling request of a client went to one node, none got 400.
    const ports = new Map(cluster.nodes.map((n) => [n.app.config.nodeId, `127.0.0.1:${n.port}`]));
    await eventually(() => nginx.accessLog().filter((l) => l.path.startsWith('/ws/')).length > 0, 2000, 'access log lines');
    for (const client of clients) {
      const lines = nginx.accessLog().filter((l) => l.client === client.addr && l.path.startsWith('/ws/'));
      expect(lines.length, `polling requests from ${client.addr}`).to.be.greaterThan(rounds);
      expect(lines.filter((l) => l.status !== 200), `non-200 answers to ${client.addr}`).to.deep.equal([]);
      expect([...new Set(lines.map((l) => l.upstream))]).to.deep.equal([ports.get(client.nodeId)]);
    }
  });

  it('the nodes key per-IP limits on the address nginx forwards (TRUST_PROXY=1), not on nginx', async function () {
    needAliases(this);
    // One client spends the REST budget (401s count: the limiter runs before auth).
    for (let i = 0; i < HTTP_LIMIT; i++) {
      expect((await httpFrom('127.0.0.3', nginx.url, 'GET', '/api/ice-servers')).status).to.equal(401);
    }
    const limited = await httpFrom('127.0.0.3', nginx.url, 'GET', '/api/ice-servers');
    expect(limited.status).to.equal(429);
    expect(limited.body.error.code).to.equal('RATE_LIMITED');
    expect(Number(limited.headers['retry-after'])).to.be.greaterThan(0);

    // Another client, through the same nginx, is untouched: the key is not nginx's address.
    expect((await httpFrom('127.0.0.4', nginx.url, 'GET', '/api/ice-servers')).status).to.equal(401);
    // A client cannot pick its key by sending X-Forwarded-For: the server trusts only the
    // entry nginx appends ($proxy_add_x_forwarded_for + one trusted hop).
    const spoofed = await httpFrom('127.0.0.5', nginx.url, 'GET', '/api/ice-servers', { headers: { 'x-forwarded-for': '127.0.0.4' } });
    expect(spoofed.status).to.equal(401);
    const hidingAsOther = await httpFrom('127.0.0.3', nginx.url, 'GET', '/api/ice-servers', { headers: { 'x-forwarded-for': '127.0.0.6' } });
    expect(hidingAsOther.status, 'a limited client cannot escape with a forged header').to.equal(429);
  });

  it('passive health: a stopped node is skipped; with none left nginx answers 503 UNAVAILABLE', async () => {
    const first = (await httpFrom('127.0.0.1', nginx.url, 'GET', '/healthz')).body.nodeId as string;
    await nodeById(first).stop();
    const failover = await httpFrom('127.0.0.1', nginx.url, 'GET', '/healthz');
    expect(failover.status).to.equal(200);
    expect(failover.body.nodeId).to.not.equal(first);
    // A POST that could not even connect is passed on too (nothing was sent to the dead node).
    expect((await httpFrom('127.0.0.1', nginx.url, 'POST', '/api/auth/guest', { body: { name: 'late' } })).status).to.equal(201);
    const { nodeId } = await openViaProxy((await guest(nodeById(failover.body.nodeId).url, 'late')).token, { transports: ['websocket'] });
    expect(nodeId).to.equal(failover.body.nodeId);
    sockets.splice(0).forEach((s) => s.close());

    await nodeById(failover.body.nodeId).stop();
    const none = await httpFrom('127.0.0.1', nginx.url, 'GET', '/healthz');
    expect(none.status).to.equal(503);
    expect(none.body.error.code).to.equal('UNAVAILABLE');
    expect(none.headers['retry-after']).to.equal('5');
  });
});
