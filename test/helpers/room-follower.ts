import { expect } from 'chai';
import { io, type Socket } from 'socket.io-client';
import type { Message } from '../../src/protocol/models.js';
import { createRoom, guest } from './http-client.js';
import { ask, connect, eventually, quietFor } from './socket-client.js';

/** What a follower saw on one connect. */
export interface Connect {
  recovered: boolean;
  /** Messages room:join and chat:history gave back after it (none when recovered). */
  backfilled: number;
}

/**
 * A room member written the way client/chat.ts is: after every connect that Socket.IO did not
 * recover it rejoins with `lastSeq` (the highest seq it holds every message up to) and pages
 * `chat:history` until the join is complete; a recovered session is still in the room and
 * does nothing. It keeps every `chat:message` delivery as it came (replays included), so a
 * test sees a message delivered twice, and what the backfill gave, so it sees what was lost.
 *
 * Reconnection is the test's to trigger (`away`): the time away is then whatever the test
 * does meanwhile, however long that takes on a loaded machine. The reconnect itself is the
 * one Socket.IO does by itself: the same session id and last offset in the CONNECT packet.
 */
export class RoomFollower {
  /** Every `chat:message`, in arrival order. */
  readonly deliveries: Message[] = [];
  /** Every message room:join and chat:history returned, in arrival order. */
  readonly backfill: Message[] = [];
  readonly connects: Connect[] = [];
  private readonly held = new Set<number>();
  private lastSeq = 0;
  private rejoin: Promise<void> = Promise.resolve();

  private constructor(
    readonly socket: Socket,
    readonly roomId: string,
  ) {
    socket.on('chat:message', (m: Message) => {
      if (m.roomId !== roomId) return;
      this.deliveries.push(m);
      this.hold([m]);
    });
    socket.on('connect', () => {
      const recovered = socket.recovered;
      this.connects.push({ recovered, backfilled: 0 });
      if (!recovered) this.rejoin = this.join(this.connects.at(-1)!);
    });
  }

  /** Connects to `url` and joins `roomId`; resolves once it is in the room. */
  static async join(url: string, token: string, roomId: string): Promise<RoomFollower> {
    const socket = io(url + '/chat', { path: '/ws', transports: ['websocket'], auth: { token }, forceNew: true, reconnection: false });
    const follower = new RoomFollower(socket, roomId);
    await follower.settled();
    return follower;
  }

  /**
   * The network drops the connection (the client sees "transport close", a recoverable
   * reason); `meanwhile` runs while it is away; then it reconnects, to `url` if given (a load
   * balancer sending it to another node), and resolves once it is back in the room.
   */
  async away(meanwhile: () => Promise<void> = async () => {}, url?: string): Promise<Connect> {
    const before = this.connects.length;
    this.socket.io.engine.close();
    await eventually(() => !this.socket.connected, 5000, 'the follower disconnected');
    await meanwhile();
    // The Manager builds each new engine from `uri`: where a balancer would send the reconnect.
    if (url) (this.socket.io as unknown as { uri: string }).uri = url + '/chat';
    this.socket.connect();
    await eventually(() => this.connects.length > before, 10_000, 'the follower reconnected');
    await this.settled();
    return this.connects.at(-1)!;
  }

  /** Resolves when the connect in progress (and its rejoin, if any) is done. */
  async settled(): Promise<void> {
    await eventually(() => this.socket.connected, 10_000, 'the follower connected');
    await this.rejoin;
  }

  /** Seqs delivered more than once as `chat:message`. */
  duplicates(): number[] {
    const seen = new Set<number>();
    return this.deliveries.map((m) => m.seq).filter((seq) => seen.has(seq) || (seen.add(seq), false));
  }

  /** Every seq the follower holds, from deliveries and backfill, ascending. */
  heldSeqs(): number[] {
    return [...this.held].sort((a, b) => a - b);
  }

  close(): void {
    this.socket.close();
  }

