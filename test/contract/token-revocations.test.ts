import { expect } from 'chai';
import { randomUUID } from 'node:crypto';
import { rmSync, writeFileSync } from 'node:fs';
import { join } from 'node:path';
import { FileTokenRevocations } from '../../src/infra/file-token-revocations.js';
import { keys } from '../../src/infra/redis/redis-keys.js';
import { RedisTokenRevocations } from '../../src/infra/redis/redis-token-revocations.js';
import type { TokenRevocations } from '../../src/ports/token-revocations.js';
import { describeWithRedis } from '../helpers/cluster.js';
import { useRedis } from '../helpers/redis-server.js';
import { silentLogger } from '../helpers/silent-logger.js';
import { eventually } from '../helpers/socket-client.js';
import { tempDir } from '../helpers/test-server.js';
import { registerTokenRevocationsContract } from './token-revocations-contract.js';

registerTokenRevocationsContract('file (embedded mode)', async () => {
  const dir = tempDir('vcs-revocations-');
  const file = join(dir, 'token-revocations.json');
  return {
    node: async () => {
      const n = new FileTokenRevocations(file);
      await n.start();
      return n;
    },
    close: async () => rmSync(dir, { recursive: true, force: true }),
  };
});

describe('FileTokenRevocations', () => {
  it('refuses to start on a file it cannot read, rather than forget every revocation', async () => {
    const dir = tempDir('vcs-revocations-');
    try {
      const file = join(dir, 'token-revocations.json');
      writeFileSync(file, '{"u1": 17');
      let failed = false;
      await new FileTokenRevocations(file).start().catch(() => (failed = true));
      expect(failed).to.equal(true);
    } finally {
      rmSync(dir, { recursive: true, force: true });
    }
  });
});

describeWithRedis('TokenRevocations in Redis', () => {
  const redis = useRedis();
  const open = async (resyncMs?: number, sharded = false): Promise<TokenRevocations> => {
    const n = new RedisTokenRevocations(redis.client, await redis.connect('revocations-sub'), silentLogger, { resyncMs, sharded });
    await n.start();
    return n;
  };

  registerTokenRevocationsContract('Redis (cluster mode)', async () => ({ node: () => open(), close: async () => {} }));

  describe('across nodes', () => {
    const nodes: TokenRevocations[] = [];
    afterEach(async () => {
      for (const n of nodes.splice(0)) await n.stop();
    });

    for (const sharded of [false, true]) {
      it(`another running node hears a revocation through ${sharded ? 'sharded ' : ''}pub/sub, long before its periodic check`, async () => {
        const [a, b] = [await open(60_000, sharded), await open(60_000, sharded)];
        nodes.push(a, b);
        await a.revoke('u1', 1_700_000_000);
        await eventually(() => b.revokedThrough('u1') === 1_700_000_000, 1000, 'node b applied the revocation');
      });
    }

    it('a node that missed the announcement catches up at its next check (the version moved)', async () => {
      const b = await open(100);
      nodes.push(b);
      // What a node cut off from pub/sub misses: the revocation stored, nothing published.
      await redis.client.hSet(keys.tokenRevocations, 'u1', '1700000000');
      await redis.client.set(keys.tokenRevocationsVersion, randomUUID());
      await eventually(() => b.revokedThrough('u1') === 1_700_000_000, 2000, 'node b reloaded');
    });

    it('never un-revokes: a reload from a Redis that lost the entry keeps what the node knew', async () => {
      const b = await open(100);
      nodes.push(b);
      await b.revoke('u1', 1_700_000_000);
      // Redis lost its data, then another node revoked u2 (its announcement lost as well).
      await redis.client.flushAll();
      await redis.client.hSet(keys.tokenRevocations, 'u2', '1700000001');
      await redis.client.set(keys.tokenRevocationsVersion, randomUUID());
      await eventually(() => b.revokedThrough('u2') === 1_700_000_001, 2000, 'node b reloaded');
      expect(b.revokedThrough('u1')).to.equal(1_700_000_000);
    });

    it('keeps answering from memory while Redis is down, and resyncs when it is back', async function () {
      this.timeout(30_000);
      const b = await open(100);
      nodes.push(b);
      await b.revoke('u1', 1_700_000_000);
      await redis.server.kill();
      expect(b.revokedThrough('u1')).to.equal(1_700_000_000);
      let failed: unknown = null;
      await b.revoke('u2', 1_700_000_001).catch((err: unknown) => (failed = err));
      expect((failed as { code?: string } | null)?.code).to.equal('UNAVAILABLE');
      await redis.server.start();
      await eventually(() => redis.client.isReady, 10_000, 'client reconnected');
      // Another node revoked while this one was cut off; its message may be lost, the version is not.
      await redis.client.hSet(keys.tokenRevocations, 'u3', '1700000002');
      await redis.client.set(keys.tokenRevocationsVersion, randomUUID());
      await eventually(() => b.revokedThrough('u3') === 1_700_000_002, 10_000, 'node b caught up');
      expect(b.revokedThrough('u1')).to.equal(1_700_000_000);
    });
  });
});
