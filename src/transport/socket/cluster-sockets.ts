import { unavailable } from '../../domain/app-error.js';
import type { OnlineParticipant, OnlineSockets } from '../../services/operator-service.js';
import { callRoomKey, chatRoomKey, userRoomKey, type ChatNamespace, type RtcNamespace, type SocketData } from './socket-types.js';

/** The least of a socket `fetchSockets` hands back, local or from another node. */
interface FetchedSocket {
  id: string;
  data: Partial<SocketData>;
}

/**
 * The cluster's sockets through the adapter's cluster requests (`fetchSockets`,
 * `disconnectSockets`), which reach every node. A cluster request waits for every node the
 * adapter counts, up to its timeout (5 s) when one is gone (see
 * test/cluster/dead-node-requests.test.ts): fine for an operator, which is why no hot path
 * uses one. A request that times out answers UNAVAILABLE: retry.
 */
export class ClusterSockets implements OnlineSockets {
  private namespaces: { chat: ChatNamespace; rtc: RtcNamespace } | null = null;

  /** Bound once the Socket.IO server exists (it is built after the HTTP app). */
  attach(chat: ChatNamespace, rtc: RtcNamespace): void {
    this.namespaces = { chat, rtc };
  }

  /**
   * Call peers, each with its peerId, then /chat users not already listed on the same node:
   * one entry per user and node, or per peer.
   */
  async inRoom(roomId: string): Promise<OnlineParticipant[]> {
    const { chat, rtc } = this.bound();
    const [chatters, peers] = await Promise.all([fetch(chat.in(chatRoomKey(roomId))), fetch(rtc.in(callRoomKey(roomId)))]);
    const listed = new Set<string>();
    const participants: OnlineParticipant[] = [];
    for (const peer of peers) {
      if (!peer.data.user) continue;
      const nodeId = peer.data.nodeId ?? 'unknown';
      listed.add(`${nodeId} ${peer.data.user.id}`);
      participants.push({ userId: peer.data.user.id, name: peer.data.user.name, nodeId, peerId: peer.id });
    }
    for (const socket of chatters) {
      if (!socket.data.user) continue;
      const nodeId = socket.data.nodeId ?? 'unknown';
      const key = `${nodeId} ${socket.data.user.id}`;
      if (listed.has(key)) continue;
      listed.add(key);
      participants.push({ userId: socket.data.user.id, name: socket.data.user.name, nodeId });
    }
    return participants;
  }

  /**
   * `disconnectSockets(true)` closes each socket's connection with a server-side disconnect,
   * which Socket.IO does not keep a session for (not one of its recoverable reasons): the
   * client cannot come back through connection-state recovery, only through a new handshake.
   * The sockets are closed even when counting them fails (a node did not answer): the
   * operator asked for them to go, and a retry, which answers the count, closes nothing twice.
   */
  async disconnectUser(userId: string): Promise<number> {
    const { chat, rtc } = this.bound();
    const room = userRoomKey(userId);
    try {
      const [chatSockets, rtcSockets] = await Promise.all([fetch(chat.in(room)), fetch(rtc.in(room))]);
      return chatSockets.length + rtcSockets.length;
    } finally {
      chat.in(room).disconnectSockets(true);
      rtc.in(room).disconnectSockets(true);
    }
  }

  private bound() {
    if (!this.namespaces) throw new Error('ClusterSockets used before attach()');
    return this.namespaces;
  }
}

async function fetch(target: { fetchSockets(): Promise<FetchedSocket[]> }): Promise<FetchedSocket[]> {
  try {
    return await target.fetchSockets();
  } catch (err) {
    // The adapters reject with "timeout reached: only N responses received out of M".
    throw unavailable('a node of the cluster did not answer in time; retry', err);
  }
}

/**
 * Marks each socket for the operator API on connection (a recovered one too): it joins its
 * user's room, so a disconnect reaches it on any node, and carries this node's id in its
 * data, which `fetchSockets` shows remotely. On connection rather than in the handshake
 * middleware: a join made there would outlive a handshake that a later step refuses.
 */
export function markForOperators(nsp: ChatNamespace | RtcNamespace, nodeId: string): void {
  (nsp as ChatNamespace).on('connection', (socket) => {
    socket.data.nodeId = nodeId;
    void socket.join(userRoomKey(socket.data.user.id));
  });
}
