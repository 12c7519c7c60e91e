import { rmSync } from 'node:fs';
import { Histogram } from '../lib/histogram.js';
import { ServerProc } from '../lib/server-proc.js';
import { connect, guests, rooms, sleep, type Guest } from '../lib/setup.js';
import type { SioClient } from '../lib/sio-client.js';
import { poissonGapUs, round } from '../lib/stats.js';

/**
 * S6 reconnect storm: rooms of four (one sender, three receivers), chat flowing, then the
 * server is SIGKILLed and restarted on the same port and data. Every client reconnects with
 * socket.io-client's default backoff (1 s doubling to 5 s, ±50 % jitter) and, as the client
 * guide says, tries session recovery first, else rejoins its room (ours: with `lastSeq`,
 * paging history until complete). Senders keep unacked messages and resend them with the
 * same clientMsgId after reconnecting. Counted at the end: messages the server acked that a
 * receiver never got (lost), receptions of a message already held (duplicates), and the
 * time from the kill until each client was back in its room.
 */
export interface StormResult {
  clients: number;
  /** From the kill (what a user sees: includes the restart). */
  reconnectMs: { p50: number; p95: number; p99: number; max: number };
  /** From the moment the restarted server answered /healthz. */
  afterReadyMs: { p50: number; p99: number };
  /** Kill to /healthz of the restarted server. */
  restartMs: number;
  acked: number;
  lost: number;
  duplicates: number;
  unackedAtEnd: number;
  stragglers: number;
}

interface Client {
  index: number;
  user: Guest;
  roomId: string;
  room: number;
  sender: boolean;
  sock: SioClient | null;
  pid: string | null;
  offset: string | null;
  /** Seqs held (ours) and the highest seq below which none is missing: the rejoin cursor. */
  seqs: Set<number>;
  contiguous: number;
  attempts: number;
  /** clientMsgId → times received (receivers). */
  got: Map<string, number>;
  rejoinedAt: number | null;
}

const MSG_ID = Buffer.from('"clientMsgId":"');
const SEQ = Buffer.from('"seq":');

function readField(frame: Buffer, key: Buffer, quoted: boolean): string | null {
  const at = frame.indexOf(key);
  if (at < 0) return null;
  const start = at + key.length;
  const end = quoted ? frame.indexOf(0x22, start) : frame.indexOf(0x2c, start);
  return frame.toString('latin1', start, end);
}

