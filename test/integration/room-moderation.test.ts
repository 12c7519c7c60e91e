import { expect } from 'chai';
import type { Socket } from 'socket.io-client';
import { createRoom, guest, request, scrapeMetrics } from '../helpers/http-client.js';
import { ask, collect, connect, eventually, next, quietFor } from '../helpers/socket-client.js';
import { onOneNodeAndTwo } from '../helpers/one-and-two-nodes.js';

/**
 * Rooms their owners run (DESIGN §8.3): roles, removal and bans, settings, deletion, and
 * moderation in calls, end to end. The same suite runs on one node and on two nodes over
 * Redis, where the moderator is always on node A and the target on node B.
 */

const LOBBY_TIMEOUT_MS = 1500;
const ENV = { LOBBY_TIMEOUT_MS: String(LOBBY_TIMEOUT_MS) };

// On two nodes the moderator is on node A and the target on node B.
onOneNodeAndTwo('rooms their owners run', ENV, (urls) => moderationSuite(urls));

interface User {
  token: string;
  user: { id: string; name: string };
}

function moderationSuite(urls: () => [string, string]): void {
  const sockets: Socket[] = [];
  afterEach(() => sockets.splice(0).forEach((s) => s.close()));
  const nodeA = () => urls()[0];
  const nodeB = () => urls()[1];
  const open = async (url: string, ns: '/chat' | '/rtc', who: User, options: Record<string, unknown> = {}) => {
    const s = await connect(url, ns, who.token, options);
    sockets.push(s);
    return s;
  };
  const api = (who: User, method: string, path: string, body?: unknown) => request(nodeA(), method, path, { token: who.token, body });
  /** An owner (Ann) with a room, and Bob, a member. */
  const roomWithMember = async (settings: Record<string, unknown> = {}) => {
    const ann = await guest(nodeA(), 'ann');
    const bob = await guest(nodeB(), 'bob');
    const room = await createRoom(nodeA(), ann.token, { name: 'run room', ...settings });
    expect((await api(ann, 'POST', `/api/rooms/${room.id}/members`, { userId: bob.user.id })).status).to.equal(204);
    return { ann, bob, room };
  };
  const inCall = async (url: string, who: User, roomId: string) => {
    const socket = await open(url, '/rtc', who);
    const answer = await ask(socket, 'call:join', { roomId });
    expect(answer.ok, JSON.stringify(answer)).to.equal(true);
    return { socket, peerId: answer.peerId as string };
  };

  describe('REST: my rooms, settings, members and roles', () => {
    it('lists the rooms I created, was added to or joined, with my role, in pages', async () => {
      const { ann, bob, room } = await roomWithMember();
      const visited = await createRoom(nodeA(), ann.token, { name: 'public' });
      const chat = await open(nodeB(), '/chat', bob);
      expect((await ask(chat, 'room:join', { roomId: visited.id })).ok).to.equal(true);
      const own = await createRoom(nodeB(), bob.token, { name: 'mine' });
      const roles = new Map<string, string>();
      let cursor: string | null = null;
      do {
        const query: string = cursor ? `?limit=2&cursor=${cursor}` : '?limit=2';
        const page = await request(nodeB(), 'GET', `/api/rooms${query}`, { token: bob.token });
        expect(page.status).to.equal(200);
        expect(page.body.rooms.length).to.be.at.most(2);
        for (const r of page.body.rooms) roles.set(r.id, r.role);
        cursor = page.body.nextCursor;
      } while (cursor);
      expect(Object.fromEntries(roles)).to.deep.equal({ [room.id]: 'member', [visited.id]: 'member', [own.id]: 'owner' });
      expect((await request(nodeB(), 'GET', '/api/rooms?cursor=not-ours', { token: bob.token })).body.error.code).to.equal('VALIDATION_FAILED');
    });

    it('owner and moderators change settings; a member gets FORBIDDEN and nothing changes', async () => {
      const { ann, bob, room } = await roomWithMember();
      const refused = await request(nodeB(), 'PATCH', `/api/rooms/${room.id}`, { token: bob.token, body: { name: 'hijacked' } });
      expect(refused.status).to.equal(403);
      expect(refused.body.error.code).to.equal('FORBIDDEN');
      expect((await api(ann, 'PUT', `/api/rooms/${room.id}/members/${bob.user.id}`, { role: 'moderator' })).body).to.include({ userId: bob.user.id, role: 'moderator' });
      const changed = await request(nodeB(), 'PATCH', `/api/rooms/${room.id}`, { token: bob.token, body: { name: 'renamed', locked: true, lobby: true } });
      expect(changed.status).to.equal(200);
      expect(changed.body).to.include({ id: room.id, name: 'renamed', locked: true, lobby: true, isPrivate: false });
      const read = await request(nodeB(), 'GET', `/api/rooms/${room.id}`, { token: ann.token });
      expect(read.body).to.include({ name: 'renamed', locked: true, lobby: true, role: 'owner' });
      const bad = await api(ann, 'PATCH', `/api/rooms/${room.id}`, { name: 'x', owner: 'me' });
      expect(bad.status).to.equal(400);
      expect((await api(ann, 'PATCH', `/api/rooms/${room.id}`, {})).status).to.equal(400);
    });

    it('lists members with roles to members only; only the owner sets roles, never its own', async () => {
      const { ann, bob, room } = await roomWithMember({ isPrivate: true });
      const outsider = await guest(nodeA(), 'eve');
      expect((await api(outsider, 'GET', `/api/rooms/${room.id}/members`)).status).to.equal(403);
      const list = await request(nodeB(), 'GET', `/api/rooms/${room.id}/members`, { token: bob.token });
      expect(list.status).to.equal(200);
      const byId = new Map(list.body.members.map((m: { userId: string; role: string }) => [m.userId, m.role]));
      expect(Object.fromEntries(byId)).to.deep.equal({ [ann.user.id]: 'owner', [bob.user.id]: 'member' });
      expect(list.body.members.find((m: { userId: string }) => m.userId === ann.user.id)).to.include({ name: 'ann' });
      expect((await request(nodeB(), 'PUT', `/api/rooms/${room.id}/members/${bob.user.id}`, { token: bob.token, body: { role: 'moderator' } })).status).to.equal(403);
      expect((await api(ann, 'PUT', `/api/rooms/${room.id}/members/${ann.user.id}`, { role: 'member' })).body.error.code).to.equal('CONFLICT');
      expect((await api(ann, 'PUT', `/api/rooms/${room.id}/members/${bob.user.id}`, { role: 'owner' })).status).to.equal(400);
    });

    it('a moderator cannot remove the owner; a member may leave but not remove others', async () => {
      const { ann, bob, room } = await roomWithMember();
      const cat = await guest(nodeA(), 'cat');
      await api(ann, 'POST', `/api/rooms/${room.id}/members`, { userId: cat.user.id });
      expect((await request(nodeB(), 'DELETE', `/api/rooms/${room.id}/members/${cat.user.id}`, { token: bob.token })).status).to.equal(403);
      await api(ann, 'PUT', `/api/rooms/${room.id}/members/${bob.user.id}`, { role: 'moderator' });
      expect((await request(nodeB(), 'DELETE', `/api/rooms/${room.id}/members/${ann.user.id}`, { token: bob.token })).status).to.equal(403);
      expect((await api(cat, 'DELETE', `/api/rooms/${room.id}/members/${cat.user.id}?ban=true`)).status).to.equal(403);
      expect((await api(cat, 'DELETE', `/api/rooms/${room.id}/members/${cat.user.id}`)).status).to.equal(204);
      const members = (await api(ann, 'GET', `/api/rooms/${room.id}/members`)).body.members.map((m: { userId: string }) => m.userId);
      expect(members).to.not.include(cat.user.id);
      expect((await api(ann, 'DELETE', `/api/rooms/${room.id}/members/${cat.user.id}?ban=maybe`)).status).to.equal(400);
    });
  });

  describe('removal and bans take effect at once, on every node', () => {
    it("a removed member's sockets leave the room and the call; a kick-style removal does not ban", async () => {
      const { ann, bob, room } = await roomWithMember({ isPrivate: true });
      const annCall = await inCall(nodeA(), ann, room.id);
      const bobChat = await open(nodeB(), '/chat', bob);
      expect((await ask(bobChat, 'room:join', { roomId: room.id })).ok).to.equal(true);
      const bobCall = await inCall(nodeB(), bob, room.id);
      const removed = next(bobChat, 'room:removed');
      const ended = next(bobCall.socket, 'call:ended');
      const peerLeft = next(annCall.socket, 'call:peer-left');
      expect((await api(ann, 'DELETE', `/api/rooms/${room.id}/members/${bob.user.id}`)).status).to.equal(204);
      expect(await removed).to.deep.equal({ roomId: room.id });
      expect(await ended).to.deep.equal({ roomId: room.id, reason: 'removed' });
      expect(await peerLeft).to.deep.equal({ roomId: room.id, peerId: bobCall.peerId, reason: 'removed' });
      const send = await ask(bobChat, 'chat:send', { roomId: room.id, clientMsgId: 'after-removal', text: 'still here?' });
      expect(send.error.code).to.equal('NOT_IN_ROOM');
      expect((await ask(bobChat, 'chat:history', { roomId: room.id })).error.code).to.equal('FORBIDDEN');
      // Not banned: added back, Bob is in again.
      await api(ann, 'POST', `/api/rooms/${room.id}/members`, { userId: bob.user.id });
      expect((await ask(bobChat, 'room:join', { roomId: room.id })).ok).to.equal(true);
    });

    it('a ban refuses the user even in a public room, on every path, until the owner lifts it', async () => {
      const { ann, bob, room } = await roomWithMember();
      const bobChat = await open(nodeB(), '/chat', bob);
      expect((await ask(bobChat, 'room:join', { roomId: room.id })).ok).to.equal(true);
      const removed = next(bobChat, 'room:removed');
      expect((await api(ann, 'DELETE', `/api/rooms/${room.id}/members/${bob.user.id}?ban=true`)).status).to.equal(204);
      await removed;
      expect((await ask(bobChat, 'room:join', { roomId: room.id })).error.code).to.equal('FORBIDDEN');
      const bobRtc = await open(nodeB(), '/rtc', bob);
      expect((await ask(bobRtc, 'call:join', { roomId: room.id })).error.code).to.equal('FORBIDDEN');
      const rest = await request(nodeB(), 'GET', `/api/messages?roomId=${room.id}`, { token: bob.token });
      expect(rest.status).to.equal(403);
      // Adding again does not lift a ban; the owner's PUT does.
      await api(ann, 'POST', `/api/rooms/${room.id}/members`, { userId: bob.user.id });
      expect((await ask(bobChat, 'room:join', { roomId: room.id })).error.code).to.equal('FORBIDDEN');
      expect((await api(ann, 'PUT', `/api/rooms/${room.id}/members/${bob.user.id}`, { role: 'member' })).status).to.equal(200);
      expect((await ask(bobChat, 'room:join', { roomId: room.id })).ok).to.equal(true);
    });

    it('making a room private removes the visitors online and keeps the members', async () => {
      const { ann, bob, room } = await roomWithMember();
      const eve = await guest(nodeB(), 'eve');
      const eveChat = await open(nodeB(), '/chat', eve);
      const bobChat = await open(nodeB(), '/chat', bob);
      // Eve joins as a visitor, and thereby becomes a member: only a visitor who never joined stays out.
      const eveHistory = await ask(eveChat, 'chat:history', { roomId: room.id });
      expect(eveHistory.ok).to.equal(true);
      expect((await ask(bobChat, 'room:join', { roomId: room.id })).ok).to.equal(true);
      const eveRemoved = next(eveChat, 'room:removed');
      expect((await api(ann, 'PATCH', `/api/rooms/${room.id}`, { isPrivate: true })).status).to.equal(200);
      await eveRemoved;
      expect((await ask(eveChat, 'chat:history', { roomId: room.id })).error.code).to.equal('FORBIDDEN');
      expect(await quietFor(bobChat, 'room:removed', 300)).to.deep.equal([]);
      expect((await ask(bobChat, 'chat:send', { roomId: room.id, clientMsgId: 'still', text: 'still in' })).ok).to.equal(true);
    });

    it('a session recovered after its user was removed does not get the room back', async () => {
      const { ann, bob, room } = await roomWithMember({ isPrivate: true });
      const bobChat = await open(nodeB(), '/chat', bob, { reconnection: true, reconnectionDelay: 100, reconnectionDelayMax: 200 });
      expect((await ask(bobChat, 'room:join', { roomId: room.id })).ok).to.equal(true);
      bobChat.io.engine.close();
      await eventually(() => !bobChat.connected, 2000, 'bob disconnected');
      const removed = next(bobChat, 'room:removed', () => true, 8000);
      expect((await api(ann, 'DELETE', `/api/rooms/${room.id}/members/${bob.user.id}`)).status).to.equal(204);
      await eventually(() => bobChat.connected, 5000, 'bob reconnected');
      expect(bobChat.recovered).to.equal(true);
      await removed;
      expect((await ask(bobChat, 'chat:send', { roomId: room.id, clientMsgId: 'ghost', text: 'boo' })).error.code).to.equal('NOT_IN_ROOM');
    });
  });

  describe('deleting a room', () => {
    it('tells everyone online, ends the call, and leaves nothing: then ROOM_NOT_FOUND everywhere', async () => {
      const { ann, bob, room } = await roomWithMember();
      await request(nodeA(), 'POST', '/api/messages', { token: ann.token, body: { roomId: room.id, text: 'history goes too' } });
      const bobChat = await open(nodeB(), '/chat', bob);
      expect((await ask(bobChat, 'room:join', { roomId: room.id })).ok).to.equal(true);
      const bobCall = await inCall(nodeB(), bob, room.id);
      const closed = next(bobChat, 'room:closed');
      const ended = next(bobCall.socket, 'call:ended');
      expect((await request(nodeB(), 'DELETE', `/api/rooms/${room.id}`, { token: bob.token })).status).to.equal(403);
      expect((await api(ann, 'DELETE', `/api/rooms/${room.id}`)).status).to.equal(204);
      expect(await closed).to.deep.equal({ roomId: room.id });
      expect(await ended).to.deep.equal({ roomId: room.id, reason: 'room-deleted' });
      for (const url of urls()) {
        expect((await request(url, 'GET', `/api/rooms/${room.id}`, { token: ann.token })).body.error.code).to.equal('ROOM_NOT_FOUND');
        expect((await request(url, 'GET', `/api/messages?roomId=${room.id}`, { token: ann.token })).body.error.code).to.equal('ROOM_NOT_FOUND');
      }
      expect((await ask(bobChat, 'room:join', { roomId: room.id })).error.code).to.equal('ROOM_NOT_FOUND');
      expect((await ask(bobCall.socket, 'call:join', { roomId: room.id })).error.code).to.equal('ROOM_NOT_FOUND');
      expect((await api(ann, 'DELETE', `/api/rooms/${room.id}`)).status).to.equal(404);
      const mine = (await api(ann, 'GET', '/api/rooms')).body.rooms.map((r: { id: string }) => r.id);
      expect(mine).to.not.include(room.id);
    });
  });

  describe('moderation in calls', () => {
    it('a moderator on one node kicks a peer on another; the kick does not ban', async () => {
      const { ann, bob, room } = await roomWithMember();
      const cat = await guest(nodeA(), 'cat');
      await api(ann, 'PUT', `/api/rooms/${room.id}/members/${cat.user.id}`, { role: 'moderator' });
      const catCall = await inCall(nodeA(), cat, room.id);
      const bobCall = await inCall(nodeB(), bob, room.id);
      const kicked = next(bobCall.socket, 'call:kicked');
      const left = next(catCall.socket, 'call:peer-left');
      expect((await ask(catCall.socket, 'call:kick', { roomId: room.id, peerId: bobCall.peerId })).ok).to.equal(true);
      expect(await kicked).to.deep.equal({ roomId: room.id, by: cat.user.id });
      expect(await left).to.deep.equal({ roomId: room.id, peerId: bobCall.peerId, reason: 'kicked' });
      // Out of the call: a signal to Bob's old peer id finds no peer.
      const signal = await ask(catCall.socket, 'rtc:signal', { to: bobCall.peerId, kind: 'ice-restart' });
      expect(signal.error.code).to.equal('PEER_NOT_FOUND');
      // Not banned: Bob joins again.
      const again = await ask(bobCall.socket, 'call:join', { roomId: room.id });
      expect(again.ok).to.equal(true);
      expect(again.peers.map((p: { userId: string }) => p.userId)).to.deep.equal([cat.user.id]);
    });

    it('a member gets FORBIDDEN for every moderator action; unknown peers are PEER_NOT_FOUND', async () => {
      const { ann, bob, room } = await roomWithMember();
      const annCall = await inCall(nodeA(), ann, room.id);
      const bobCall = await inCall(nodeB(), bob, room.id);
      for (const [event, payload] of [
        ['call:kick', { roomId: room.id, peerId: annCall.peerId }],
        ['call:mute', { roomId: room.id, kind: 'audio' }],
        ['call:end', { roomId: room.id }],
        ['call:admit', { roomId: room.id, requestId: 'r1', admit: true }],
      ] as const) {
        const answer = await ask(bobCall.socket, event, payload);
        expect(answer.error?.code, event).to.equal('FORBIDDEN');
      }
      expect((await ask(annCall.socket, 'call:kick', { roomId: room.id, peerId: 'nobody' })).error.code).to.equal('PEER_NOT_FOUND');
      expect((await ask(annCall.socket, 'call:kick', { roomId: room.id })).error.code).to.equal('VALIDATION_FAILED');
      expect((await ask(annCall.socket, 'call:mute', { roomId: room.id, kind: 'screen' })).error.code).to.equal('VALIDATION_FAILED');
      expect((await ask(annCall.socket, 'call:admit', { roomId: room.id, requestId: 'gone', admit: true })).error.code).to.equal('NOT_FOUND');
    });

    it('mute requests reach one peer or every other peer; end puts everyone out of the call', async () => {
      const { ann, bob, room } = await roomWithMember();
      const cat = await guest(nodeB(), 'cat');
      const annCall = await inCall(nodeA(), ann, room.id);
      const bobCall = await inCall(nodeB(), bob, room.id);
      const catCall = await inCall(nodeB(), cat, room.id);
      const toBob = next(bobCall.socket, 'call:mute-request');
      const catQuiet = quietFor(catCall.socket, 'call:mute-request', 300);
      expect((await ask(annCall.socket, 'call:mute', { roomId: room.id, kind: 'video', peerId: bobCall.peerId })).ok).to.equal(true);
      expect(await toBob).to.deep.equal({ roomId: room.id, kind: 'video', by: ann.user.id });
      expect(await catQuiet).to.deep.equal([]);
      const all = [next(bobCall.socket, 'call:mute-request'), next(catCall.socket, 'call:mute-request')];
      const annQuiet = quietFor(annCall.socket, 'call:mute-request', 300);
      expect((await ask(annCall.socket, 'call:mute', { roomId: room.id, kind: 'audio' })).ok).to.equal(true);
      for (const got of await Promise.all(all)) expect(got).to.deep.equal({ roomId: room.id, kind: 'audio', by: ann.user.id });
      expect(await annQuiet).to.deep.equal([]);

      const ended = [annCall, bobCall, catCall].map((c) => next(c.socket, 'call:ended'));
      expect((await ask(annCall.socket, 'call:end', { roomId: room.id })).ok).to.equal(true);
      for (const e of await Promise.all(ended)) expect(e).to.deep.equal({ roomId: room.id, reason: 'ended', by: ann.user.id });
      // Everyone is out: the next peer finds an empty call.
      const fresh = await ask(bobCall.socket, 'call:join', { roomId: room.id });
      expect(fresh.peers).to.deep.equal([]);
    });

    it('counts each moderation action that took effect in /metrics, on the node that served it', async () => {
      const count = async (action: string) => {
        const series = await scrapeMetrics(nodeA());
        return [...series].filter(([name]) => name.startsWith('moderation_actions_total{') && name.includes(`action="${action}"`)).reduce((n, [, v]) => n + v, 0);
      };
      const before = { kick: await count('kick'), ban: await count('ban') };
      const { ann, bob, room } = await roomWithMember();
      const annCall = await inCall(nodeA(), ann, room.id);
      const bobCall = await inCall(nodeB(), bob, room.id);
      expect((await ask(bobCall.socket, 'call:kick', { roomId: room.id, peerId: annCall.peerId })).ok).to.equal(false);
      expect((await ask(annCall.socket, 'call:kick', { roomId: room.id, peerId: bobCall.peerId })).ok).to.equal(true);
      await api(ann, 'DELETE', `/api/rooms/${room.id}/members/${bob.user.id}?ban=true`);
      expect(await count('kick')).to.equal(before.kick + 1);
      expect(await count('ban')).to.equal(before.ban + 1);
    });

    it('a locked room refuses new joins with ROOM_LOCKED (409) but lets its moderators in', async () => {
      const { ann, bob, room } = await roomWithMember();
      await api(ann, 'PATCH', `/api/rooms/${room.id}`, { locked: true });
      const bobRtc = await open(nodeB(), '/rtc', bob);
      const refused = await ask(bobRtc, 'call:join', { roomId: room.id });
      expect(refused.error.code).to.equal('ROOM_LOCKED');
      await inCall(nodeA(), ann, room.id);
      await api(ann, 'PATCH', `/api/rooms/${room.id}`, { locked: false });
      expect((await ask(bobRtc, 'call:join', { roomId: room.id })).ok).to.equal(true);
    });
  });

  describe('the lobby', () => {
    it('keeps a newcomer waiting until a moderator (also one who joins later) admits them', async () => {
      const { ann, bob, room } = await roomWithMember();
      await api(ann, 'PATCH', `/api/rooms/${room.id}`, { lobby: true });
      const bobRtc = await open(nodeB(), '/rtc', bob);
      const waiting = await ask(bobRtc, 'call:join', { roomId: room.id });
      expect(waiting).to.deep.include({ ok: true, waiting: true });
      expect(waiting.requestId).to.be.a('string');
      // Ann joins after the knock and hears of it.
      const annRtc = await open(nodeA(), '/rtc', ann);
      const knock = next(annRtc, 'call:knock');
      expect((await ask(annRtc, 'call:join', { roomId: room.id })).peers).to.deep.equal([]);
      expect(await knock).to.deep.equal({ roomId: room.id, requestId: waiting.requestId, userId: bob.user.id, name: 'bob' });
      const admitted = next(bobRtc, 'call:admitted');
      expect((await ask(annRtc, 'call:admit', { roomId: room.id, requestId: waiting.requestId, admit: true })).ok).to.equal(true);
      expect(await admitted).to.deep.equal({ roomId: room.id });
      const joined = await ask(bobRtc, 'call:join', { roomId: room.id });
      expect(joined.ok).to.equal(true);
      expect(joined.peers.map((p: { userId: string }) => p.userId)).to.deep.equal([ann.user.id]);
    });

    it('tells a moderator in the call of a knock at once, and a denied user is told', async () => {
      const { ann, bob, room } = await roomWithMember({ lobby: true });
      const annCall = await inCall(nodeA(), ann, room.id);
      const knocks = collect(annCall.socket, 'call:knock');
      const bobRtc = await open(nodeB(), '/rtc', bob);
      const waiting = await ask(bobRtc, 'call:join', { roomId: room.id });
      await eventually(() => knocks.length === 1, 5000, 'the knock');
      const denied = next(bobRtc, 'call:denied');
      expect((await ask(annCall.socket, 'call:admit', { roomId: room.id, requestId: waiting.requestId, admit: false })).ok).to.equal(true);
      expect(await denied).to.deep.equal({ roomId: room.id, reason: 'denied' });
      expect((await ask(bobRtc, 'call:join', { roomId: room.id })).waiting).to.equal(true);
    });

    it('denies a knock nobody answers after LOBBY_TIMEOUT_MS', async () => {
      const { ann, bob, room } = await roomWithMember();
      await api(ann, 'PATCH', `/api/rooms/${room.id}`, { lobby: true });
      const bobRtc = await open(nodeB(), '/rtc', bob);
      const started = Date.now();
      const denied = next(bobRtc, 'call:denied', () => true, LOBBY_TIMEOUT_MS + 4000);
      expect((await ask(bobRtc, 'call:join', { roomId: room.id })).waiting).to.equal(true);
      expect(await denied).to.deep.equal({ roomId: room.id, reason: 'timeout' });
      expect(Date.now() - started).to.be.at.least(LOBBY_TIMEOUT_MS - 50);
      // The request is gone: a moderator can no longer answer it.
      const annCall = await inCall(nodeA(), ann, room.id);
      expect(await quietFor(annCall.socket, 'call:knock', 200)).to.deep.equal([]);
    });
  });
}
