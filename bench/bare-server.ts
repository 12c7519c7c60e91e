/**
 * The baseline: bare Socket.IO with the same version, transport settings and adapter as our
 * server (src/transport/socket/create-io.ts, src/infra/select-infra.ts), and handlers that
 * only relay or broadcast and ack. No auth check, no validation, no storage, no rate limits.
 * It speaks the same events and the same REST set-up calls the benchmark uses, and emits
 * chat messages of the same shape, so both servers put the same bytes on the wire.
 *
 *   PORT, HOST                 where to listen
 *   REDIS_URL                  cluster mode: the Redis streams adapter with our options, and a
 *                              shared counter for seq (one INCR per message, as any cross-node
 *                              counter needs)
 *   REDIS_CLUSTER_URLS         the same on a Redis Cluster (host:port,…), as ours takes it
 *   MAX_PAYLOAD_BYTES, RECOVERY_WINDOW_MS, PING_INTERVAL_MS, PING_TIMEOUT_MS  as ours
 */
import { randomUUID } from 'node:crypto';
import { createServer, type IncomingMessage, type ServerResponse } from 'node:http';
import { createClient, createCluster } from 'redis';
import { Server, type ServerOptions, type Socket } from 'socket.io';
import { createAdapter as createStreamsAdapter } from '@socket.io/redis-streams-adapter';

const env = process.env;
const port = Number(env.PORT ?? 3002);
const host = env.HOST ?? '127.0.0.1';
const recoveryWindowMs = Number(env.RECOVERY_WINDOW_MS ?? 120_000);
const nodeId = env.NODE_ID ?? `bare-${process.pid}`;

const newClient = (url: string) => createClient({ url });
type Redis = ReturnType<typeof newClient>;

async function connectRedis(): Promise<Redis | null> {
  const clusterNodes = env.REDIS_CLUSTER_URLS?.split(',').map((hostPort) => ({ url: `redis://${hostPort}` }));
  if (!env.REDIS_URL && !clusterNodes) return null;
  // A cluster client takes the same commands (INCR, and the adapter's XADD / XREAD), each routed by its key.
  const client = clusterNodes ? (createCluster({ rootNodes: clusterNodes }) as unknown as Redis) : newClient(env.REDIS_URL!);
  client.on('error', (err: Error) => console.error('redis', err.message));
  await client.connect();
  return client;
}

function adapterOption(redis: Redis | null): Partial<ServerOptions> {
  if (!redis) return {};
  // Same options as ours (select-infra.ts), under another stream name.
  return { adapter: createStreamsAdapter(redis, { streamName: 'bare:sio:stream', maxLen: 100_000, sessionKeyPrefix: 'bare:sio:session:', readCount: 1000 /* as ours: ADAPTER_READ_COUNT */ }) as ServerOptions['adapter'] };
}

/** The room's next seq: a local counter on one node, one INCR on the shared Redis in a cluster. */
function seqCounter(redis: Redis | null): (roomId: string) => number | Promise<number> {
  if (redis) return (roomId) => redis.incr(`bare:{${roomId}}:seq`);
  const seqs = new Map<string, number>();
  return (roomId) => {
    const seq = (seqs.get(roomId) ?? 0) + 1;
    seqs.set(roomId, seq);
    return seq;
  };
}

function rest(req: IncomingMessage, res: ServerResponse): void {
  const send = (status: number, body: unknown) => {
    res.writeHead(status, { 'content-type': 'application/json' });
    res.end(JSON.stringify(body));
  };
  let body = '';
  req.on('data', (c: Buffer) => (body += c.toString()));
  req.on('end', () => {
    if (req.method === 'GET' && req.url === '/healthz') return send(200, { status: 'ok', nodeId });
    if (req.method === 'POST' && req.url === '/api/auth/guest') {
      const name = (JSON.parse(body || '{}') as { name?: string }).name ?? 'guest';
      const id = `guest_${randomUUID()}`;
      // The "token" names the user; the baseline trusts it (it has no auth to measure).
      return send(201, { token: `${id}|${name}`, user: { id, name } });
    }
    if (req.method === 'POST' && req.url === '/api/rooms') return send(201, { id: randomUUID(), lastSeq: 0 });
    send(404, { error: { code: 'NOT_FOUND' } });
  });
}

