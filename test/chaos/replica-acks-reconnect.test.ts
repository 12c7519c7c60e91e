import { expect } from 'chai';
import { AppError } from '../../src/domain/app-error.js';
import { connectRedis, type RedisClient } from '../../src/infra/redis/redis-client.js';
import { ReplicaAcks } from '../../src/infra/redis/replica-acks.js';
import { describeWithRedis } from '../helpers/cluster.js';
import { TestRedisSentinel } from '../helpers/redis-sentinel.js';
import { targetOf } from '../helpers/redis-topology.js';
import { silentLogger } from '../helpers/silent-logger.js';

/**
 * WAIT counts the writes of the connection it runs on. A Sentinel client whose connection
 * drops does not fail the command in flight: it reconnects and sends it again, where a WAIT
 * has no writes to wait for and answers at once. An append made on the old connection must
 * then not be acked as held by the replicas (REDIS_MIN_REPLICAS_ACK).
 */
describeWithRedis('REDIS_MIN_REPLICAS_ACK: a WAIT resent on a new connection confirms nothing', function () {
  this.timeout(40_000);
  const sentinel = new TestRedisSentinel({ replicas: 1 });
  let client: RedisClient | null = null;

  before(async () => {
    await sentinel.start();
    client = await connectRedis(targetOf(sentinel.env), silentLogger, 'appends', { socketDeadline: true });
  });
  after(async () => {
    for (const s of sentinel.servers) s.resume();
    await client?.destroy();
    await sentinel.stop();
  });

  it('the appends connection killed while its WAIT blocks: the confirm is refused UNAVAILABLE, not acked', async () => {
    const master = await sentinel.master();
    const replica = sentinel.servers.find((s) => s !== master)!;
    const acks = new ReplicaAcks(client!, 1);
    // A replica that takes nothing: the WAIT blocks for its 1 s.
    replica.pause();
    await client!.set('appended', 'on the first connection');
    const confirmed = acks.confirm('appended').then(
      () => 'acked',
      (err: unknown) => err,
    );
    await new Promise((r) => setTimeout(r, 200));
    const list = String(await sentinel.ask(master.port, (c) => c.sendCommand(['CLIENT', 'LIST'])));
    const ids = list.split('\n').filter((l) => l.includes('name=vcs-appends')).map((l) => /id=(\d+)/.exec(l)![1]!);
    expect(ids, 'the appends connection on the master').to.have.length.greaterThan(0);
    for (const id of ids) await sentinel.ask(master.port, (c) => c.sendCommand(['CLIENT', 'KILL', 'ID', id]));
    replica.resume();
    const outcome = await confirmed;
    expect(outcome, 'a WAIT answered on the new connection must not ack').to.be.instanceOf(AppError);
    expect((outcome as AppError).code).to.equal('UNAVAILABLE');
    // The client is usable again, and a confirm made now is acked.
    await client!.set('appended', 'on the new connection');
    await acks.confirm('appended');
  });
});
