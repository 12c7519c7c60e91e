import { expect } from 'chai';
import type { TokenRevocations } from '../../src/ports/token-revocations.js';

export interface RevocationsFixture {
  /** A started node's revocations over the fixture's persistence: a second call is another node, or the same one after a restart. */
  node(): Promise<TokenRevocations>;
  close(): Promise<void>;
}

/**
 * The contract of a TokenRevocations, as TokenService relies on it: a synchronous answer on
 * the node that revoked as soon as `revoke` resolves, only ever moving forward, per user, and
 * kept across a restart.
 */
export function registerTokenRevocationsContract(name: string, open: () => Promise<RevocationsFixture>): void {
  describe(`TokenRevocations contract: ${name}`, () => {
    let f: RevocationsFixture;
    const started: TokenRevocations[] = [];
    const node = async () => {
      const n = await f.node();
      started.push(n);
      return n;
    };
    beforeEach(async () => {
      f = await open();
    });
    afterEach(async () => {
      for (const n of started.splice(0)) await n.stop();
      await f.close();
    });

    it('knows no revocation at first', async () => {
      expect((await node()).revokedThrough('u1')).to.equal(null);
    });

    it('answers a revocation on the revoking node as soon as revoke resolves', async () => {
      const a = await node();
      await a.revoke('u1', 1_700_000_000);
      expect(a.revokedThrough('u1')).to.equal(1_700_000_000);
      expect(a.revokedThrough('u2')).to.equal(null);
    });

    it('moves forward, never back', async () => {
      const a = await node();
      await a.revoke('u1', 1_700_000_010);
      await a.revoke('u1', 1_700_000_005);
      expect(a.revokedThrough('u1')).to.equal(1_700_000_010);
      await a.revoke('u1', 1_700_000_020);
      expect(a.revokedThrough('u1')).to.equal(1_700_000_020);
    });

    it('keeps revocations across a restart, every user of them', async () => {
      const a = await node();
      await a.revoke('u1', 1_700_000_000);
      await a.revoke('guest_7f3c', 1_700_000_001);
      await a.stop();
      const restarted = await node();
      expect(restarted.revokedThrough('u1')).to.equal(1_700_000_000);
      expect(restarted.revokedThrough('guest_7f3c')).to.equal(1_700_000_001);
      expect(restarted.revokedThrough('u3')).to.equal(null);
    });

    it('takes user ids as opaque strings', async () => {
      const a = await node();
      const odd = 'user with spaces, "quotes", üñí and : colons';
      await a.revoke(odd, 1_700_000_000);
      await a.stop();
      expect((await node()).revokedThrough(odd)).to.equal(1_700_000_000);
    });
  });
}
