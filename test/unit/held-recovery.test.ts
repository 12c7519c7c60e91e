import { expect } from 'chai';
import { createServer } from 'node:http';
import type { AddressInfo } from 'node:net';
import { Server } from 'socket.io';
import { io as connectClient, type Socket } from 'socket.io-client';
import { holdMissedPacketsUntilAuthenticated, takeHeldPackets } from '../../src/transport/socket/held-recovery.js';
import { collect, eventually, quietFor } from '../helpers/socket-client.js';

/**
 * A recovering socket is in its rooms while the handshake middleware runs but not yet among
 * the namespace's sockets, so the adapter skips it: what is broadcast in that window was
 * lost to it (found by test/cluster/sigterm-drain-sessions.test.ts). A real Socket.IO server
 * and client, with a middleware held open while the room hears more messages.
 */
describe('held recovery: messages broadcast while a recovering socket is being authenticated', () => {
  let io: Server;
  let client: Socket;
  let url: string;
  /** Opened by the test: the recovering handshake waits for it. */
  let gate: () => void = () => undefined;
  let inWindow = false;
  let refuse = false;

  beforeEach(async () => {
    const http = createServer();
    io = new Server(http, { connectionStateRecovery: { maxDisconnectionDuration: 10_000, skipMiddlewares: false } });
    const nsp = io.of('/chat');
    holdMissedPacketsUntilAuthenticated(nsp);
    nsp.use((socket, next) => {
      const held = takeHeldPackets(socket);
      if (!socket.recovered) return next();
      inWindow = true;
      void new Promise<void>((open) => (gate = open)).then(() => {
        inWindow = false;
        if (refuse) return held.drop(), next(new Error('FORBIDDEN'));
        held.send();
        next();
        process.nextTick(() => held.drop());
      });
    });
    nsp.on('connection', (socket) => void socket.join('room'));
    await new Promise<void>((resolve) => http.listen(0, '127.0.0.1', resolve));
    url = `http://127.0.0.1:${(http.address() as AddressInfo).port}/chat`;
    refuse = false;
  });
  afterEach(async () => {
    client?.close();
    await new Promise<void>((resolve) => void io.close(() => resolve()));
  });

  const say = (n: number) => io.of('/chat').to('room').emit('m', n);
  /** Connects, hears message 1, drops, misses message 2, and is back in the handshake. */
  async function recoveringClient(): Promise<number[]> {
    client = connectClient(url, { transports: ['websocket'], forceNew: true, reconnectionDelay: 20, randomizationFactor: 0 });
    const seen = collect<number>(client, 'm');
    await eventually(() => io.of('/chat').sockets.size === 1 && [...io.of('/chat').adapter.rooms.get('room')!].length === 1, 2000, 'joined');
    say(1);
    await eventually(() => seen.length === 1, 2000, 'message 1');
    client.io.engine.close();
    await eventually(() => io.of('/chat').sockets.size === 0, 2000, 'dropped');
    say(2);
    await eventually(() => inWindow, 2000, 'the recovering handshake');
    return seen;
  }

  it('gets them after the missed ones, each once and in order, and live ones after that', async () => {
    const seen = await recoveringClient();
    say(3);
    say(4);
    io.of('/chat').except('room').emit('m', -1); // not for it
    gate();
    await eventually(() => client.connected, 2000, 'reconnected');
    expect(client.recovered).to.equal(true);
    say(5);
    await eventually(() => seen.length >= 5, 2000).catch(() => undefined); // what came is checked next
    expect(seen).to.deep.equal([1, 2, 3, 4, 5]);
  });

  it('a refused recovery is sent nothing it was held', async () => {
    const seen = await recoveringClient();
    say(3);
    refuse = true;
    client.io.reconnection(false);
    const refused = new Promise((resolve) => client.once('connect_error', resolve));
    gate();
    await refused;
    say(4);
    expect(await quietFor(client, 'm', 100)).to.deep.equal([]);
    expect(seen).to.deep.equal([1]);
  });
});
