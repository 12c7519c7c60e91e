import { rmSync } from 'node:fs';
import { Histogram } from '../lib/histogram.js';
import type { ServerFleet } from '../lib/server-fleet.js';
import type { ServerProc } from '../lib/server-proc.js';
import { guests, rooms, sleep } from '../lib/setup.js';
import { poissonGapUs, round } from '../lib/stats.js';
import { StormClient } from './storm-client.js';

/**
 * S6 reconnect storm: rooms of four (one sender, three receivers), chat flowing, then the
 * server is SIGKILLed and restarted on the same port and data. Every client reconnects with
 * socket.io-client's default backoff and gets back into its room (see StormClient). Senders
 * keep unacked messages and resend them with the same clientMsgId after reconnecting.
 * Counted at the end: messages the server acked that a receiver never got (lost), receptions
 * of a message already held (duplicates), and the time from the kill until each client was
 * back in its room.
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

export interface StormOptions {
  cpu: number | null;
  ratePerSec: number;
  beforeKillMs: number;
  afterKillMs: number;
  /** --profile: the restarted server writes its CPU profile here (start-up and the storm). */
  cpuProfDir?: string;
  /** Told of the restarted server (to capture its profile). */
  onRestarted?: (server: ServerProc) => void;
}

export async function reconnectStorm(fleet: ServerFleet, kind: 'bare' | 'ours', roomsCount: number, opts: StormOptions): Promise<StormResult> {
  let server = await fleet.start({ kind, cpu: opts.cpu });
  const { port, dataDir } = server;
  const users = await guests(server, Math.min(200, roomsCount * 4));
  const roomIds = await rooms(server, users[0]!, roomsCount);
  const clients: StormClient[] = [];
  for (let r = 0; r < roomsCount; r++) {
    for (let m = 0; m < 4; m++) clients.push(new StormClient(users[(r * 4 + m) % users.length]!, roomIds[r]!, r, m === 0, kind === 'ours'));
  }
  /** Per room: the clientMsgIds the server acked, and the messages not yet acked (by id). */
  const acked: Set<string>[] = roomIds.map(() => new Set());
  const outbox: Map<string, string>[] = roomIds.map(() => new Map());
  let stopping = false;

  const send = (c: StormClient, id: string, json: string) => {
    const sock = c.sock;
    if (!sock || !sock.connected || c.rejoinedAt === null) return; // stays in the outbox
    sock.emitAck('chat:send', json, (ack) => {
      if (ack.startsWith('[{"ok":true')) {
        acked[c.room]!.add(id);
        outbox[c.room]!.delete(id);
      }
    });
  };
  const flush = (c: StormClient) => {
    for (const [id, json] of outbox[c.room]!) send(c, id, json);
  };
  const open = async (c: StormClient) => {
    await c.open(port, () => {
      if (!stopping) scheduleReconnect(c);
    });
    if (c.sender) flush(c);
  };
  const scheduleReconnect = (c: StormClient) => {
    setTimeout(() => {
      if (stopping) return;
      open(c).catch(() => {
        // Connected but not rejoined: dropping the socket schedules the next attempt.
        if (c.sock && c.sock.connected) c.sock.terminate();
        else scheduleReconnect(c);
      });
    }, c.nextBackoffMs());
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
  server = await fleet.start({ kind, cpu: opts.cpu, port, dataDir, ...(opts.cpuProfDir ? { cpuProfDir: opts.cpuProfDir } : {}) });
  const readyAt = performance.now();
  opts.onRestarted?.(server);
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

  const result = tally(clients, acked, killedAt, readyAt);
  for (const c of clients) c.sock?.terminate();
  await server.stop();
  rmSync(dataDir, { recursive: true, force: true });
  return { ...result, unackedAtEnd: outbox.reduce((sum, o) => sum + o.size, 0) };
}

/** Who came back when, and which acked messages every receiver of the room got, once or more. */
function tally(clients: StormClient[], acked: Set<string>[], killedAt: number, readyAt: number): Omit<StormResult, 'unackedAtEnd'> {
  const fromKill = new Histogram();
  const afterReady = new Histogram();
  let stragglers = 0;
  for (const c of clients) {
    if (c.rejoinedAt === null) stragglers++;
    else {
      fromKill.record((c.rejoinedAt - killedAt) * 1000);
      afterReady.record(Math.max(0, c.rejoinedAt - readyAt) * 1000);
    }
  }
  let lost = 0;
  let duplicates = 0;
  for (const c of clients) {
    if (c.sender) continue;
    for (const id of acked[c.room]!) if (!c.got.has(id)) lost++;
    for (const times of c.got.values()) if (times > 1) duplicates += times - 1;
  }
  const s = fromKill.summaryMs();
  return {
    clients: clients.length,
    reconnectMs: { p50: s.p50, p95: round(fromKill.percentile(95) / 1000, 1), p99: s.p99, max: s.max },
    afterReadyMs: { p50: afterReady.summaryMs().p50, p99: afterReady.summaryMs().p99 },
    restartMs: round(readyAt - killedAt, 0),
    acked: acked.reduce((sum, ids) => sum + ids.size, 0),
    lost,
    duplicates,
    stragglers,
  };
}
