import { Socket } from 'socket.io';
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
    const data: HeldData = { ...(session.data as object), [HELD]: held };
    return { ...session, data, missedPackets: [] };
  };
  holdBroadcastsFor(nsp, recovering);
}

/** Copies each event broadcast to a recovering socket's rooms into its held packets. */
function holdBroadcastsFor(nsp: RecoveringNamespace, recovering: Map<string, HeldPackets>): void {
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
    apply(opts, callback);
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
