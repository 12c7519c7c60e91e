import { LoadRig } from './load-rig.js';
import type { ServerProc } from '../lib/server-proc.js';
import { closeAll, connect, guests, joinRoom, rooms } from '../lib/setup.js';
import { connectMany, nowUs, readStamp, type SioClient } from '../lib/sio-client.js';

/**
 * S2 room chat fan-out (and S3 cross-node): rooms of `members` /chat sockets; senders send
 * `chat:send` with an ack (ours acks once the message is durable: SQLite group commit, or
 * the Redis script in cluster mode); every other member receives `chat:message`.
 * Text is ~200 characters; the send time is stamped in it.
 */

const PAD = 'Lorem ipsum dolor sit amet, consectetur adipiscing elit, sed do eiusmod tempor incididunt ut labore et dolore magna aliqua. Ut enim ad minim veniam, quis nostrud exercitation ullamco laboris nisi';

interface Member {
  client: SioClient;
  room: number;
  sender: boolean;
  prefix: string;
  n: number;
  inflight: number;
}

export interface FanoutShape {
  rooms: number;
  members: number;
  /** Members 0 … sendersPerRoom-1 of each room send. */
  sendersPerRoom: number;
  /** Where member m of room r connects (default: the first server). */
  place?: (room: number, member: number) => ServerProc;
}

export class FanoutRig extends LoadRig<Member> {
  private expected = 0;
  private received = 0;
  private pendingAcks = 0;
  readonly senders: Member[];

  private constructor(
    servers: ServerProc[],
    readonly members: Member[],
    readonly shape: FanoutShape,
  ) {
    super(servers);
    this.senders = members.filter((m) => m.sender);
  }

  static async create(servers: ServerProc[], shape: FanoutShape): Promise<FanoutRig> {
    const head = servers[0]!;
    const place = shape.place ?? (() => head);
    const total = shape.rooms * shape.members;
    const users = await guests(head, total);
    const roomIds = await rooms(head, users[0]!, shape.rooms);
    const { ok, errors } = await connectMany(total, 50, async (i) => {
      const room = Math.floor(i / shape.members);
      const m = i % shape.members;
      const client = await connect(place(room, m), '/chat', users[i]!.token);
      await joinRoom(client, roomIds[room]!);
      const sender = m < shape.sendersPerRoom;
      const prefix = `{"roomId":"${roomIds[room]}","clientMsgId":"s${i}-`;
      return { i, member: { client, room, sender, prefix, n: 0, inflight: 0 } as Member };
    });
    if (errors.length) throw new Error(`fan-out set-up: ${errors[0]}`);
    ok.sort((a, b) => a.i - b.i);
    const rig = new FanoutRig(servers, ok.map((o) => o.member), shape);
    for (const m of rig.members) m.client.onEvent = (frame) => rig.onFrame(m, frame);
    return rig;
  }

  private onFrame(member: Member, frame: Buffer): void {
    // 42/chat,["chat:message",…]: 'c' … 'm'
    const p = member.client.prefixLength + 2;
    if (frame[p] !== 0x63 || frame[p + 5] !== 0x6d) return;
    this.received++;
    this.win.receive(readStamp(frame, p));
  }

  protected send(member: Member, stampUs: number): void {
    member.inflight++;
    this.pendingAcks++;
    this.expected += this.shape.members - 1;
    this.win.sent++;
    const json = `${member.prefix}${member.n++}","text":"TS!${stampUs}! ${PAD}"}`;
    member.client.emitAck('chat:send', json, (ack) => {
      member.inflight--;
      this.pendingAcks--;
      // [{"ok":true,…
      if (ack.charCodeAt(7) !== 0x74) {
        this.win.errors++;
        this.expected -= this.shape.members - 1;
        if (this.win.errors <= 3) console.error(`  chat:send refused: ${ack.slice(0, 200)}`);
      }
      if (this.window > 0 && this.win.running) this.send(member, nowUs());
    });
  }

  protected sources(): Member[] {
    return this.senders;
  }

  protected inFlight(): number {
    return this.pendingAcks + Math.max(0, this.expected - this.received);
  }

  protected reset(): void {
    this.expected = 0;
    this.received = 0;
  }

  close(): void {
    closeAll(this.members.map((m) => m.client));
  }
}
