import { expect } from 'chai';
import type { Presence } from '../../src/ports/realtime.js';

/**
 * The contract every Presence keeps, as `/chat` relies on it: `room:presence` is announced
 * once per user (on the first socket's join and the last socket's leave), and the
 * participant list a join answers names each user once.
 */
export function registerPresenceContract(name: string, open: () => Presence | Promise<Presence>): void {
  describe(`Presence contract: ${name}`, () => {
    let presence: Presence;
    beforeEach(async () => {
      presence = await open();
    });
    const ann = { userId: 'u-ann', name: 'Ann' };
    const bob = { userId: 'u-bob', name: 'Bob' };

    it("join is true only for the user's first socket in the room, and again in another room", async () => {
      expect(await presence.join('r1', 's1', ann)).to.equal(true);
      expect(await presence.join('r1', 's2', ann)).to.equal(false);
      expect(await presence.join('r1', 's3', bob)).to.equal(true);
      expect(await presence.join('r2', 's1', ann)).to.equal(true);
    });

    it("leave answers the participant only on the user's last socket", async () => {
      await presence.join('r1', 's1', ann);
      await presence.join('r1', 's2', ann);
      expect(await presence.leave('r1', 's1')).to.equal(null);
      expect(await presence.leave('r1', 's2')).to.deep.equal(ann);
      // Back after leaving: announced again.
      expect(await presence.join('r1', 's3', ann)).to.equal(true);
    });

    it('lists each user once, as {userId, name}, and forgets a user whose sockets all left', async () => {
      expect(await presence.list('r1')).to.deep.equal([]);
      await presence.join('r1', 's1', ann);
      await presence.join('r1', 's2', ann);
      await presence.join('r1', 's3', bob);
      expect(sortByUser(await presence.list('r1'))).to.deep.equal([ann, bob]);
      await presence.leave('r1', 's1');
      expect(sortByUser(await presence.list('r1'))).to.deep.equal([ann, bob]);
      await presence.leave('r1', 's2');
      expect(await presence.list('r1')).to.deep.equal([bob]);
    });

    it('keeps rooms apart', async () => {
      await presence.join('r1', 's1', ann);
      await presence.join('r2', 's2', bob);
      expect(await presence.leave('r2', 's1')).to.equal(null);
      expect(await presence.list('r1')).to.deep.equal([ann]);
      expect(await presence.list('r2')).to.deep.equal([bob]);
    });

    it('a leave of a socket that is not there answers null and changes nothing', async () => {
      expect(await presence.leave('nowhere', 's1')).to.equal(null);
      await presence.join('r1', 's1', ann);
      expect(await presence.leave('r1', 'unknown')).to.equal(null);
      expect(await presence.list('r1')).to.deep.equal([ann]);
      expect(await presence.leave('r1', 's1')).to.deep.equal(ann);
      expect(await presence.leave('r1', 's1')).to.equal(null);
    });

    it('a socket that joins twice (a recovered session) counts once: one leave takes it out', async () => {
      expect(await presence.join('r1', 's1', ann)).to.equal(true);
      expect(await presence.join('r1', 's1', ann)).to.equal(false);
      expect(await presence.leave('r1', 's1')).to.deep.equal(ann);
      expect(await presence.list('r1')).to.deep.equal([]);
    });

    it('announces a user once when several of their sockets join or leave at the same time', async () => {
      const sockets = ['s1', 's2', 's3', 's4', 's5'];
      const joins = await Promise.all(sockets.map((s) => presence.join('r1', s, ann)));
      expect(joins.filter(Boolean)).to.have.length(1);
      const leaves = await Promise.all(sockets.map((s) => presence.leave('r1', s)));
      expect(leaves.filter((p) => p !== null)).to.deep.equal([ann]);
      expect(await presence.list('r1')).to.deep.equal([]);
    });
  });
}

export const sortByUser = <T extends { userId: string }>(list: T[]) => [...list].sort((a, b) => a.userId.localeCompare(b.userId));
