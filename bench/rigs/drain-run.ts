import type { ServerProc } from '../lib/server-proc.js';
import { connect, joinRoom, rooms, sleep, type Guest } from '../lib/setup.js';
import type { SioClient } from '../lib/sio-client.js';
import { round } from '../lib/stats.js';

/**
 * S7 queue drain: a member goes offline, `count` messages are sent to its room, and it comes
 * back. Measured: the time from its reconnect until it holds all of them,
 *  - by connection-state recovery (Socket.IO replays the missed packets; both servers);
 *  - by `room:join {lastSeq}` plus `chat:history {after}` pages of 100 (ours: the durable
 *    path that also works after a restart or on another node);
 * and, for reference, the time `count` live messages take to reach a connected member.
 */
export interface DrainResult {
  csrMs: number;
  csrRecovered: boolean;
  lastSeqMs: number | null;
  liveMs: number;
  count: number;
}

const TEXT = 'x'.repeat(180);
const isChatMessage = (c: SioClient, frame: Buffer) => frame[c.prefixLength + 2] === 0x63 && frame[c.prefixLength + 7] === 0x6d;

/** Sends `count` messages from `sender`, `window` awaiting their ack at a time. */
async function sendMany(sender: SioClient, roomId: string, count: number, tag: string, window = 20): Promise<void> {
  let next = 0;
  let done = 0;
  await new Promise<void>((resolve, reject) => {
    const one = () => {
      const i = next++;
      sender.emitAck('chat:send', JSON.stringify({ roomId, clientMsgId: `${tag}-${i}`, text: `${i} ${TEXT}` }), (ack) => {
        if (!ack.startsWith('[{"ok":true')) return reject(new Error(`chat:send refused: ${ack.slice(0, 200)}`));
        if (++done === count) return resolve();
        if (next < count) one();
      });
    };
    for (let k = 0; k < Math.min(window, count); k++) one();
  });
}

/** A counter of chat:message frames, usable as an onEvent handler before the client exists. */
function messageCounter(count: number, timeoutMs = 30_000) {
  let seen = 0;
  let resolve!: () => void;
  const done = new Promise<void>((r) => (resolve = r));
  const onEvent = (frame: Buffer, client: SioClient) => {
    if (isChatMessage(client, frame) && ++seen === count) resolve();
  };
  const wait = () =>
    new Promise<void>((ok, fail) => {
      const timer = setTimeout(() => fail(new Error(`only ${seen}/${count} messages arrived`)), timeoutMs);
      void done.then(() => {
        clearTimeout(timer);
        ok();
      });
    });
  return { onEvent, wait, seen: () => seen };
}

export async function drainRun(server: ServerProc, users: Guest[], count: number, durablePath: boolean): Promise<DrainResult> {
  const [senderUser, csrUser, seqUser, liveUser] = users as [Guest, Guest, Guest, Guest];
  const [roomId] = (await rooms(server, senderUser, 1)) as [string];
  const sender = await connect(server, '/chat', senderUser.token);
  await joinRoom(sender, roomId);

  // The member that will recover its session: it needs an offset, i.e. one event after join.
  const csr = await connect(server, '/chat', csrUser.token, { trackOffset: true });
  await joinRoom(csr, roomId);
  await sendMany(sender, roomId, 1, 'warm');
  await sleep(200);
  const { pid, lastOffset } = csr;
  if (!pid || !lastOffset) throw new Error('no recovery offset: is connectionStateRecovery on?');
  const seq = durablePath ? await connect(server, '/chat', seqUser.token) : null;
  const lastSeq = seq ? ((await joinRoom(seq, roomId)).room.lastSeq as number) : 0;
  csr.terminate();
  seq?.terminate();
  await sleep(300);

  await sendMany(sender, roomId, count, 'offline');

  // Recovery: CONNECT with pid + offset; Socket.IO replays the missed packets on connect.
  let t0 = performance.now();
  const replay = messageCounter(count);
  const back = await connect(server, '/chat', csrUser.token, { auth: { pid, offset: lastOffset }, onEvent: replay.onEvent });
  const recovered = back.sid === csr.sid;
  if (recovered) await replay.wait();
  const csrMs = performance.now() - t0;
  back.terminate();

  // The durable path: join with lastSeq, then page with chat:history {after}.
  let lastSeqMs: number | null = null;
  if (seq) {
    t0 = performance.now();
    const fresh = await connect(server, '/chat', seqUser.token);
    const first = await joinRoom(fresh, roomId, lastSeq);
    let got = (first.messages as { seq: number }[]).filter((m) => m.seq > lastSeq);
    let after = got.at(-1)?.seq ?? lastSeq;
    let more = first.complete === false;
    let total = got.length;
    while (more) {
      const page = await fresh.request('chat:history', { roomId, after, limit: 100 });
      got = page.messages;
      total += got.length;
      after = got.at(-1)?.seq ?? after;
      more = page.hasMore === true && got.length > 0;
    }
    lastSeqMs = performance.now() - t0;
    fresh.terminate();
    if (total !== count) throw new Error(`lastSeq drain returned ${total}/${count} messages`);
  }

  // Reference: the same number of live messages to a connected member.
  const livePlay = messageCounter(count);
  const live = await connect(server, '/chat', liveUser.token, { onEvent: livePlay.onEvent });
  await joinRoom(live, roomId);
  t0 = performance.now();
  await sendMany(sender, roomId, count, 'live');
  await livePlay.wait();
  const liveMs = performance.now() - t0;
  live.terminate();
  sender.terminate();

  return { csrMs: round(csrMs, 1), csrRecovered: recovered, lastSeqMs: lastSeqMs === null ? null : round(lastSeqMs, 1), liveMs: round(liveMs, 1), count };
}
