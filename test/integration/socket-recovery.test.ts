import { expect } from 'chai';
import { io, type Socket } from 'socket.io-client';
import { createRoom, guest } from '../helpers/http-client.js';
import { ask, collect, eventually, next } from '../helpers/socket-client.js';
import { startServer, useServer } from '../helpers/test-server.js';

/** A client as apps build it: reconnection on, WebSocket transport. */
function reconnectingClient(url: string, token: string): Socket {
  return io(url + '/chat', {
    path: '/ws',
    transports: ['websocket'],
    auth: { token },
    forceNew: true,
    reconnectionDelay: 50,
    reconnectionDelayMax: 100,
  });
}

describe('/chat: connection-state recovery and rejoin', () => {
  const { server, sockets } = useServer({ RECOVERY_WINDOW_MS: '60000' });

  /** Guests ann and bob on `url`, a room of ann's, and a reconnecting client for each: a and b. */
  async function twoClients(url: string) {
    const ann = await guest(url, 'ann');
    const bob = await guest(url, 'bob');
    const room = await createRoom(url, ann.token);
    const a = reconnectingClient(url, ann.token);
    const b = reconnectingClient(url, bob.token);
    sockets.push(a, b);
    return { room, a, b };
  }

  it('a transport drop recovers the session (recovered === true) and replays the missed message once', async () => {
    const { room, a, b } = await twoClients(server.url);
    await Promise.all([next(a, 'hello'), next(b, 'hello')]);
    await ask(a, 'room:join', { roomId: room.id });
    await ask(b, 'room:join', { roomId: room.id });
    const atB = collect(b, 'chat:message');
    await ask(a, 'chat:send', { roomId: room.id, clientMsgId: 'before', text: 'before the drop' });
    await eventually(() => atB.length === 1, 5000, 'first message');
    const idBefore = b.id;

    // Drop B's transport, send while B is away, and let B reconnect by itself.
    b.io.engine.close();
    await eventually(() => !b.connected, 2000, 'b disconnected');
    const missed = await ask(a, 'chat:send', { roomId: room.id, clientMsgId: 'during', text: 'while you were away' });
    await eventually(() => b.connected, 5000, 'b reconnected');

    expect(b.recovered).to.equal(true);
    expect(b.id).to.equal(idBefore);
    await eventually(() => atB.length === 2, 5000, 'replayed message');
    expect(atB.map((m) => m.seq)).to.deep.equal([1, 2]);
    expect(atB[1]).to.deep.equal(missed.message);
    // Still in the room after recovery: new messages keep coming, exactly once each.
    await ask(a, 'chat:send', { roomId: room.id, clientMsgId: 'after', text: 'after' });
    await eventually(() => atB.length === 3, 5000, 'live message after recovery');
    expect(atB.map((m) => m.seq)).to.deep.equal([1, 2, 3]);
    // Recovery re-ran the auth middleware and restored presence.
    const details = await ask(b, 'chat:history', { roomId: room.id, after: 0 });
    expect(details.messages).to.have.length(3);
  });

  it('past the window a client is not recovered and catches up with lastSeq instead', async () => {
    const short = await startServer({ RECOVERY_WINDOW_MS: '1' });
    try {
      const { room, a, b } = await twoClients(short.url);
      await next(b, 'hello');
      await ask(a, 'room:join', { roomId: room.id });
      await ask(b, 'room:join', { roomId: room.id });
      let lastSeq = 0;
      b.on('chat:message', (m: { seq: number }) => (lastSeq = Math.max(lastSeq, m.seq)));
      await ask(a, 'chat:send', { roomId: room.id, clientMsgId: '1', text: 'one' });
      await eventually(() => lastSeq === 1);

      b.io.engine.close();
      await eventually(() => !b.connected, 2000);
      await ask(a, 'chat:send', { roomId: room.id, clientMsgId: '2', text: 'two' });
      await ask(a, 'chat:send', { roomId: room.id, clientMsgId: '3', text: 'three' });
      await eventually(() => b.connected, 5000);
      expect(b.recovered).to.equal(false);
      const rejoin = await ask(b, 'room:join', { roomId: room.id, lastSeq });
      expect(rejoin.messages.map((m: { text: string }) => m.text)).to.deep.equal(['two', 'three']);
    } finally {
      await short.stop();
    }
  });

  it('a server restart (SIGTERM path) lets clients rejoin with lastSeq and lose nothing acked', async () => {
    const own = await startServer();
    const ann = await guest(own.url, 'ann');
    const room = await createRoom(own.url, ann.token);
    const a = reconnectingClient(own.url, ann.token);
    sockets.push(a);
    await next(a, 'hello');
    await ask(a, 'room:join', { roomId: room.id });
    const acked = [];
    for (let i = 1; i <= 5; i++) acked.push((await ask(a, 'chat:send', { roomId: room.id, clientMsgId: `r${i}`, text: `m${i}` })).message);
    const port = own.port;
    await own.app.stop();
    a.close();

    const again = await startServer({ PORT: String(port) }, { dataDir: own.dataDir });
    try {
      const b = reconnectingClient(again.url, ann.token);
      sockets.push(b);
      await next(b, 'hello');
      const rejoin = await ask(b, 'room:join', { roomId: room.id, lastSeq: 2 });
      expect(rejoin.messages).to.deep.equal(acked.slice(2));
      const sixth = await ask(b, 'chat:send', { roomId: room.id, clientMsgId: 'r6', text: 'm6' });
      expect(sixth.message.seq).to.equal(6);
    } finally {
      await again.stop();
      // `own` was stopped through its app, so that `again` could reuse its data: remove it here.
      await own.stop();
    }
  });
});