  private async join(connect: Connect): Promise<void> {
    const res = await ask(this.socket, 'room:join', this.lastSeq > 0 ? { roomId: this.roomId, lastSeq: this.lastSeq } : { roomId: this.roomId });
    if (!res.ok) throw new Error(`room:join refused: ${JSON.stringify(res.error)}`);
    this.backfilled(connect, res.messages);
    for (let complete = res.complete as boolean; !complete; ) {
      const page = await ask(this.socket, 'chat:history', { roomId: this.roomId, after: this.lastSeq, limit: 100 });
      if (!page.ok) throw new Error(`chat:history refused: ${JSON.stringify(page.error)}`);
      this.backfilled(connect, page.messages);
      complete = !page.hasMore || page.messages.length === 0;
    }
  }

  private backfilled(connect: Connect, messages: Message[]): void {
    this.backfill.push(...messages);
    connect.backfilled += messages.length;
    this.hold(messages);
  }

  private hold(messages: Message[]): void {
    for (const m of messages) this.held.add(m.seq);
    while (this.held.has(this.lastSeq + 1)) this.lastSeq++;
  }
}

/**
 * Ann in `rooms` rooms of hers (on `url`, a plain socket) and bob following the first one;
 * `send(count, roomId)` sends `count` messages as ann, up to 10 in flight. The caller closes
 * both sockets (`sockets`).
 */
export async function annAndFollower(url: string, rooms = 1) {
  const ann = await guest(url, 'ann');
  const bob = await guest(url, 'bob');
  const roomIds: string[] = [];
  for (let i = 0; i < rooms; i++) roomIds.push((await createRoom(url, ann.token)).id);
  const a = await connect(url, '/chat', ann.token);
  for (const roomId of roomIds) await ask(a, 'room:join', { roomId });
  const bobFollows = await RoomFollower.join(url, bob.token, roomIds[0]!).catch((err: unknown) => {
    a.close();
    throw err;
  });
  let n = 0;
  const one = async (roomId: string) => {
    const res = await ask(a, 'chat:send', { roomId, clientMsgId: `m${++n}`, text: `message ${n}` });
    if (!res.ok) throw new Error(`send refused: ${JSON.stringify(res.error)}`);
  };
  const send = async (count = 1, roomId = roomIds[0]!) => {
    for (let done = 0; done < count; done += 10) await Promise.all(Array.from({ length: Math.min(10, count - done) }, () => one(roomId)));
  };
  return { roomIds, b: bobFollows, send, sockets: [a, bobFollows] as { close(): void }[] };
}

/**
 * The trap of two recoveries in a row with no traffic between (socket.io#5419,
 * socket.io-redis-streams-adapter#39: the replayed packets carried no offset, so the second
 * recovery replayed them again). Bob holds message 1; he drops while message 2 is sent and
 * recovers (to `firstUrl` if given); drops again at once (after `beforeSecond`) and recovers
 * (to `secondUrl`); then message 3 is sent. Each must reach him exactly once, by replay or live.
 */
export async function expectTwoRecoveriesDeliverOnce(
  { b, send }: { b: RoomFollower; send: (count?: number) => Promise<void> },
  hops: { firstUrl?: string; secondUrl?: string; beforeSecond?: () => Promise<void> } = {},
): Promise<void> {
  await send();
  await eventually(() => b.deliveries.length === 1, 5000, 'the first message at bob');
  const first = await b.away(() => send(), hops.firstUrl);
  expect(first.recovered, 'the first drop recovers').to.equal(true);
  await eventually(() => b.deliveries.length === 2, 5000, 'the missed message replayed');
  // Nothing sent meanwhile: the offset bob holds now must be past the replayed message.
  const second = await b.away(hops.beforeSecond, hops.secondUrl);
  expect(second.recovered, 'the second drop recovers').to.equal(true);
  expect(await quietFor(b.socket, 'chat:message', 300), 'nothing replayed by the second recovery').to.deep.equal([]);

  await send();
  await eventually(() => b.deliveries.length >= 3, 5000, 'a live message after both recoveries');
  expect(await quietFor(b.socket, 'chat:message', 200)).to.deep.equal([]);
  expect(b.deliveries.map((m) => m.seq)).to.deep.equal([1, 2, 3]);
  expect(b.backfill, 'recovered sessions do not rejoin').to.deep.equal([]);
}
