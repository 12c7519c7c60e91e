import { expect } from 'chai';
import { createServer } from 'node:http';
import { createAdapter } from '@socket.io/redis-streams-adapter';
import { Server, Socket } from 'socket.io';
import { requireInternal } from '../../src/infra/socketio-internals.js';
import { withPublishDeadline } from '../../src/infra/redis/resilient-adapter.js';
import { holdMissedPacketsUntilAuthenticated } from '../../src/transport/socket/held-recovery.js';
import { describeWithRedis } from '../helpers/cluster.js';
import { useRedis } from '../helpers/redis-server.js';

/**
 * The Socket.IO internals the server wraps (src/infra/socketio-internals.ts). Each of these
 * fails on the upgrade that renames or removes one, naming it, before any behaviour test
 * fails in a way that is hard to trace back.
 */
describe('Socket.IO internals the server relies on', () => {
  it('Socket.prototype.packet writes a packet (used to replay held missed packets)', () => {
    expect(typeof (Socket.prototype as unknown as Record<string, unknown>).packet).to.equal('function');
  });

  it('the in-memory adapter with recovery has restoreSession, and the wrapper takes it', () => {
    const io = new Server(createServer(), { connectionStateRecovery: { maxDisconnectionDuration: 1000 } });
    const nsp = io.of('/chat');
    expect(typeof (nsp.adapter as unknown as Record<string, unknown>).restoreSession).to.equal('function');
    expect(() => holdMissedPacketsUntilAuthenticated(nsp as never)).not.to.throw();
    void io.close();
  });

  it('a missing internal stops start-up with a message that names it', () => {
    expect(() => requireInternal({}, 'restoreSession', 'the namespace adapter')).to.throw(/Socket.IO internals changed: the namespace adapter has no restoreSession\(\)/);
  });
});

describeWithRedis('Socket.IO internals: the Redis streams adapter', () => {
  const redis = useRedis();

  it('has publishAndReturnOffset and restoreSession, which the server wraps', async () => {
    const io = new Server(createServer(), { connectionStateRecovery: { maxDisconnectionDuration: 1000 } });
    const client = await redis.connect('adapter');
    io.adapter(withPublishDeadline(createAdapter(client), 1000));
    const nsp = io.of('/chat');
    expect(typeof (nsp.adapter as unknown as Record<string, unknown>).publishAndReturnOffset).to.equal('function');
    expect(() => holdMissedPacketsUntilAuthenticated(nsp as never)).not.to.throw();
    await new Promise<void>((resolve) => void io.close(() => resolve()));
  });
});
