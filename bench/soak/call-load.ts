import type { Socket } from 'socket.io-client';
import type { Guest } from '../lib/setup.js';
import { request, soakSocket } from './soak-socket.js';

/** One participant of a call: joins on every (re)connect and keeps its peers from the events. */
class CallPeer {
  readonly socket: Socket;
  readonly peers = new Set<string>();
  inCall = false;
  sent = 0;
  received = 0;

  constructor(url: string, guest: Guest, readonly roomId: string) {
    this.socket = soakSocket(url, '/rtc', guest.token, (s) => this.join(s));
    this.socket.on('call:peer-joined', (p: { peerId: string }) => this.peers.add(p.peerId));
    this.socket.on('call:peer-left', (p: { peerId: string }) => this.peers.delete(p.peerId));
    this.socket.on('rtc:signal', () => this.received++);
    this.socket.on('disconnect', () => {
      this.inCall = false;
      this.peers.clear();
    });
  }

  async join(s: Socket = this.socket): Promise<void> {
    const ack = await request(s, 'call:join', { roomId: this.roomId });
    this.peers.clear();
    for (const p of ack.peers as { peerId: string }[]) this.peers.add(p.peerId);
    this.inCall = true;
  }

  async leave(): Promise<void> {
    this.inCall = false;
    await request(this.socket, 'call:leave', { roomId: this.roomId });
    this.peers.clear();
  }

  /** An ICE candidate to every peer it knows (fire and forget, as a browser trickles them). */
  signal(): void {
    if (!this.inCall || !this.socket.connected) return;
    for (const to of this.peers) {
      this.socket.emit('rtc:signal', { to, kind: 'ice-candidate', data: { candidate: `candidate:${this.sent} 1 udp 2122260223 127.0.0.1 5${this.sent % 1000} typ host`, sdpMid: '0', sdpMLineIndex: 0 } });
      this.sent++;
    }
  }
}

/**
 * Calls of `size` peers in some rooms, spread over the nodes: each peer trickles ICE
 * candidates to the others, and in turn one peer leaves the call and joins it again (new
 * peer id, `call:peer-left`/`peer-joined` for the others). Signals are not durable, so what
 * is counted (sent, received) is a figure, not a criterion: faults drop some by design.
 */
export class CallLoad {
  readonly peers: CallPeer[] = [];
  rejoins = 0;

  constructor(urls: string[], guests: Guest[], roomIds: string[], size: number) {
    roomIds.forEach((roomId, r) => {
      for (let p = 0; p < size; p++) this.peers.push(new CallPeer(urls[(r + p + 1) % urls.length]!, guests[(r * size + p + 7) % guests.length]!, roomId));
    });
  }

  tick(): void {
    for (const p of this.peers) p.signal();
  }

  churnStep(): void {
    const inCall = this.peers.filter((p) => p.inCall && p.socket.connected);
    const p = inCall[Math.floor(Math.random() * inCall.length)];
    if (!p) return;
    this.rejoins++;
    void (async () => {
      await p.leave().catch(() => undefined);
      // Back in, unless the connection went meanwhile (then its reconnect joins).
      for (let attempt = 0; attempt < 10 && p.socket.connected && !p.inCall; attempt++) {
        await new Promise((r) => setTimeout(r, 500));
        await p.join().catch(() => undefined);
      }
    })();
  }

  close(): void {
    for (const p of this.peers) p.socket.close();
  }

  figures() {
    return { peers: this.peers.length, signalsSent: this.peers.reduce((n, p) => n + p.sent, 0), signalsReceived: this.peers.reduce((n, p) => n + p.received, 0), callRejoins: this.rejoins };
  }
}
