import { expect } from 'chai';
import type { CallPeer } from '../../src/protocol/models.js';
import type { CallRegistry } from '../../src/ports/realtime.js';

const NO_MEDIA = { audio: false, video: false, screen: false };

/** A peer as `/rtc` makes one: its socket id, its user, its media state. */
export const callPeer = (peerId: string): CallPeer => ({ peerId, userId: `user-of-${peerId}`, name: `Name ${peerId}`, media: { ...NO_MEDIA } });

const peerIds = (outcome: Awaited<ReturnType<CallRegistry['join']>>) => (outcome.joined ? outcome.peers.map((p) => p.peerId).sort() : null);

/**
 * The contract every CallRegistry keeps, as `/rtc` relies on it: a join answers the peers
 * already there (the joiner offers to each), a full call refuses atomically, `inCall`
 * decides whether a signal may reach a peer, and a leave says whether to announce it.
 */
export function registerCallRegistryContract(name: string, open: () => CallRegistry | Promise<CallRegistry>): void {
  describe(`CallRegistry contract: ${name}`, () => {
    let calls: CallRegistry;
    beforeEach(async () => {
      calls = await open();
    });

    it('a join answers the peers already in the call (the joiner offers to each)', async () => {
      expect(await calls.join('r1', callPeer('p1'), 4)).to.deep.equal({ joined: true, peers: [] });
      expect(await calls.join('r1', callPeer('p2'), 4)).to.deep.equal({ joined: true, peers: [callPeer('p1')] });
      expect(peerIds(await calls.join('r1', callPeer('p3'), 4))).to.deep.equal(['p1', 'p2']);
    });

    it('inCall is true for a peer in that call only: not in another call, never for a peer in none', async () => {
      await calls.join('r1', callPeer('p1'), 4);
      await calls.join('r2', callPeer('p2'), 4);
      expect(await calls.inCall('r1', 'p1')).to.equal(true);
      expect(await calls.inCall('r2', 'p2')).to.equal(true);
      expect(await calls.inCall('r2', 'p1')).to.equal(false);
      expect(await calls.inCall('r1', 'nobody')).to.equal(false);
      expect(await calls.inCall('nowhere', 'p1')).to.equal(false);
    });

    it('a full call refuses ROOM_FULL, and the refused peer is in no call', async () => {
      await calls.join('r1', callPeer('p1'), 2);
      await calls.join('r1', callPeer('p2'), 2);
      expect(await calls.join('r1', callPeer('p3'), 2)).to.deep.equal({ joined: false, reason: 'ROOM_FULL' });
      expect(await calls.inCall('r1', 'p3')).to.equal(false);
      expect(peerIds(await calls.join('r1', callPeer('p1'), 2))).to.deep.equal(['p2']);
    });

    it('capacity is one atomic step: of 10 concurrent joins into a call of 4, exactly 4 get in', async () => {
      const ids = Array.from({ length: 10 }, (_, i) => `p${i}`);
      const outcomes = await Promise.all(ids.map((id) => calls.join('r1', callPeer(id), 4)));
      const admitted = ids.filter((_, i) => outcomes[i]!.joined);
      expect(admitted).to.have.length(4);
      expect(outcomes.filter((o) => !o.joined)).to.deep.equal(Array(6).fill({ joined: false, reason: 'ROOM_FULL' }));
      expect(peerIds(await calls.join('r1', callPeer('late'), 10))).to.deep.equal(admitted.sort());
    });

    it('a peer already in a full call may join it again (a retried call:join), without counting twice', async () => {
      await calls.join('r1', callPeer('p1'), 2);
      await calls.join('r1', callPeer('p2'), 2);
      expect(await calls.join('r1', callPeer('p1'), 2)).to.deep.equal({ joined: true, peers: [callPeer('p2')] });
      expect(await calls.leave('r1', 'p1')).to.equal(true);
      expect(await calls.join('r1', callPeer('p3'), 2)).to.deep.equal({ joined: true, peers: [callPeer('p2')] });
    });

    it('peers lists everyone in the call, and nobody once they left', async () => {
      await calls.join('r1', callPeer('p1'), 4);
      await calls.join('r1', callPeer('p2'), 4);
      await calls.join('r2', callPeer('p3'), 4);
      expect((await calls.peers('r1')).sort((a, b) => a.peerId.localeCompare(b.peerId))).to.deep.equal([callPeer('p1'), callPeer('p2')]);
      await calls.leave('r1', 'p1');
      await calls.leave('r1', 'p2');
      expect(await calls.peers('r1')).to.deep.equal([]);
      expect(await calls.peers('nowhere')).to.deep.equal([]);
    });

    it('capacity counts per call', async () => {
      await calls.join('r1', callPeer('p1'), 1);
      expect((await calls.join('r2', callPeer('p2'), 1)).joined).to.equal(true);
    });

    it('leave is true once for a peer in the call, frees its place and takes it out of the call', async () => {
      await calls.join('r1', callPeer('p1'), 1);
      expect(await calls.leave('r1', 'p1')).to.equal(true);
      expect(await calls.leave('r1', 'p1')).to.equal(false);
      expect(await calls.inCall('r1', 'p1')).to.equal(false);
      expect(await calls.join('r1', callPeer('p2'), 1)).to.deep.equal({ joined: true, peers: [] });
    });

    it('leave is false for an unknown peer or call, and a leave of another call changes nothing', async () => {
      expect(await calls.leave('nowhere', 'nobody')).to.equal(false);
      await calls.join('r1', callPeer('p1'), 4);
      expect(await calls.leave('r1', 'nobody')).to.equal(false);
      expect(await calls.leave('r2', 'p1')).to.equal(false);
      expect(await calls.inCall('r1', 'p1')).to.equal(true);
      expect(peerIds(await calls.join('r1', callPeer('p2'), 4))).to.deep.equal(['p1']);
    });

    it('setMedia shows in the peers a later join answers', async () => {
      await calls.join('r1', callPeer('p1'), 4);
      const media = { audio: true, video: false, screen: true };
      await calls.setMedia('r1', 'p1', media);
      expect(await calls.join('r1', callPeer('p2'), 4)).to.deep.equal({ joined: true, peers: [{ ...callPeer('p1'), media }] });
    });

    it('setMedia keeps the rest of the peer exactly (quotes, slashes, markup, non-BMP characters)', async () => {
      const odd = { ...callPeer('p1'), name: 'Zoë "Z" </b> \\ 😀' };
      await calls.join('r1', odd, 4);
      await calls.setMedia('r1', 'p1', { audio: true, video: true, screen: false });
      expect(await calls.join('r1', callPeer('p2'), 4)).to.deep.equal({ joined: true, peers: [{ ...odd, media: { audio: true, video: true, screen: false } }] });
    });

    it('setMedia of a peer that is not in the call adds nothing', async () => {
      await calls.setMedia('r1', 'ghost', { audio: true, video: true, screen: false });
      expect(await calls.join('r1', callPeer('p1'), 1)).to.deep.equal({ joined: true, peers: [] });
      expect(await calls.inCall('r1', 'ghost')).to.equal(false);
    });

    it('setMedia racing the same peer’s leave (media change, then disconnect) does not bring the peer back', async () => {
      await calls.join('r1', callPeer('p1'), 1);
      await Promise.all([calls.setMedia('r1', 'p1', { audio: true, video: true, screen: false }), calls.leave('r1', 'p1')]);
      expect(await calls.join('r1', callPeer('p2'), 1)).to.deep.equal({ joined: true, peers: [] });
    });
  });
}
