import { expect } from 'chai';
import { createRoom, guest } from '../helpers/http-client.js';
import { ask, connect, next } from '../helpers/socket-client.js';
import { useServer } from '../helpers/test-server.js';

/**
 * After a server-side disconnect, which Socket.IO keeps no session for, the client cannot
 * get back an earlier session by presenting its id again (embedded mode; the Redis Streams
 * adapter deletes a session as it restores it).
 */
describe('connection-state recovery: no session survives a server-side disconnect', () => {
  const { server, sockets } = useServer();

  it('a recovered client disconnected by the server is not recovered again into its old session', async () => {
    const ann = await guest(server.url, 'Ann');
    const room = await createRoom(server.url, ann.token);
    const chat = await connect(server.url, '/chat', ann.token);
    sockets.push(chat);
    await ask(chat, 'room:join', { roomId: room.id });
    const dropped = next(chat, 'disconnect');
    chat.io.engine.close();
    await dropped;
    chat.connect();
    await next(chat, 'connect');
    expect(chat.recovered, 'a transport drop is recovered').to.equal(true);

    const closed = next<string>(chat, 'disconnect');
    server.app.io.of('/chat').in(chat.id!).disconnectSockets(true);
    expect(await closed).to.equal('io server disconnect');
    chat.connect();
    await next(chat, 'connect');
    expect(chat.recovered, 'the earlier session is gone').to.equal(false);
    expect(server.app.io.of('/chat').adapter.rooms.get(`room:${room.id}`), 'not back in the room').to.equal(undefined);
  });
});
