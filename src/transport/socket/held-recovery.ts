import { Socket } from 'socket.io';
import { compareStreamIds } from '../../infra/redis/stream-ids.js';
import { requireInternal } from '../../infra/socketio-internals.js';

/** Where a recovered session's packets wait (in `socket.data`) until the handshake passes. */
const HELD = Symbol('recovered session packets held until the handshake succeeds');
type HeldData = { [HELD]?: HeldPackets };

/** What a recovering socket is owed: the packets it missed, then what was broadcast since. */
interface HeldPackets {
  missed: unknown[][];
  /** The session's rooms: the socket may not have joined them yet when a broadcast comes. */
  rooms: ReadonlySet<string>;
  /** The newest stream offset the socket has (its own or the last missed one): older ones are not sent again. */
  upTo: StreamOffset | null;
  /** The offsets it has, for adapters whose offsets are not ordered (the in-memory one). */
  had: Set<unknown>;
  live: unknown[][];
  /** Once the token is checked: writes straight to the socket until it is connected. */
  write: ((data: unknown[]) => void) | null;
  /** Stops holding for this socket. */
  release(): void;
}

/** The part of a Socket.IO adapter that restores sessions (in-memory, Redis Streams, …). */
interface SessionRestorer {
  restoreSession(pid: string, offset: string): Promise<{ sid: string; rooms: string[]; data?: unknown; missedPackets: unknown[][] } | null | undefined>;
}

/** The in-memory adapter's broadcast path (socket.io-adapter 2.5), which every adapter ends in. */
interface BroadcastInternals {
  rooms: Map<string, Set<string>>;
  _encode(packet: { type: number; id?: number; data: unknown[] }, packetOpts: unknown): unknown;
  apply(opts: { rooms: Set<string>; except?: Set<string> }, callback: (socket: unknown) => void): void;
}

type RecoveringNamespace = { adapter: SessionRestorer; sockets: ReadonlyMap<string, unknown> };

/**
 * Socket.IO (4.8) writes a recovered session's missed packets to the connection as soon as it
 * restores the session, before any namespace middleware has run: a client holding a session
 * id but no valid token would read them (verified by test/security). This makes the adapter
 * hand them over empty and keeps them in the socket's data; `handshake` sends them once the
 * token is checked, in the same place in the stream (before the CONNECT answer).
 *
 * While the middleware runs, the socket is in its rooms but not yet among the namespace's
 * sockets, and the adapter skips it: every message broadcast in that window, after the
 * stream was read for the missed ones, was lost to it (seen under traffic in
 * test/cluster/sigterm-drain-sessions.test.ts: one message per recovering client). Those
 * broadcasts are held too, and sent after the missed packets, each stream offset once.
 *
 * A session whose socket is connected here right now is not restored a second time: the
 * duplicate would take over the live socket's id and, when refused, remove its rooms.
 */
export function holdMissedPacketsUntilAuthenticated(nsp: RecoveringNamespace): void {
  const adapter = requireInternal(nsp.adapter, 'restoreSession', 'the namespace adapter');
  requireInternal(Socket.prototype, 'packet', 'socket.io Socket');
  const recovering = new Map<string, HeldPackets>();
  const replayed = new Map<string, HeldPackets>();
  const inFlight = new Set<Broadcast[]>();
  const restore = adapter.restoreSession.bind(adapter);
  adapter.restoreSession = async (pid, offset) => {
    // What is broadcast while the restore reads the stream is caught too: it may be newer
    // than the stream's end the restore saw, and the socket is in no room yet.
    const during: Broadcast[] = [];
    inFlight.add(during);
    const session = await restore(pid, offset).finally(() => inFlight.delete(during));
    if (!session || nsp.sockets.has(session.sid)) return null;
    const newest = session.missedPackets.at(-1)?.at(-1);
    const upTo = typeof newest === 'string' ? newest : isStreamOffset(offset) ? offset : null;
    const rooms = new Set([...session.rooms, session.sid]);
    const had = new Set(session.missedPackets.map((data) => data.at(-1)));
    const held: HeldPackets = {
      missed: session.missedPackets,
      rooms,
      upTo,
      had,
      live: during.filter((b) => owed(b, { rooms, upTo, had })).map((b) => b.data),
      write: null,
      release: () => {
        if (recovering.get(session.sid) === held) recovering.delete(session.sid);
      },
    };
    recovering.set(session.sid, held);
    for (const data of held.live) had.add(data.at(-1));
    rememberReplayed(replayed, session.sid, held);
    const data: HeldData = { ...(session.data as object), [HELD]: held };
    return { ...session, data, missedPackets: [] };
  };
  holdBroadcastsFor(nsp, recovering, replayed, inFlight);
}

