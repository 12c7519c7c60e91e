import { expect } from 'chai';
import { createRoom, guest, request } from '../helpers/http-client.js';
import { describeWithRedis, startCluster, type TestCluster } from '../helpers/cluster.js';
import { describeWithMongo } from '../helpers/ferretdb.js';
import { ask, connect, eventually } from '../helpers/socket-client.js';

/**
 * Search across two nodes over Redis. Chat reaches the store through the persistence queue
 * and search reads the store, so a message just acked is found once it is persisted: the
 * test polls for it rather than expecting it at once.
 */
describeWithRedis('cluster: message search across nodes', () => {
  describe('SQLite store', () => twoNodes(() => ({})));
  describeWithMongo('MongoDB store', (target) => twoNodes(() => ({ MONGODB_URI: target.uri() })));
});

/** Two nodes on one Redis and the store `env` names. */
function twoNodes(env: () => Record<string, string>): void {
  let cluster: TestCluster;
  before(async () => {
    cluster = await startCluster(2, env());
  });
  after(async () => {
    await cluster?.stop();
  });

  it('a message sent on node A is found on node B once persisted, ranked; edits and deletes follow; access rules hold there too', async function () {
    this.timeout(30_000);
    const [a, b] = cluster.nodes;
    const ann = await guest(a!.url, 'ann');
    const bob = await guest(b!.url, 'bob');
    const room = await createRoom(a!.url, ann.token, { name: 'ops', isPrivate: true });
    const chat = await connect(a!.url, '/chat', ann.token);
    try {
      await ask(chat, 'room:join', { roomId: room.id });
      for (const [i, text] of ['rollback done', 'rollback rollback now', 'unrelated'].entries()) {
        expect((await ask(chat, 'chat:send', { roomId: room.id, clientMsgId: `c${i}`, text })).ok).to.equal(true);
      }
      const found = async () => (await request(b!.url, 'GET', `/api/messages/search?roomId=${room.id}&q=Rollback`, { token: ann.token })).body.messages ?? [];
      await eventually(async () => (await found()).length === 2, 15_000, 'both messages found on the other node');
      expect((await found()).map((m: { seq: number }) => m.seq)).to.deep.equal([2, 1]);
      // REST on B, searched on A.
      await request(b!.url, 'POST', '/api/messages', { token: ann.token, body: { roomId: room.id, text: 'rollback finished' } });
      await eventually(
        async () => (await request(a!.url, 'GET', `/api/messages/search?roomId=${room.id}&q=finished`, { token: ann.token })).body.messages?.length === 1,
        15_000,
        'the REST message found on node A',
      );
      // An edit on B and a delete on A reach the store through the queue too; then only the current text is found.
      const sent = new Map(((await found()) as { id: string; seq: number }[]).map((m) => [m.seq, m.id]));
      await request(b!.url, 'PATCH', `/api/messages/${sent.get(1)}`, { token: ann.token, body: { text: 'reverted instead' } });
      await request(a!.url, 'DELETE', `/api/messages/${sent.get(2)}`, { token: ann.token });
      const texts = async (words: string) =>
        ((await request(a!.url, 'GET', `/api/messages/search?roomId=${room.id}&q=${words}`, { token: ann.token })).body.messages ?? []).map((m: { text: string }) => m.text);
      await eventually(async () => (await texts('rollback')).join() === 'rollback finished', 15_000, 'the edited and deleted messages no longer found by their old words');
      expect(await texts('reverted')).to.deep.equal(['reverted instead']);
      const outsider = await request(b!.url, 'GET', `/api/messages/search?roomId=${room.id}&q=rollback`, { token: bob.token });
      expect([outsider.status, outsider.body.error.code]).to.deep.equal([403, 'FORBIDDEN']);
    } finally {
      chat.close();
    }
  });
}
