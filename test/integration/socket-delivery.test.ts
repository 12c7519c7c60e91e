import { expect } from 'chai';
import { ask, collect, eventually, next } from '../helpers/socket-client.js';
import { useServer } from '../helpers/test-server.js';
import { roomWithTwo } from './room-with-two.js';

describe('/chat: delivery cursors, redelivery and resync', () => {
  const { server, open } = useServer({ DELIVERY_ACK_TIMEOUT_MS: '200', DELIVERY_MAX_ATTEMPTS: '2' });

  it('a member who comes back without lastSeq gets everything after its acked cursor, on join', async () => {
    const { bob, room, a, b } = await roomWithTwo(server.url, open);
    await ask(a, 'chat:send', { roomId: room.id, clientMsgId: '1', text: 'one' });
    expect((await ask(b, 'chat:ack', { roomId: room.id, seq: 1 })).ok).to.equal(true);
    b.close();
    for (const n of [2, 3, 4]) await ask(a, 'chat:send', { roomId: room.id, clientMsgId: String(n), text: `m${n}` });
    const back = await open(bob.token);
    const join = await ask(back, 'room:join', { roomId: room.id });
    expect(join.messages.map((m: { seq: number }) => m.seq)).to.deep.equal([2, 3, 4]);
    expect(join.complete).to.equal(true);
  });

  it('resends messages a member has not acked within the timeout, until it acks', async () => {
    const { room, a, b } = await roomWithTwo(server.url, open);
    await ask(a, 'chat:send', { roomId: room.id, clientMsgId: '1', text: 'one' });
    await ask(b, 'chat:ack', { roomId: room.id, seq: 1 });
    const seen = collect<{ seq: number }>(b, 'chat:message');
    await ask(a, 'chat:send', { roomId: room.id, clientMsgId: '2', text: 'two' });
    // Delivered live once, then again because B does not ack seq 2.
    await eventually(() => seen.filter((m) => m.seq === 2).length >= 2, 5000, 'redelivery of seq 2');
    await ask(b, 'chat:ack', { roomId: room.id, seq: 2 });
    const count = seen.length;
    await new Promise((r) => setTimeout(r, 700));
    expect(seen.length).to.equal(count);
  });

  it('after the configured attempts, tells the member to resync from history', async () => {
    const { room, a, b } = await roomWithTwo(server.url, open);
    await ask(a, 'chat:send', { roomId: room.id, clientMsgId: '1', text: 'one' });
    await ask(b, 'chat:ack', { roomId: room.id, seq: 1 });
    const resync = next(b, 'chat:resync', () => true, 5000);
    await ask(a, 'chat:send', { roomId: room.id, clientMsgId: '2', text: 'two' });
    expect(await resync).to.deep.equal({ roomId: room.id, fromSeq: 1 });
  });

  it('leaves members that never ack alone (no redelivery without opting in)', async () => {
    const { room, a, b } = await roomWithTwo(server.url, open);
    const seen = collect<{ seq: number }>(b, 'chat:message');
    await ask(a, 'chat:send', { roomId: room.id, clientMsgId: '1', text: 'one' });
    await eventually(() => seen.length === 1);
    await new Promise((r) => setTimeout(r, 700));
    expect(seen.map((m) => m.seq)).to.deep.equal([1]);
  });
});
