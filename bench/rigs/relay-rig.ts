import { LoadRig } from './load-rig.js';
import type { ServerProc } from '../lib/server-proc.js';
import { closeAll, connect, guests, joinCall, rooms } from '../lib/setup.js';
import { connectMany, nowUs, readStamp, type SioClient } from '../lib/sio-client.js';

/**
 * S1 signaling relay: pairs of /rtc peers in call rooms of two; each peer relays offers,
 * answers (~3 KB SDP) and ICE candidates (~250 B) to its partner with `rtc:signal`
 * (no ack: fire-and-forget, as a browser sends candidates). One message in eight is an SDP.
 */

const SDP_BODY = (() => {
  const lines = ['v=0', 'o=- TS!@@@! 2 IN IP4 127.0.0.1', 's=-', 't=0 0', 'a=group:BUNDLE 0 1', 'a=extmap-allow-mixed', 'a=msid-semantic: WMS stream'];
  for (const media of ['audio 9 UDP/TLS/RTP/SAVPF 111 63 9 0 8 13 110 126', 'video 9 UDP/TLS/RTP/SAVPF 96 97 102 103 104 105 106 107 108 109 127 125']) {
    lines.push(`m=${media}`, 'c=IN IP4 0.0.0.0', 'a=rtcp:9 IN IP4 0.0.0.0', 'a=ice-ufrag:EXAMPLE', 'a=ice-pwd:0123456789abcdefghijklmn', 'a=ice-options:trickle');
    lines.push('a=fingerprint:sha-256 AB:CD:EF:01:23:45:67:89:AB:CD:EF:01:23:45:67:89:AB:CD:EF:01:23:45:67:89:AB:CD:EF:01:23:45:67:89', 'a=setup:actpass', 'a=mid:0');
    for (let pt = 96; pt < 112; pt++) lines.push(`a=rtpmap:${pt} VP8/90000`, `a=rtcp-fb:${pt} nack pli`, `a=fmtp:${pt} level-asymmetry-allowed=1;packetization-mode=1`);
  }
  let sdp = lines.join('\r\n') + '\r\n';
  while (sdp.length < 3000) sdp += 'a=x-pad:0123456789abcdef0123456789abcdef\r\n';
  return sdp.slice(0, 3000);
})();
const CANDIDATE = 'candidate:TS!@@@! 1 udp 2122260223 192.168.1.23 54321 typ host generation 0 ufrag EXAMPLE network-id 1 network-cost 10';

interface Peer {
  client: SioClient;
  peerId: string;
  partner: Peer;
  /** [prefix, suffix] around the stamp, per message kind toward the partner. */
  templates: [string, string][];
  n: number;
  inflight: number;
}

function templatesTo(to: string): [string, string][] {
  const split = (o: unknown) => JSON.stringify(o).split('@@@') as [string, string];
  const candidate = split({ to, kind: 'ice-candidate', data: { candidate: CANDIDATE, sdpMid: '0', sdpMLineIndex: 0, usernameFragment: 'EXAMPLE' } });
  const offer = split({ to, kind: 'offer', data: { type: 'offer', sdp: SDP_BODY } });
  const answer = split({ to, kind: 'answer', data: { type: 'answer', sdp: SDP_BODY } });
  // 1 in 8 is an SDP.
  return [offer, candidate, candidate, candidate, answer, candidate, candidate, candidate];
}

export class RelayRig extends LoadRig<Peer> {
  private constructor(
    servers: ServerProc[],
    readonly peers: Peer[],
  ) {
    super(servers);
  }

  /**
   * `pairs` calls; peer A of each pair on `nodesA`'s server, peer B on `nodeB` (the same
   * server unless the cross-node scenario splits them).
   */
  static async create(nodeA: ServerProc, pairs: number, nodeB: ServerProc = nodeA): Promise<RelayRig> {
    const users = await guests(nodeA, pairs * 2);
    const roomIds = await rooms(nodeA, users[0]!, pairs);
    const { ok, errors } = await connectMany(pairs * 2, 50, async (i) => {
      const client = await connect(i % 2 === 0 ? nodeA : nodeB, '/rtc', users[i]!.token);
      const peerId = await joinCall(client, roomIds[Math.floor(i / 2)]!);
      return { i, client, peerId };
    });
    if (errors.length) throw new Error(`relay set-up: ${errors[0]}`);
    ok.sort((a, b) => a.i - b.i);
    const peers: Peer[] = ok.map(({ client, peerId }) => ({ client, peerId, partner: null as unknown as Peer, templates: [], n: 0, inflight: 0 }));
    for (let i = 0; i < peers.length; i += 2) {
      const a = peers[i]!;
      const b = peers[i + 1]!;
      a.partner = b;
      b.partner = a;
      a.templates = templatesTo(b.peerId);
      b.templates = templatesTo(a.peerId);
    }
    const rig = new RelayRig(nodeA === nodeB ? [nodeA] : [nodeA, nodeB], peers);
    for (const peer of peers) {
      peer.client.onEvent = (frame) => rig.onFrame(peer, frame);
    }
    // One acked signal per pair proves the path before anything is measured.
    for (let i = 0; i < peers.length; i += 2) {
      const a = peers[i]!;
      const [pre, post] = a.templates[1]!;
      const ack = await a.client.request('rtc:signal', JSON.parse(pre + '0' + post));
      if (!ack.ok) throw new Error(`rtc:signal refused: ${JSON.stringify(ack)}`);
    }
    return rig;
  }

  private onFrame(peer: Peer, frame: Buffer): void {
    // 42/rtc,["rtc:signal",…]: 'r','t' after the `["`
    const p = peer.client.prefixLength + 2;
    if (frame[p] !== 0x72 || frame[p + 1] !== 0x74) return;
    this.win.receive(readStamp(frame, p));
    const sender = peer.partner;
    if (sender.inflight > 0) sender.inflight--;
    if (this.window > 0 && this.win.running) this.send(sender, nowUs());
  }

  protected send(peer: Peer, stampUs: number): void {
    const [pre, post] = peer.templates[peer.n++ & 7]!;
    peer.inflight++;
    this.win.sent++;
    peer.client.emitRaw('rtc:signal', pre + stampUs + post);
  }

  protected sources(): Peer[] {
    return this.peers;
  }

  protected reset(): void {
    for (const peer of this.peers) peer.inflight = 0;
  }

  protected inFlight(): number {
    return this.peers.reduce((s, p) => s + p.inflight, 0);
  }

  close(): void {
    closeAll(this.peers.map((p) => p.client));
  }
}