async function main(): Promise<void> {
  const httpServer = createServer(rest);
  const redis = await connectRedis();
  const nextSeq = seqCounter(redis);
  const io = new Server(httpServer, {
    path: '/ws',
    serveClient: false,
    maxHttpBufferSize: Number(env.MAX_PAYLOAD_BYTES ?? 65536),
    pingInterval: Number(env.PING_INTERVAL_MS ?? 25_000),
    pingTimeout: Number(env.PING_TIMEOUT_MS ?? 20_000),
    connectTimeout: 10_000,
    perMessageDeflate: false,
    httpCompression: false,
    ...adapterOption(redis),
    ...(recoveryWindowMs > 0 ? { connectionStateRecovery: { maxDisconnectionDuration: recoveryWindowMs, skipMiddlewares: false } } : {}),
  });

  const identify = (socket: Socket, next: (err?: Error) => void) => {
    const token = String((socket.handshake.auth as { token?: unknown }).token ?? '');
    const [id, name] = token.split('|');
    socket.data.user = { id: id || socket.id, name: name || 'guest' };
    next();
  };
  const hello = (socket: Socket) =>
    socket.emit('hello', { userId: socket.data.user.id, name: socket.data.user.name, nodeId, recoveryWindowMs });

  const chat = io.of('/chat');
  chat.use(identify);
  chat.on('connection', (socket) => {
    socket.on('room:join', ({ roomId }: { roomId: string }, ack?: (a: unknown) => void) => {
      void socket.join(`room:${roomId}`);
      ack?.({ ok: true, room: { id: roomId, lastSeq: 0 }, participants: [], messages: [], complete: true });
    });
    const send = (input: { roomId: string; clientMsgId?: string; text: string }, seq: number, ack?: (a: unknown) => void) => {
      const message = {
        id: randomUUID(),
        roomId: input.roomId,
        seq,
        senderId: socket.data.user.id,
        senderName: socket.data.user.name,
        text: input.text,
        clientMsgId: input.clientMsgId ?? null,
        createdAt: new Date().toISOString(),
      };
      socket.to(`room:${input.roomId}`).emit('chat:message', message);
      ack?.({ ok: true, message });
    };
    socket.on('chat:send', (input: { roomId: string; clientMsgId?: string; text: string }, ack?: (a: unknown) => void) => {
      const seq = nextSeq(input.roomId);
      if (typeof seq === 'number') return send(input, seq, ack);
      seq.then(
        (n) => send(input, n, ack),
        (err: Error) => ack?.({ ok: false, error: { code: 'UNAVAILABLE', message: err.message } }),
      );
    });
    hello(socket);
  });

  const calls = new Map<string, Set<string>>();
  const rtc = io.of('/rtc');
  rtc.use(identify);
  rtc.on('connection', (socket) => {
    let callRoom: string | null = null;
    socket.on('call:join', ({ roomId }: { roomId: string }, ack?: (a: unknown) => void) => {
      let peers = calls.get(roomId);
      if (!peers) calls.set(roomId, (peers = new Set()));
      const others = [...peers].map((peerId) => ({ peerId }));
      peers.add(socket.id);
      callRoom = roomId;
      void socket.join(`call:${roomId}`);
      // The minimum a signaling server must do: tell the call who came and who went.
      socket.to(`call:${roomId}`).emit('call:peer-joined', { roomId, peerId: socket.id, userId: socket.data.user.id, name: socket.data.user.name });
      ack?.({ ok: true, peerId: socket.id, peers: others, iceServers: [] });
    });
    socket.on('rtc:signal', ({ to, kind, data }: { to: string; kind: string; data: unknown }, ack?: (a: unknown) => void) => {
      socket.to(to).emit('rtc:signal', { from: socket.id, kind, data: data ?? null });
      ack?.({ ok: true });
    });
    socket.on('disconnect', () => {
      if (!callRoom) return;
      calls.get(callRoom)?.delete(socket.id);
      socket.to(`call:${callRoom}`).emit('call:peer-left', { roomId: callRoom, peerId: socket.id });
    });
    hello(socket);
  });

  httpServer.listen(port, host, () => console.log(`bare socket.io on ${host}:${port}${redis ? ' (redis streams adapter)' : ''}`));
  const stop = () => io.close(() => process.exit(0));
  process.once('SIGTERM', stop);
  process.once('SIGINT', stop);
}

void main();
