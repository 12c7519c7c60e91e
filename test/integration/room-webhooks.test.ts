import { expect } from 'chai';
import type { Socket } from 'socket.io-client';
import type { AppOverrides } from '../../src/app.js';
import { createRoom, guest, request } from '../helpers/http-client.js';
import { describeWithRedis, startCluster, type TestCluster } from '../helpers/cluster.js';
import { ask, connect, eventually, next } from '../helpers/socket-client.js';
import { startServer, type TestServer } from '../helpers/test-server.js';
import { WebhookReceiver, webhookSecret } from '../helpers/webhook-receiver.js';

/**
 * room.*, participant.* and call.* webhooks (DESIGN §8.3) against a real receiver, on one node
 * and on two nodes over Redis. A participant is a user in the call: a blip the user recovers
 * from within the recovery window sends nothing; a user who does not come back is
 * `participant.left {reason:"disconnected"}` once the window passed.
 */

const RECOVERY_WINDOW_MS = 1500;
const FAST: AppOverrides = { webhookDispatcher: { timeoutMs: 500, backoff: { baseMs: 40, factor: 2, maxMs: 200 }, pollMs: 50 } };
const RANK = (type: string) => (type === 'call.started' ? 0 : type === 'call.ended' ? 2 : 1);
const TYPES = 'room.created,room.updated,room.deleted,participant.joined,participant.left,call.started,call.ended';

interface Delivered {
  id: string;
  type: string;
  timestamp: string;
  data: Record<string, any>;
}

describe('room, participant and call webhooks: one node', () => {
  const secret = webhookSecret();
  const receiver = new WebhookReceiver();
  let server: TestServer;
  before(async () => {
    await receiver.start();
    server = await startServer(
      { WEBHOOK_URLS: receiver.url, WEBHOOK_SECRET: secret, WEBHOOK_EVENTS: TYPES, RECOVERY_WINDOW_MS: String(RECOVERY_WINDOW_MS) },
      { overrides: FAST },
    );
  });
  after(async () => {
    await server?.stop();
    await receiver.stop();
  });
  webhookSuite(() => [server.url, server.url], () => receiver.accepted(secret));
});

describeWithRedis('room, participant and call webhooks: two nodes over Redis', () => {
  const secret = webhookSecret();
  const receiver = new WebhookReceiver();
  let cluster: TestCluster;
  before(async () => {
    await receiver.start();
    cluster = await startCluster(0);
    for (let i = 0; i < 2; i++) {
      await cluster.addNode({ WEBHOOK_URLS: receiver.url, WEBHOOK_SECRET: secret, WEBHOOK_EVENTS: TYPES, RECOVERY_WINDOW_MS: String(RECOVERY_WINDOW_MS) }, FAST);
    }
  });
  after(async () => {
    await cluster?.stop();
    await receiver.stop();
  });
  webhookSuite(() => [cluster.nodes[0]!.url, cluster.nodes[1]!.url], () => receiver.accepted(secret));
});

