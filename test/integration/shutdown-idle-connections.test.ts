import { expect } from 'chai';
import { connect, type Socket } from 'node:net';
import { startServer } from '../helpers/test-server.js';

/** A raw TCP connection, as a browser opens ahead of need (preconnect). */
async function spareConnection(port: number): Promise<Socket> {
  const socket = connect(port, '127.0.0.1');
  socket.on('error', () => undefined);
  await new Promise((resolve) => socket.once('connect', resolve));
  return socket;
}

describe('graceful stop with idle HTTP connections (browsers keep spare ones)', () => {
  it('does not wait for a connection that never carried a request, nor an idle keep-alive one', async () => {
    const server = await startServer({ SHUTDOWN_TIMEOUT_MS: '10000' });
    const spare = await spareConnection(server.port);
    const keptAlive = await spareConnection(server.port);
    keptAlive.write(`GET /healthz HTTP/1.1\r\nHost: 127.0.0.1:${server.port}\r\n\r\n`);
    await new Promise((resolve) => keptAlive.once('data', resolve));

    const closedByServer = Promise.all([spare, keptAlive].map((s) => new Promise((resolve) => s.once('close', resolve))));

    const started = Date.now();
    await server.stop();
    expect(Date.now() - started, 'stop took the whole shutdown timeout').to.be.below(3000);
    await closedByServer;
  });

  it('lets a request in flight finish, then closes its connection', async () => {
    const server = await startServer({ SHUTDOWN_TIMEOUT_MS: '10000' });
    const socket = await spareConnection(server.port);
    let response = '';
    socket.on('data', (d: Buffer) => (response += d.toString()));
    const closed = new Promise((resolve) => socket.once('close', resolve));
    // Headers only: the body is still to come when the stop begins.
    socket.write(
      `POST /api/auth/guest HTTP/1.1\r\nHost: 127.0.0.1:${server.port}\r\nContent-Type: application/json\r\nContent-Length: 14\r\n\r\n`,
    );
    await new Promise((resolve) => setTimeout(resolve, 50));
    const stopping = server.stop();
    socket.write('{"name":"ann"}');
    await closed;
    await stopping;
    expect(response).to.match(/^HTTP\/1\.1 201/);
  });
});
