import { expect } from 'chai';
import type { ConnectionCounter } from '../../src/ports/realtime.js';

export interface ConnectionCaps {
  perUser: number;
  perIp: number;
}

/**
 * The contract every ConnectionCounter keeps, as the handshake relies on it: a slot per
 * connection (`connId`, the socket id), capped per user and per address, freed by its
 * release. The handshake admits on 'ok', refuses TOO_MANY_CONNECTIONS naming the cap
 * otherwise, and releases once per admitted socket.
 */
export function registerConnectionCounterContract(name: string, open: (caps: ConnectionCaps) => ConnectionCounter | Promise<ConnectionCounter>): void {
  describe(`ConnectionCounter contract: ${name}`, () => {
    it('caps connections per user, whatever their address', async () => {
      const counter = await open({ perUser: 2, perIp: 10 });
      expect(await counter.acquire('u1', 'ip-1', 'c1')).to.equal('ok');
      expect(await counter.acquire('u1', 'ip-2', 'c2')).to.equal('ok');
      expect(await counter.acquire('u1', 'ip-3', 'c3')).to.equal('user');
      expect(await counter.acquire('u2', 'ip-1', 'c4')).to.equal('ok');
    });

    it('caps connections per address, whoever the users', async () => {
      const counter = await open({ perUser: 10, perIp: 2 });
      expect(await counter.acquire('u1', 'ip-1', 'c1')).to.equal('ok');
      expect(await counter.acquire('u2', 'ip-1', 'c2')).to.equal('ok');
      expect(await counter.acquire('u3', 'ip-1', 'c3')).to.equal('ip');
      expect(await counter.acquire('u3', 'ip-2', 'c4')).to.equal('ok');
    });

    it('a refused connection takes no slot of the other cap', async () => {
      const counter = await open({ perUser: 1, perIp: 2 });
      await counter.acquire('u1', 'ip-1', 'c1');
      expect(await counter.acquire('u1', 'ip-1', 'c2')).to.equal('user');
      expect(await counter.acquire('u2', 'ip-1', 'c3')).to.equal('ok');
    });

    it('a release frees the slot, for the user and for the address', async () => {
      const counter = await open({ perUser: 1, perIp: 1 });
      await counter.acquire('u1', 'ip-1', 'c1');
      await counter.release('u1', 'ip-1', 'c1');
      expect(await counter.acquire('u1', 'ip-1', 'c2')).to.equal('ok');
    });

    it('releasing a connection twice frees one slot, not two', async () => {
      const counter = await open({ perUser: 2, perIp: 10 });
      await counter.acquire('u1', 'ip-1', 'c1');
      await counter.acquire('u1', 'ip-1', 'c2');
      await counter.release('u1', 'ip-1', 'c1');
      await counter.release('u1', 'ip-1', 'c1');
      expect(await counter.acquire('u1', 'ip-1', 'c3')).to.equal('ok');
      expect(await counter.acquire('u1', 'ip-1', 'c4')).to.equal('user');
    });

    it('releasing a connection that holds no slot (never acquired, or refused) frees nothing', async () => {
      const counter = await open({ perUser: 1, perIp: 10 });
      await counter.acquire('u1', 'ip-1', 'c1');
      expect(await counter.acquire('u1', 'ip-1', 'refused')).to.equal('user');
      await counter.release('u1', 'ip-1', 'refused');
      await counter.release('u1', 'ip-1', 'unknown');
      expect(await counter.acquire('u1', 'ip-1', 'c2')).to.equal('user');
    });

    it('acquiring again with the same connId holds one slot, which one release frees', async () => {
      const counter = await open({ perUser: 2, perIp: 10 });
      expect(await counter.acquire('u1', 'ip-1', 'c1')).to.equal('ok');
      expect(await counter.acquire('u1', 'ip-1', 'c1')).to.equal('ok');
      expect(await counter.acquire('u1', 'ip-1', 'c2')).to.equal('ok');
      await counter.release('u1', 'ip-1', 'c1');
      expect(await counter.acquire('u1', 'ip-1', 'c3')).to.equal('ok');
      expect(await counter.acquire('u1', 'ip-1', 'c4')).to.equal('user');
    });

    it('caps are one atomic step: of 10 concurrent connections of a user capped at 3, exactly 3 get a slot', async () => {
      const counter = await open({ perUser: 3, perIp: 100 });
      const answers = await Promise.all(Array.from({ length: 10 }, (_, i) => counter.acquire('u1', 'ip-1', `c${i}`)));
      expect(answers.filter((a) => a === 'ok')).to.have.length(3);
      expect(answers.filter((a) => a === 'user')).to.have.length(7);
    });

    it('of 10 concurrent connections from an address capped at 3, exactly 3 get a slot, and the refused ones hold no slot of their user', async () => {
      const counter = await open({ perUser: 1, perIp: 3 });
      const users = Array.from({ length: 10 }, (_, i) => `u${i}`);
      const answers = await Promise.all(users.map((u) => counter.acquire(u, 'ip-1', `c-${u}`)));
      expect(answers.filter((a) => a === 'ok')).to.have.length(3);
      const refused = users.filter((_, i) => answers[i] === 'ip');
      expect(refused).to.have.length(7);
      for (const u of refused) expect(await counter.acquire(u, `ip-of-${u}`, `again-${u}`)).to.equal('ok');
    });
  });
}
