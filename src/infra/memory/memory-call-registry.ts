import type { CallPeer, MediaState } from '../../protocol/models.js';
import type { CallJoinOutcome, CallRegistry } from '../../ports/realtime.js';

/** Calls for one process: roomId → peerId → peer. */
export class MemoryCallRegistry implements CallRegistry {
  private readonly calls = new Map<string, Map<string, CallPeer>>();

  async join(roomId: string, peer: CallPeer, capacity: number): Promise<CallJoinOutcome> {
    let peers = this.calls.get(roomId);
    if (!peers) this.calls.set(roomId, (peers = new Map()));
    const others = [...peers.values()].filter((p) => p.peerId !== peer.peerId);
    if (!peers.has(peer.peerId) && others.length >= capacity) return { joined: false, reason: 'ROOM_FULL' };
    peers.set(peer.peerId, peer);
    return { joined: true, peers: others };
  }

  async leave(roomId: string, peerId: string): Promise<boolean> {
    const peers = this.calls.get(roomId);
    if (!peers?.delete(peerId)) return false;
    if (peers.size === 0) this.calls.delete(roomId);
    return true;
  }

  async peers(roomId: string): Promise<CallPeer[]> {
    return [...(this.calls.get(roomId)?.values() ?? [])];
  }

  async inCall(roomId: string, peerId: string): Promise<boolean> {
    return this.calls.get(roomId)?.has(peerId) ?? false;
  }

  async setMedia(roomId: string, peerId: string, media: MediaState): Promise<void> {
    const peer = this.calls.get(roomId)?.get(peerId);
    if (peer) peer.media = media;
  }
}
