import { expect } from 'chai';
import { createClient } from 'redis';
import { describeWithRedis } from '../helpers/cluster.js';
import { useRedis } from '../helpers/redis-server.js';
import { failureOf, publishFailureLog } from '../../src/infra/redis/resilient-adapter.js';

/**
 * A broadcast whose Redis copy fails reaches this node's sockets only. The failure is counted
 * by reason (`adapter_publish_failures_total{reason}`); these cases pin the reasons to what
 * node-redis really answers, and the log to one line per period.
 */
describe('adapter publish failures', () => {
  describeWithRedis('against a real redis-server', () => {
    const redis = useRedis();

    it('a full command queue (node-redis "The queue is full") is queue_full; a deadline is deadline; anything else error', async () => {
      const client = createClient({ url: redis.server.url, commandsQueueMaxLength: 10 });
      await client.connect();
      try {
        const outcomes = await Promise.allSettled(Array.from({ length: 200 }, (_, i) => client.xAdd('sio:stream', '*', { n: String(i) })));
        const reasons = outcomes.flatMap((o) => (o.status === 'rejected' ? [failureOf(o.reason)] : []));
        expect(reasons.length, 'refused once the queue holds 10').to.be.greaterThan(0);
        expect(new Set(reasons)).to.deep.equal(new Set(['queue_full']));
      } finally {
        await client.close();
      }
      expect(failureOf(new Error('redis publish deadline exceeded'))).to.equal('deadline');
      expect(failureOf(new Error('Socket closed unexpectedly'))).to.equal('error');
      expect(failureOf('not an error')).to.equal('error');
    });
  });

  it('logs at most once per period, with the count of each reason since the last line', async () => {
    const lines: Record<string, unknown>[] = [];
    const log = publishFailureLog((_message, meta) => lines.push(meta), 50);
    log('queue_full');
    log('queue_full');
    log('deadline');
    expect(lines).to.deep.equal([]);
    await new Promise((r) => setTimeout(r, 120));
    log('error');
    await new Promise((r) => setTimeout(r, 120));
    expect(lines).to.deep.equal([{ failures: { queue_full: 2, deadline: 1 } }, { failures: { error: 1 } }]);
  });
});
