import { expect } from 'chai';
import type { Socket } from 'socket.io-client';
import { createRoom, guest, request } from '../helpers/http-client.js';
import type { NetHost } from '../helpers/net/host.js';
import { NsClient } from '../helpers/net/ns-client.js';
import { useNetRig } from '../helpers/net/rig.js';
import { ask, connect, eventually, next } from '../helpers/socket-client.js';
import { startServer, type TestServer } from '../helpers/test-server.js';

/**
 * Issue 19, item 2: a client's connection black-holed (no FIN, no RST). The client runs in a
 * test host of its own (test/helpers/net) and behaves as README asks of a client; Bob watches
 * from the root namespace. The heartbeat is short so that the server notices within seconds.
 */
const PING_INTERVAL_MS = 1000;
const PING_TIMEOUT_MS = 1000;
/** The server drops a silent connection after one interval and one timeout; the rest is slack. */
const DROPPED_WITHIN_MS = PING_INTERVAL_MS + PING_TIMEOUT_MS + 2000;

describe('network: a client connection black-holed', function () {
  this.timeout(60_000);
  const rig = useNetRig();
  let host: NetHost;
  let server: TestServer;
  let url: string;
  const sockets: Socket[] = [];
  let client: NsClient | undefined;

  beforeEach(async () => {
    host = rig.host();
    // Listening on the root side of the client's veth: the client reaches it, Bob too.
    server = await startServer({ HOST: host.gateway, PING_INTERVAL_MS: String(PING_INTERVAL_MS), PING_TIMEOUT_MS: String(PING_TIMEOUT_MS) });
    url = `http://${host.gateway}:${server.port}`;
  });
  afterEach(async () => {
    sockets.splice(0).forEach((s) => s.close());
    await client?.stop();
    await server?.stop();
  });

  /** Ann (the client in the host) and Bob in one room and its call; Bob's view of it. */
  async function roomWithAnn() {
    const [ann, bob] = [await guest(url, 'ann'), await guest(url, 'bob')];
    const room = await createRoom(url, bob.token);
    const [chat, rtc] = [await connect(url, '/chat', bob.token), await connect(url, '/rtc', bob.token)];
    sockets.push(chat, rtc);
    await ask(chat, 'room:join', { roomId: room.id });
    await ask(rtc, 'call:join', { roomId: room.id });
    client = new NsClient(host, { url, token: ann.token, roomId: room.id });
    const inCall = await client.waitFor((r) => r.type === 'in-call' && r.ok === true, 15_000, 'call joined');
    await client.waitFor((r) => r.type === 'joined', 5000, 'room joined');
    let sent = 0;
    const send = async () => expect((await ask(chat, 'chat:send', { roomId: room.id, clientMsgId: `b${++sent}`, text: 'hi' })).ok).to.equal(true);
    /** Ann's live sockets as the server holds them, per namespace. */
    const live = (ns: '/chat' | '/rtc') => [...server.app.io.of(ns).sockets.values()].filter((s) => s.data.user?.id === ann.user.id).length;
    const participants = async () => (await request(url, 'GET', `/api/rooms/${room.id}`, { token: bob.token })).body.participants.map((p: { userId: string }) => p.userId);
    /** After all is settled: one socket per namespace, listed once, in the call, every message seen. */
    const settled = async () => {
      await eventually(() => live('/chat') === 1 && live('/rtc') === 1, 10_000, 'one live socket per namespace');
      expect((await participants()).filter((id: string) => id === ann.user.id)).to.have.length(1);
      const from = client!.reports.length;
      client!.command('seqs');
      const seen = await client!.waitFor((r) => r.type === 'seqs', 5000, 'seqs', from);
      expect(seen.seqs).to.deep.equal(Array.from({ length: sent }, (_, i) => i + 1));
    };
    return { ann, chat, rtc, annPeer: inCall.peerId as string, send, live, participants, settled };
  }

  it('the server drops it after the heartbeat timeout and cleans up; after the heal the client is back by itself, one socket, nothing missed', async () => {
    const { ann, chat, rtc, annPeer, send, participants, settled } = await roomWithAnn();
    await send();
    const left = next(chat, 'room:presence', (p) => p.left?.userId === ann.user.id, DROPPED_WITHIN_MS + 1000);
    const peerLeft = next(rtc, 'call:peer-left', (p) => p.peerId === annPeer, DROPPED_WITHIN_MS + 1000);
    host.blackhole();
    const cutAt = Date.now();
    await Promise.all([left, peerLeft]);
    const droppedAfterMs = Date.now() - cutAt;
    expect(droppedAfterMs).to.be.below(DROPPED_WITHIN_MS);
    expect(await participants()).not.to.include(ann.user.id);
    for (let i = 0; i < 3; i++) await send();

    const from = client!.reports.length;
    const peerBack = next(rtc, 'call:peer-joined', (p) => p.userId === ann.user.id, 15_000);
    host.heal();
    const healedAt = Date.now();
    await client!.waitFor((r) => r.type === 'connect' && r.ns === '/chat', 15_000, 'reconnect after the heal', from);
    await peerBack;
    const recoveredAfterMs = Date.now() - healedAt;
    await settled();
    console.log(`      figures: ${JSON.stringify({ droppedAfterMs, recoveredAfterMs })}`);
  });

  // https://github.com/socketio/socket.io/issues/4880: the client gives up a connection the
  // server still holds, reconnects at once, and the old connection's late ping timeout must
  // not undo the new session (presence, call, recovery) — twice in a row.
  it('a connection the client abandoned times out late on the server: the new session keeps its presence and call, twice in a row', async () => {
    const { ann, chat, send, live, settled } = await roomWithAnn();
    const lateLeaves: unknown[] = [];
    chat.on('room:presence', (p) => p.left?.userId === ann.user.id && lateLeaves.push(p));
    for (let round = 1; round <= 2; round++) {
      await send();
      const port = (client!.reports.filter((r) => r.type === 'connect' && r.ns === '/chat').at(-1)!.localPort as number) ?? 0;
      expect(port, 'the client connection has a local port').to.be.greaterThan(0);
      host.blackhole({ localPort: port });
      const from = client!.reports.length;
      client!.command('drop');
      await client!.waitFor((r) => r.type === 'connect' && r.ns === '/chat', 10_000, `reconnect ${round}`, from);
      await client!.waitFor((r) => r.type === 'in-call' && r.ok === true, 10_000, `back in the call ${round}`, from);
      await send();
      // The old connection is half-open on the server until its heartbeat times out.
      // Bounded by the heartbeat, with room for a loaded machine (the whole suite runs beside it).
      await eventually(() => live('/chat') === 1, DROPPED_WITHIN_MS + 6000, `the abandoned socket dropped ${round}`).catch((err: Error) => {
        throw new Error(`${err.message}: ${live('/chat')} live; client reports ${JSON.stringify(client!.reports)}`);
      });
      await settled();
      host.heal();
    }
    expect(lateLeaves, 'no presence "left" for Ann, who never left').to.deep.equal([]);
    const connects = client!.reports.filter((r) => r.type === 'connect' && r.ns === '/chat');
    console.log(`      figures: ${JSON.stringify({ recovered: connects.map((r) => r.recovered) })}`);
  });
});