/** Copies each event broadcast to a recovering socket's rooms into its held packets. */
function holdBroadcastsFor(nsp: RecoveringNamespace, recovering: Map<string, HeldPackets>, replayed: Map<string, HeldPackets>, inFlight: Set<Broadcast[]>): void {
  const adapter = requireInternal(requireInternal(nsp.adapter as unknown as BroadcastInternals, '_encode', 'the namespace adapter'), 'apply', 'the namespace adapter');
  const encode = adapter._encode.bind(adapter);
  const apply = adapter.apply.bind(adapter);
  // `broadcast` encodes its packet and then, synchronously, applies it to the room's sockets;
  // any other `apply` (join, leave, fetch, disconnect) comes without an encode.
  let encoding: { type: number; id?: number; data: unknown[] } | null = null;
  adapter._encode = (packet, packetOpts) => {
    encoding = packet;
    return encode(packet, packetOpts);
  };
  adapter.apply = (opts, callback) => {
    const packet = encoding;
    encoding = null;
    apply(opts, replayed.size === 0 || !packet ? callback : skipReplayed(replayed, packet.data.at(-1), callback));
    // Packets with an ack are not replayed by Socket.IO either: their ack cannot follow them.
    if ((recovering.size === 0 && inFlight.size === 0) || !packet || packet.type !== 2 || packet.id !== undefined) return;
    const broadcast: Broadcast = { data: packet.data, rooms: opts.rooms, except: opts.except ?? new Set() };
    for (const during of inFlight) during.push(broadcast);
    for (const [id, held] of recovering) {
      // Connected: the adapter itself delivers to it from now on.
      if (nsp.sockets.has(id)) recovering.delete(id);
      else if (owed(broadcast, held)) {
        const offset = packet.data.at(-1);
        // Not `upTo`: this node's own broadcasts arrive ahead of older entries its stream
        // reading has not delivered yet, which are still owed.
        held.had.add(offset);
        if (held.write) held.write(packet.data);
        else held.live.push(packet.data);
      }
    }
  };
}

interface Broadcast {
  data: unknown[];
  rooms: ReadonlySet<string>;
  except: ReadonlySet<string>;
}

/** Is this broadcast for a session in these rooms that has not got it yet? */
function owed(b: Broadcast, session: Pick<HeldPackets, 'rooms' | 'upTo' | 'had'>): boolean {
  if (b.rooms.size > 0 && ![...b.rooms].some((r) => session.rooms.has(r))) return false;
  if ([...b.except].some((r) => session.rooms.has(r))) return false;
  const offset = b.data.at(-1);
  if (session.had.has(offset)) return false;
  return !(session.upTo !== null && isStreamOffset(offset) && compareStreamIds(offset, session.upTo) <= 0);
}

function isStreamOffset(value: unknown): value is StreamOffset {
  return typeof value === 'string' && /^\d+-\d+$/.test(value);
}

/** A Redis stream id ("<ms>-<n>"), the offset a cluster adapter appends to each packet. */
type StreamOffset = string;

/** How long a recovered socket is guarded against packets it was already sent. */
const REPLAYED_GUARD_MS = 30_000;

function rememberReplayed(replayed: Map<string, HeldPackets>, sid: string, held: HeldPackets): void {
  replayed.set(sid, held);
  setTimeout(() => {
    if (replayed.get(sid) === held) replayed.delete(sid);
  }, REPLAYED_GUARD_MS).unref();
}

/**
 * The restore read the stream up to its end, while this node's own reading of the stream may
 * lag behind: entries it has not delivered yet were replayed already, or held and sent. Once
 * the socket is connected the adapter would deliver them a second time: skip each packet the
 * socket has (by offset, or not newer than the newest replayed one; stream ids are ordered).
 */
function skipReplayed(replayed: Map<string, HeldPackets>, offset: unknown, callback: (socket: unknown) => void): (socket: unknown) => void {
  if (!isStreamOffset(offset)) return callback;
  return (socket) => {
    const held = replayed.get((socket as { id: string }).id);
    if (held && (held.had.has(offset) || (held.upTo !== null && compareStreamIds(offset, held.upTo) <= 0))) return;
    callback(socket);
  };
}

/**
 * Takes the recovered session's held packets out of the socket's data (nothing for a new
 * session). `send()` writes them, once the token is checked, and keeps the socket's
 * broadcasts coming until it is connected; `drop()` stops holding (connected, refused or
 * gone: the adapter delivers to a connected socket itself).
 */
export function takeHeldPackets(socket: { data: unknown }): { send(): void; drop(): void } {
  const data = socket.data as HeldData;
  const held = data[HELD];
  delete data[HELD];
  return {
    send: () => {
      if (!held) return;
      // Type 2 is an EVENT packet: exactly how Socket.IO itself replays missed packets.
      const writer = socket as unknown as { packet(packet: { type: number; data: unknown[] }): void };
      const write = (args: unknown[]) => writer.packet({ type: 2, data: args });
      for (const args of held.missed) write(args);
      for (const args of held.live) write(args);
      held.live = [];
      held.write = write;
    },
    drop: () => held?.release(),
  };
}
