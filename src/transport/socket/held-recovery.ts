import { Socket } from 'socket.io';
import { compareStreamIds } from '../../infra/redis/stream-ids.js';
import { requireInternal } from '../../infra/socketio-internals.js';

/** Where a recovered session's packets wait (in `socket.data`) until the handshake passes. */
const HELD = Symbol('recovered session packets held until the handshake succeeds');
type HeldData = { [HELD]?: HeldPackets };

/** What a recovering socket is owed: the packets it missed, then what was broadcast since. */
interface HeldPackets {
  missed: unknown[][];
  /** The stream offsets of `missed` (each packet's last argument), to not send one twice. */
  missedOffsets: Set<unknown>;
  live: unknown[][];
  /** Once the token is checked: writes straight to the socket until it is connected. */
  write: ((data: unknown[]) => void) | null;
  /** Stops holding for this socket. */
  release(): void;
}

/** The part of a Socket.IO adapter that restores sessions (in-memory, Redis Streams, …). */
interface SessionRestorer {
  restoreSession(pid: string, offset: string): Promise<{ sid: string; data?: unknown; missedPackets: unknown[][] } | null | undefined>;
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
  const replayed = new Map<string, StreamOffset>();
  const restore = adapter.restoreSession.bind(adapter);
  adapter.restoreSession = async (pid, offset) => {
    const session = await restore(pid, offset);
    if (!session || nsp.sockets.has(session.sid)) return null;
    const held: HeldPackets = {
      missed: session.missedPackets,
      missedOffsets: new Set(session.missedPackets.map((data) => data.at(-1))),
      live: [],
      write: null,
      release: () => {
        if (recovering.get(session.sid) === held) recovering.delete(session.sid);
      },
    };
    recovering.set(session.sid, held);
    const newest = session.missedPackets.at(-1)?.at(-1);
    if (typeof newest === 'string') rememberReplayed(replayed, session.sid, newest);
    const data: HeldData = { ...(session.data as object), [HELD]: held };
    return { ...session, data, missedPackets: [] };
  };
  holdBroadcastsFor(nsp, recovering, replayed);
}

/** Copies each event broadcast to a recovering socket's rooms into its held packets. */
function holdBroadcastsFor(nsp: RecoveringNamespace, recovering: Map<string, HeldPackets>, replayed: Map<string, StreamOffset>): void {
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
    if (recovering.size === 0 || !packet || packet.type !== 2 || packet.id !== undefined) return;
    const inRoom = (id: string, room: string) => adapter.rooms.get(room)?.has(id) === true;
    for (const [id, held] of recovering) {
      // Connected: the adapter itself delivers to it from now on.
      if (nsp.sockets.has(id)) recovering.delete(id);
      else if (
        (opts.rooms.size === 0 || [...opts.rooms].some((r) => inRoom(id, r))) &&
        ![...(opts.except ?? [])].some((r) => inRoom(id, r)) &&
        // Already among the missed ones (broadcast while the stream was being read).
        !held.missedOffsets.has(packet.data.at(-1))
      ) {
        if (held.write) held.write(packet.data);
        else held.live.push(packet.data);
      }
    }
  };
}

/** A Redis stream id ("<ms>-<n>"), the offset a cluster adapter appends to each packet. */
type StreamOffset = string;

/** How long a recovered socket is guarded against packets it was already replayed. */
const REPLAYED_GUARD_MS = 30_000;

function rememberReplayed(replayed: Map<string, StreamOffset>, sid: string, newest: StreamOffset): void {
  replayed.set(sid, newest);
  setTimeout(() => {
    if (replayed.get(sid) === newest) replayed.delete(sid);
  }, REPLAYED_GUARD_MS).unref();
}

/**
 * The restore read the stream up to its end, while this node's own reading of the stream may
 * lag behind: the entries it has not delivered yet were replayed already. Once the socket is
 * connected the adapter would deliver them a second time; skip each packet not newer than the
 * newest replayed one (stream ids are ordered), until a newer one comes.
 */
function skipReplayed(replayed: Map<string, StreamOffset>, offset: unknown, callback: (socket: unknown) => void): (socket: unknown) => void {
  if (typeof offset !== 'string' || !/^\d+-\d+$/.test(offset)) return callback;
  return (socket) => {
    const id = (socket as { id: string }).id;
    const upTo = replayed.get(id);
    if (upTo !== undefined) {
      if (compareStreamIds(offset, upTo) <= 0) return;
      replayed.delete(id);
    }
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
