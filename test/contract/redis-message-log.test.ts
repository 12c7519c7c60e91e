import { expect } from 'chai';
import { randomUUID } from 'node:crypto';
import { rmSync } from 'node:fs';
import { ClusterMessageStore } from '../../src/infra/redis/cluster-message-store.js';
import { QueueLayout } from '../../src/infra/redis/queue-layout.js';
import { RedisMessageLog } from '../../src/infra/redis/redis-message-log.js';
import { SqliteStore } from '../../src/infra/sqlite/sqlite-store.js';
import type { AppendResult, NewMessage } from '../../src/ports/store.js';
import { describeWithRedis } from '../helpers/cluster.js';
import { useRedis } from '../helpers/redis-server.js';
import { silentLogger } from '../helpers/silent-logger.js';
import { tempDir } from '../helpers/test-server.js';

const newMessage = (roomId: string, clientMsgId: string | null): NewMessage => ({
  id: randomUUID(),
  roomId,
  senderId: 'u1',
  senderName: 'Ann',
  text: 'hello',
  clientMsgId,
  createdAt: new Date().toISOString(),
});

/** A result that is a message (not a pointer to the store), for the assertions. */
function stored(result: Awaited<ReturnType<RedisMessageLog['append']>>): AppendResult {
  if (!result || 'evicted' in result) throw new Error(`expected a message, got ${JSON.stringify(result)}`);
  return result;
}

/** The cluster's append step as a retried send sees it: one record per clientMsgId, and where it was stored. */
describeWithRedis('RedisMessageLog: idempotency records', () => {
  const redis = useRedis();
  const layout = new QueueLayout(4);
  const nodeA = () => new RedisMessageLog(redis.client, layout, 100, 10_000, 'node-a');
  const nodeB = () => new RedisMessageLog(redis.client, layout, 100, 10_000, 'node-b');
  let roomId: string;
  beforeEach(async () => {
    roomId = randomUUID();
    await nodeA().seed(roomId, 0);
  });

  it('a retry returns the original: on the node that stored it without a second fan-out, on another node with one', async () => {
    const first = stored(await nodeA().append(newMessage(roomId, 'c1')));
    expect(first).to.include({ created: true, deliverAgain: false });
    expect(first.message).to.include({ seq: 1, clientMsgId: 'c1', text: 'hello' });
    expect(stored(await nodeA().append(newMessage(roomId, 'c1')))).to.deep.equal({ created: false, deliverAgain: false, message: first.message });
    expect(stored(await nodeB().append(newMessage(roomId, 'c1')))).to.deep.equal({ created: false, deliverAgain: true, message: first.message });
    expect(await nodeB().findByClientMsgId(roomId, 'c1')).to.deep.equal(first.message);
    expect(await nodeA().currentSeq(roomId)).to.equal(1);
  });

  it('the message is written to the log and the queue only: the record holds the node and the seq', async () => {
    await nodeA().append(newMessage(roomId, 'c2'));
    expect(await redis.client.exists(`${layout.room(roomId).idempotency('c2')}:node`)).to.equal(0);
    expect(await redis.client.get(layout.room(roomId).idempotency('c2'))).to.equal('node-a\n1');
  });

  it("reads a record of the previous release (the JSON alone, the node in a ':node' key beside it)", async () => {
    const json = JSON.stringify({ ...newMessage(roomId, 'old'), seq: 7 });
    await redis.client.set(layout.room(roomId).idempotency('old'), json);
    await redis.client.set(`${layout.room(roomId).idempotency('old')}:node`, 'node-a');
    expect((await nodeA().findByClientMsgId(roomId, 'old'))?.seq).to.equal(7);
    expect(stored(await nodeA().append(newMessage(roomId, 'old')))).to.deep.include({ created: false, deliverAgain: false });
    expect(stored(await nodeB().append(newMessage(roomId, 'old')))).to.deep.include({ created: false, deliverAgain: true });
    expect(await nodeA().currentSeq(roomId)).to.equal(0);
  });

  it('a counter lost on its own (evicted, deleted) is seeded past the recent log, not behind it', async () => {
    for (const id of ['s1', 's2', 's3']) stored(await nodeA().append(newMessage(roomId, id)));
    await redis.client.del(layout.room(roomId).seq);
    expect(await nodeA().append(newMessage(roomId, 's4'))).to.equal(null);
    // The store knows seq 1 only (its queue is behind): the log's seq 3 is the floor.
    await nodeA().seed(roomId, 1);
    expect(stored(await nodeA().append(newMessage(roomId, 's4'))).message.seq).to.equal(4);
  });

  describe('a retry of a message that has left the recent log', () => {
    let dir: string;
    let store: SqliteStore;
    before(() => {
      dir = tempDir('vcs-message-log-');
      store = new SqliteStore({ dataDir: dir });
    });
    after(async () => {
      await store?.close();
      if (dir) rmSync(dir, { recursive: true, force: true });
    });

    it('gets the original from the store, or UNAVAILABLE while the store has not got it yet; never a second message', async () => {
      await store.createRoom({ id: roomId, name: 'r', isPrivate: false, maxParticipants: 8, createdBy: 'u1', createdAt: new Date().toISOString() });
      const cluster = new ClusterMessageStore(nodeB(), store, silentLogger);
      const first = await cluster.append(newMessage(roomId, 'c3'));
      // Trimmed out of the log by newer messages (MAXLEN), before the queue reached the store.
      await redis.client.xTrim(layout.room(roomId).log, 'MAXLEN', 0);
      const retry = await nodeA().append(newMessage(roomId, 'c3'));
      expect(retry).to.deep.equal({ evicted: true, seq: 1, originNode: 'node-b' });
      expect(await nodeA().findByClientMsgId(roomId, 'c3')).to.equal(null);
      const early = await new ClusterMessageStore(nodeA(), store, silentLogger).append(newMessage(roomId, 'c3')).catch((err: Error & { code?: string }) => err.code);
      expect(early).to.equal('UNAVAILABLE');
      await store.insertAssigned([first.message]);
      const late = await new ClusterMessageStore(nodeA(), store, silentLogger).append(newMessage(roomId, 'c3'));
      expect(late).to.deep.equal({ created: false, deliverAgain: true, message: first.message });
      expect(await nodeA().currentSeq(roomId)).to.equal(1);
    });
  });
});