export async function reconnectStorm(kind: 'bare' | 'ours', roomsCount: number, opts: { cpu: number | null; ratePerSec: number; beforeKillMs: number; afterKillMs: number }): Promise<StormResult> {
  let server = await ServerProc.start({ kind, cpu: opts.cpu });
  const { port, dataDir } = server;
  const users = await guests(server, Math.min(200, roomsCount * 4));
  const roomIds = await rooms(server, users[0]!, roomsCount);
  const durable = kind === 'ours';
  const clients: Client[] = [];
  for (let r = 0; r < roomsCount; r++) {
    for (let m = 0; m < 4; m++) {
      const index = r * 4 + m;
      clients.push({ index, user: users[index % users.length]!, roomId: roomIds[r]!, room: r, sender: m === 0, sock: null, pid: null, offset: null, seqs: new Set(), contiguous: 0, attempts: 0, got: new Map(), rejoinedAt: null });
    }
  }
  const acked: Set<string>[] = roomIds.map(() => new Set());
  const outbox: Map<string, string>[] = roomIds.map(() => new Map());

  let stopping = false;

  /**
   * A message reaches the app. Ours: deduplicated by seq (a set, not a high-water mark: a
   * live message can overtake the history page of a rejoin). Bare has no usable seq (it
   * restarts from 1 with the server), so every reception counts.
   */
  const take = (c: Client, id: string | null, seq: number) => {
    if (durable && Number.isFinite(seq)) {
      if (c.seqs.has(seq)) return;
      c.seqs.add(seq);
      while (c.seqs.has(c.contiguous + 1)) c.contiguous++;
    }
    if (id) c.got.set(id, (c.got.get(id) ?? 0) + 1);
  };

  const onEvent = (c: Client) => (frame: Buffer, sock: SioClient) => {
    const p = sock.prefixLength + 2;
    if (frame[p] !== 0x63 || frame[p + 5] !== 0x6d) return; // chat:message
    take(c, readField(frame, MSG_ID, true), Number(readField(frame, SEQ, false)));
    const end = frame.length - 2;
    if (frame[end] === 0x22) c.offset = frame.toString('latin1', frame.lastIndexOf(0x22, end - 1) + 1, end);
  };

  const flush = (c: Client) => {
    for (const [id, json] of outbox[c.room]!) send(c, id, json);
  };
  const send = (c: Client, id: string, json: string) => {
    const sock = c.sock;
    if (!sock || !sock.connected || c.rejoinedAt === null) return; // stays in the outbox
    sock.emitAck('chat:send', json, (ack) => {
      if (ack.startsWith('[{"ok":true')) {
        acked[c.room]!.add(id);
        outbox[c.room]!.delete(id);
      }
    });
  };

  const join = async (c: Client, sock: SioClient) => {
    // Ours: rejoin with the cursor and page until complete (README, "Reconnecting").
    let page = await sock.request('room:join', durable ? { roomId: c.roomId, lastSeq: c.contiguous } : { roomId: c.roomId });
    if (!page.ok) throw new Error(`room:join refused: ${JSON.stringify(page).slice(0, 200)}`);
    if (!durable) return;
    let messages = page.messages as { seq: number; clientMsgId: string | null }[];
    let more = page.complete === false;
    for (;;) {
      for (const m of messages) take(c, m.clientMsgId, m.seq);
      if (!more) break;
      page = await sock.request('chat:history', { roomId: c.roomId, after: messages.at(-1)?.seq ?? c.contiguous, limit: 100 });
      messages = page.messages;
      more = page.hasMore === true && messages.length > 0;
    }
  };

  const open = async (c: Client): Promise<void> => {
    const auth = c.pid && c.offset ? { pid: c.pid, offset: c.offset } : {};
    const previousSid = c.sock?.sid;
    const sock = await connect({ port }, '/chat', c.user.token, { auth, onEvent: onEvent(c), trackOffset: true });
    c.sock = sock;
    c.pid = sock.pid;
    sock.onClose = () => {
      c.rejoinedAt = null;
      if (!stopping) scheduleReconnect(c);
    };
    const recovered = previousSid !== undefined && sock.sid === previousSid;
    if (!recovered) await join(c, sock);
    c.rejoinedAt = performance.now();
    c.attempts = 0;
    if (c.sender) flush(c);
  };

  const scheduleReconnect = (c: Client) => {
    const base = Math.min(1000 * 2 ** c.attempts, 5000);
    const delay = base + (Math.random() * 2 - 1) * 0.5 * base;
    c.attempts++;
    setTimeout(() => {
      if (stopping) return;
      open(c).catch(() => {
        if (c.sock && c.sock.connected) c.sock.terminate();
        else scheduleReconnect(c);
      });
    }, delay);
  };

  // Everyone in; then steady traffic.
  for (let i = 0; i < clients.length; i += 100) await Promise.all(clients.slice(i, i + 100).map((c) => open(c)));
  const senders = clients.filter((c) => c.sender);
  let n = 0;
  let next = performance.now() * 1000;
  const traffic = setInterval(() => {
    const now = performance.now() * 1000;
    while (next <= now) {
      const c = senders[(Math.random() * senders.length) | 0]!;
      const id = `r${c.room}-${n++}`;
      const json = JSON.stringify({ roomId: c.roomId, clientMsgId: id, text: `storm ${id} ${'x'.repeat(120)}` });
      outbox[c.room]!.set(id, json);
      send(c, id, json);
      next += poissonGapUs(opts.ratePerSec);
    }
  }, 1);

  await sleep(opts.beforeKillMs);
  const killedAt = performance.now();
  await server.kill();
  server = await ServerProc.start({ kind, cpu: opts.cpu, port, dataDir });
  const readyAt = performance.now();
  await sleep(opts.afterKillMs);
  clearInterval(traffic);

  // Quiesce: every client back, every outbox acked, then a moment for the last deliveries.
  const deadline = Date.now() + 30_000;
  while (Date.now() < deadline && (clients.some((c) => c.rejoinedAt === null) || outbox.some((o) => o.size > 0))) {
    for (const c of senders) if (c.rejoinedAt !== null) flush(c);
    await sleep(500);
  }
  await sleep(1500);
  stopping = true;

  const hist = new Histogram();
  const afterReady = new Histogram();
  let stragglers = 0;
  for (const c of clients) {
    if (c.rejoinedAt === null) stragglers++;
    else {
      hist.record((c.rejoinedAt - killedAt) * 1000);
      afterReady.record(Math.max(0, c.rejoinedAt - readyAt) * 1000);
    }
  }
  let lost = 0;
  let duplicates = 0;
  let ackedTotal = 0;
  for (let r = 0; r < roomsCount; r++) ackedTotal += acked[r]!.size;
  for (const c of clients) {
    if (c.sender) continue;
    for (const id of acked[c.room]!) if (!c.got.has(id)) lost++;
    for (const times of c.got.values()) if (times > 1) duplicates += times - 1;
  }
  for (const c of clients) c.sock?.terminate();
  await server.stop();
  rmSync(dataDir, { recursive: true, force: true });
  const s = hist.summaryMs();
  return {
    clients: clients.length,
    reconnectMs: { p50: s.p50, p95: round(hist.percentile(95) / 1000, 1), p99: s.p99, max: s.max },
    afterReadyMs: { p50: afterReady.summaryMs().p50, p99: afterReady.summaryMs().p99 },
    restartMs: round(readyAt - killedAt, 0),
    acked: ackedTotal,
    lost,
    duplicates,
    unackedAtEnd: outbox.reduce((sum, o) => sum + o.size, 0),
    stragglers,
  };
}