function webhookSuite(urls: () => [string, string], accepted: () => Delivered[]): void {
  const sockets: Socket[] = [];
  afterEach(() => sockets.splice(0).forEach((s) => s.close()));
  const open = async (url: string, token: string, options: Record<string, unknown> = {}) => {
    const s = await connect(url, '/rtc', token, options);
    sockets.push(s);
    return s;
  };
  const of = (roomId: string, type?: string) => accepted().filter((d) => (d.data.roomId ?? d.data.room?.id) === roomId && (type === undefined || d.type === type));
  /**
   * The room's participant and call events as short strings, in the order they happened
   * (their `timestamp`): deliveries run in parallel, on several nodes, so arrival order is not it.
   */
  const story = (roomId: string) =>
    of(roomId)
      .filter((d) => d.type.startsWith('participant.') || d.type.startsWith('call.'))
      // Within one millisecond a call starts before anyone joins it and ends after everyone left.
      .sort((x, y) => Date.parse(x.timestamp) - Date.parse(y.timestamp) || RANK(x.type) - RANK(y.type))
      .map((d) => (d.type.startsWith('call.') ? d.type : `${d.type} ${d.data.name}${d.data.reason ? ` ${d.data.reason}` : ''}`));

  it('room.created, room.updated (settings and members) and room.deleted, each once', async () => {
    const [a, b] = urls();
    const ann = await guest(a, 'ann');
    const bob = await guest(b, 'bob');
    const room = await createRoom(a, ann.token, { name: 'hooked' });
    await request(b, 'PATCH', `/api/rooms/${room.id}`, { token: ann.token, body: { locked: true } });
    await request(b, 'PUT', `/api/rooms/${room.id}/members/${bob.user.id}`, { token: ann.token, body: { role: 'moderator' } });
    await request(a, 'DELETE', `/api/rooms/${room.id}/members/${bob.user.id}?ban=true`, { token: ann.token });
    await request(b, 'DELETE', `/api/rooms/${room.id}`, { token: ann.token });
    await eventually(() => of(room.id, 'room.deleted').length === 1, 5000, 'room.deleted');
    expect(of(room.id, 'room.created').map((d) => d.data.room)).to.deep.equal([room]);
    const updates = of(room.id, 'room.updated').map((d) => d.data);
    expect(updates).to.have.length(3);
    expect(updates[0]).to.deep.include({ roomId: room.id, by: ann.user.id, changes: { locked: true } });
    expect(updates.slice(1).map((u) => u.member)).to.deep.equal([
      { userId: bob.user.id, action: 'role', role: 'moderator' },
      { userId: bob.user.id, action: 'banned' },
    ]);
    expect(of(room.id, 'room.deleted')[0]!.data).to.deep.equal({ roomId: room.id, by: ann.user.id });
    expect(new Set(of(room.id).map((d) => d.id)).size).to.equal(of(room.id).length);
  });

  it('a call told as users: started, joined, a recovered blip sends nothing, kicked, left, disconnected after the window, ended', async () => {
    const [a, b] = urls();
    const ann = await guest(a, 'ann');
    const bob = await guest(b, 'bob');
    const room = await createRoom(a, ann.token, { name: 'call hooks' });
    const annRtc = await open(a, ann.token);
    expect((await ask(annRtc, 'call:join', { roomId: room.id })).ok).to.equal(true);
    const bobRtc = await open(b, bob.token, { reconnection: true, reconnectionDelay: 50, reconnectionDelayMax: 100 });
    const bobTab2 = await open(b, bob.token);
    expect((await ask(bobRtc, 'call:join', { roomId: room.id })).ok).to.equal(true);
    // Bob's second tab is not a second participant.
    expect((await ask(bobTab2, 'call:join', { roomId: room.id })).ok).to.equal(true);
    await eventually(() => story(room.id).length === 3, 5000, 'started and two joins');
    expect(story(room.id)).to.deep.equal(['call.started', 'participant.joined ann', 'participant.joined bob']);
    bobTab2.close();

    // A blip: Bob's connection drops and recovers, and he joins the call again within the window.
    const left = next(annRtc, 'call:peer-left');
    bobRtc.io.engine.close();
    await left;
    await eventually(() => bobRtc.connected, 5000, 'bob back');
    expect((await ask(bobRtc, 'call:join', { roomId: room.id })).ok).to.equal(true);

    // Kicked, back, then left; Ann then drops for good.
    // The kick reaches Bob's node after its ack to Ann (through the adapter): Bob rejoins once
    // told, as a client does; a join racing the kick would find him still in the call.
    const kicked = next(bobRtc, 'call:kicked');
    expect((await ask(annRtc, 'call:kick', { roomId: room.id, peerId: bobRtc.id })).ok).to.equal(true);
    await kicked;
    expect((await ask(bobRtc, 'call:join', { roomId: room.id })).ok).to.equal(true);
    expect((await ask(bobRtc, 'call:leave', { roomId: room.id })).ok).to.equal(true);
    annRtc.close();
    // Deliveries run in parallel on both nodes: wait for all eight, not just the last one published.
    await eventually(() => story(room.id).length >= 8, RECOVERY_WINDOW_MS + 8000, 'eight events').catch((err: Error) => {
      throw new Error(`${err.message}; got ${JSON.stringify(story(room.id))}`);
    });
    expect(story(room.id)).to.deep.equal([
      'call.started',
      'participant.joined ann',
      'participant.joined bob',
      'participant.left bob kicked',
      'participant.joined bob',
      'participant.left bob left',
      'participant.left ann disconnected',
      'call.ended',
    ]);
    const [started, ended] = [of(room.id, 'call.started')[0]!, of(room.id, 'call.ended')[0]!];
    expect(ended.data.callId).to.equal(started.data.callId);
  });

  it('call:end: every participant left with reason "ended", then call.ended, once', async () => {
    const [a, b] = urls();
    const ann = await guest(a, 'ann');
    const bob = await guest(b, 'bob');
    const room = await createRoom(a, ann.token, { name: 'ended hooks' });
    const annRtc = await open(a, ann.token);
    const bobRtc = await open(b, bob.token);
    expect((await ask(annRtc, 'call:join', { roomId: room.id })).ok).to.equal(true);
    expect((await ask(bobRtc, 'call:join', { roomId: room.id })).ok).to.equal(true);
    expect((await ask(annRtc, 'call:end', { roomId: room.id })).ok).to.equal(true);
    await eventually(() => story(room.id).length >= 6, 5000, 'six events');
    const s = story(room.id);
    expect(s.slice(0, 3)).to.deep.equal(['call.started', 'participant.joined ann', 'participant.joined bob']);
    expect(s.slice(3, 5).sort()).to.deep.equal(['participant.left ann ended', 'participant.left bob ended']);
    expect(s.slice(5)).to.deep.equal(['call.ended']);
  });
}
