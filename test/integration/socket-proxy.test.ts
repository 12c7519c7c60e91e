import { expect } from 'chai';
import type { Socket } from 'socket.io-client';
import { guest } from '../helpers/http-client.js';
import { connect, connectError } from '../helpers/socket-client.js';
import { startServer, type TestServer } from '../helpers/test-server.js';

describe('behind a reverse proxy (TRUST_PROXY=1): per-address socket caps count clients, not the proxy', () => {
  let server: TestServer;
  const sockets: Socket[] = [];
  const via = (clientIp: string) => ({ extraHeaders: { 'x-forwarded-for': clientIp } });

  before(async () => {
    server = await startServer({ TRUST_PROXY: '1', MAX_CONNECTIONS_PER_IP: '1' });
  });
  after(async () => {
    sockets.forEach((s) => s.close());
    await server.stop();
  });

  it('admits one socket per forwarded client address and refuses a second from the same one', async () => {
    const ann = await guest(server.url, 'ann');
    const bob = await guest(server.url, 'bob');
    sockets.push(await connect(server.url, '/chat', ann.token, via('203.0.113.1')));
    sockets.push(await connect(server.url, '/chat', bob.token, via('203.0.113.2')));
    const refused = await connectError(server.url, '/chat', bob.token, via('203.0.113.1'));
    expect(refused.message).to.equal('TOO_MANY_CONNECTIONS');
  });
});
