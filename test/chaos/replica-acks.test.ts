import { expect } from 'chai';
import { createClient } from 'redis';
import type { Socket } from 'socket.io-client';
import { QueueLayout } from '../../src/infra/redis/queue-layout.js';
import { describeWithRedis } from '../helpers/cluster.js';
import { createRoom, guest, scrapeMetrics } from '../helpers/http-client.js';
import { TestRedis } from '../helpers/redis-server.js';
import { ask, connect, eventually } from '../helpers/socket-client.js';
import { startServer, type TestServer } from '../helpers/test-server.js';
import { ChatSender } from '../helpers/traffic.js';

const LIMITS = { RATE_LIMIT_MESSAGES: '100000', RATE_LIMIT_EVENTS: '100000' };

/**
 * REDIS_MIN_REPLICAS_ACK=1 on a master with one replica: an ack means the replica holds the
 * message, so losing the master (SIGKILL, right after the acks) loses nothing acked; without
 * a replica in time the sender gets UNAVAILABLE and its retry succeeds once it is back. The
 * queue consumer stores only what the replica holds too.
 */
describeWithRedis('REDIS_MIN_REPLICAS_ACK: an ack the replica holds', function () {
  this.timeout(40_000);
  let master: TestRedis;
  let replica: TestRedis;
  let node: TestServer;
  let socket: Socket;
  let roomId: string;

  before(async () => {
    master = new TestRedis({ aof: true });
    await master.start();
    // AOF on the replica too: the second test restarts it on what it had taken in.
    replica = new TestRedis({ replicaOf: master, aof: true });
    await replica.start();
    const probe = createClient({ url: replica.url });
    await probe.connect();
    await eventually(async () => (await probe.info('replication')).includes('master_link_status:up'), 10_000, 'replica in sync');
    await probe.close();
    node = await startServer({ REDIS_URL: master.url, REDIS_MIN_REPLICAS_ACK: '1', ...LIMITS });
    const ann = await guest(node.url, 'ann');
    roomId = (await createRoom(node.url, ann.token)).id;
    socket = await connect(node.url, '/chat', ann.token);
    await ask(socket, 'room:join', { roomId });
  });
  after(async () => {
    socket?.close();
    replica?.resume();
    await node?.stop();
    await replica?.stop();
    await master?.stop();
  });

  it('with the replica hung, a send answers UNAVAILABLE within the bound; its retry is acked once the replica is back', async () => {
    replica.pause();
    const started = Date.now();
    const refused = await ask(socket, 'chat:send', { roomId, clientMsgId: 'while-hung', text: 'x' }, 5000);
    replica.resume();
    expect(refused.ok).to.equal(false);
    expect(refused.error.code).to.equal('UNAVAILABLE');
    expect(refused.error.message).to.match(/REDIS_MIN_REPLICAS_ACK/);
    expect(Date.now() - started).to.be.below(3000);
    await eventually(async () => (await ask(socket, 'chat:send', { roomId, clientMsgId: 'while-hung', text: 'x' }, 5000)).ok === true, 10_000, 'retry acked');
    const again = await ask(socket, 'chat:send', { roomId, clientMsgId: 'while-hung', text: 'x' });
    expect(again.message.seq).to.equal(1);
  });

  it('refused sends do not keep the node cut off Redis after an outage: the breaker closes once Redis answers, and a join succeeds', async () => {
    const bob = await guest(node.url, 'bob');
    const other = await connect(node.url, '/chat', bob.token);
    const redisBreaker = async () => [...(await scrapeMetrics(node.url))].find(([k]) => k.startsWith('circuit_breaker_state{') && k.includes('dependency="redis"'))?.[1];
    replica.pause();
    try {
      // An outage opens the Redis breaker: the master hangs, sends time out.
      master.pause();
      let n = 0;
      await eventually(
        async () => {
          await Promise.all([1, 2, 3, 4, 5].map(() => ask(socket, 'chat:send', { roomId, clientMsgId: `outage-${++n}`, text: 'x' }, 5000)));
          return (await redisBreaker()) === 2;
        },
        20_000,
        'the Redis breaker open while the master hangs',
      );
      master.resume();
      // Redis answers again, but the replica still hangs: every send is refused, each after
      // its WAIT. Those refusals are the sends' own, not Redis's: once the breaker has tried
      // Redis again (it half-opens after 2 s), it must stay closed through them.
      await eventually(
        async () => {
          const r = await ask(socket, 'chat:send', { roomId, clientMsgId: `after-${++n}`, text: 'x' }, 5000);
          return r.ok === false && /REDIS_MIN_REPLICAS_ACK/.test(r.error.message);
        },
        10_000,
        'a send refused for want of the replica',
      );
      for (let i = 0; i < 3; i++) {
        const refused = await ask(socket, 'chat:send', { roomId, clientMsgId: `after-${++n}`, text: 'x' }, 5000);
        expect(refused.ok === false && refused.error.message).to.match(/REDIS_MIN_REPLICAS_ACK/);
      }
      expect(await redisBreaker(), 'the Redis breaker (0: closed)').to.equal(0);
      const joined = await ask(other, 'room:join', { roomId });
      expect(joined.ok, JSON.stringify(joined.error)).to.equal(true);
    } finally {
      master.resume();
      replica.resume();
      other.close();
    }
  });

  it('every acked message, and every stored one, is on the replica: the master SIGKILLed while the replica lagged behind it', async () => {
    const senders = [0, 1, 2].map((i) => new ChatSender(socket, roomId, `s${i}`));
    let stop = false;
    const running = senders.map((s) => s.run(() => stop));
    const acked = () => senders.flatMap((s) => [...s.acked.values()]);
    await eventually(() => acked().length >= 20, 10_000, '20 acks');
    // Stored too (the consumer may still be backing off from the first test's hung replica),
    // so that the store's check below has something to hold.
    const storedSeqs = async () => (await node.app.store.listMessages(roomId, { after: 0, limit: 100_000 })).messages.map((m) => m.seq);
    await eventually(async () => (await storedSeqs()).length >= 20, 15_000, '20 stored');
    // The replica stops taking the stream: without the wait, the master would ack what only it holds.
    replica.pause();
    const refusals = () => senders.reduce((n, s) => n + (s.errors.get('UNAVAILABLE') ?? 0), 0);
    await eventually(() => refusals() > 0, 10_000, 'a send refused while the replica lags');
    // The refused sends are in the master's queue: time for the consumer to take them (it
    // reads every 20 ms under traffic), which it must not store while the replica lacks them.
    await new Promise((r) => setTimeout(r, 500));
    // What the master sent the hung replica waits in the replica's socket, unread: killing
    // it loses that, as a promoted replica never had it. Restarted, it holds what it took in.
    await replica.kill();
    await master.kill();
    await replica.start();
    stop = true;
    await Promise.all(running);
    const reader = createClient({ url: replica.url });
    await reader.connect();
    try {
      const log = (await reader.xRange(new QueueLayout(16).room(roomId).log, '-', '+')) ?? [];
      const onReplica = new Set(log.map((e) => Number(e.id.split('-')[0])));
      expect(acked().length).to.be.at.least(20);
      expect(acked().filter((seq) => !onReplica.has(seq)), 'acked seqs missing on the replica').to.deep.equal([]);
      // Nor is anything stored that the replica lacks (the sends refused while it hung): a
      // promoted replica would hand those seqs out again, to the retries or to other messages.
      expect((await storedSeqs()).filter((seq) => !onReplica.has(seq)), 'stored seqs missing on the replica').to.deep.equal([]);
    } finally {
      await reader.close();
    }
  });
});
