import { expect } from 'chai';
import { randomUUID } from 'node:crypto';
import type { Store, NewMessage } from '../../src/ports/store.js';
import { registerSearchContract } from './store-search-contract.js';

/**
 * The contract every Store implementation must keep. Registered once per implementation
 * (SQLite always, MongoDB when MONGODB_URI is set), never copied per backend.
 */
export function registerStoreContract(name: string, open: () => Promise<Store>): void {
  describe(`Store contract: ${name}`, () => {
    let store: Store;
    beforeEach(async () => {
      store = await open();
    });
    afterEach(async () => {
      await store.close();
    });

    const newRoom = async (overrides: Partial<{ isPrivate: boolean; createdBy: string }> = {}) =>
      store.createRoom({
        id: randomUUID(),
        name: 'room',
        isPrivate: overrides.isPrivate ?? false,
        maxParticipants: 8,
        createdBy: overrides.createdBy ?? 'owner',
        createdAt: new Date().toISOString(),
      });
    const msg = (roomId: string, text: string, clientMsgId: string | null = randomUUID()): NewMessage => ({
      id: randomUUID(),
      roomId,
      senderId: 'u1',
      senderName: 'User One',
      text,
      clientMsgId,
      createdAt: new Date().toISOString(),
    });

    it('creates and reads a room with lastSeq 0; an unknown id reads as null', async () => {
      const room = await newRoom();
      expect(await store.getRoom(room.id)).to.deep.equal({ ...room, lastSeq: 0 });
      expect(await store.getRoom('no-such-room')).to.equal(null);
    });

    it('assigns seq 1, 2, 3 … per room, independently for each room', async () => {
      const a = await newRoom();
      const b = await newRoom();
      const seqA = [];
      for (let i = 0; i < 3; i++) seqA.push((await store.append(msg(a.id, `a${i}`))).message.seq);
      const seqB = (await store.append(msg(b.id, 'b0'))).message.seq;
      expect(seqA).to.deep.equal([1, 2, 3]);
      expect(seqB).to.equal(1);
      expect((await store.getRoom(a.id))!.lastSeq).to.equal(3);
    });

    it('assigns unique gapless seqs to concurrent appends', async () => {
      const room = await newRoom();
      const results = await Promise.all(Array.from({ length: 50 }, (_, i) => store.append(msg(room.id, `m${i}`))));
      const seqs = results.map((r) => r.message.seq).sort((x, y) => x - y);
      expect(seqs).to.deep.equal(Array.from({ length: 50 }, (_, i) => i + 1));
    });

    it('stores a clientMsgId once and returns the original on a retry', async () => {
      const room = await newRoom();
      const first = await store.append(msg(room.id, 'hello', 'c-1'));
      const retry = await store.append(msg(room.id, 'hello again', 'c-1'));
      const concurrent = await Promise.all([store.append(msg(room.id, 'x', 'c-2')), store.append(msg(room.id, 'y', 'c-2'))]);
      expect(first.created).to.equal(true);
      expect(retry).to.deep.equal({ message: first.message, created: false });
      expect(concurrent.filter((r) => r.created)).to.have.length(1);
      expect(concurrent[0]!.message).to.deep.equal(concurrent[1]!.message);
      const page = await store.listMessages(room.id, { limit: 100 });
      expect(page.messages.map((m) => m.seq)).to.deep.equal([1, 2]);
      expect(await store.findByClientMsgId(room.id, 'c-1')).to.deep.equal(first.message);
    });

    it('refuses an append to a room that does not exist, and stores nothing', async () => {
      let code: string | undefined;
      try {
        await store.append(msg('missing-room', 'x'));
      } catch (err) {
        code = (err as { code?: string }).code;
      }
      expect(code).to.equal('ROOM_NOT_FOUND');
      expect((await store.listMessages('missing-room', { limit: 10 })).messages).to.deep.equal([]);
    });

    it('keeps text exactly, including markup, quotes and non-BMP characters', async () => {
      const room = await newRoom();
      const text = `<script>alert("x")</script> 'quote' \u{1F600} line\nbreak`;
      const { message } = await store.append(msg(room.id, text));
      expect((await store.listMessages(room.id, { limit: 1 })).messages[0]).to.deep.equal(message);
      expect(message.text).to.equal(text);
    });

    describe('history paging by seq', () => {
      let roomId: string;
      beforeEach(async () => {
        roomId = (await newRoom()).id;
        for (let i = 1; i <= 10; i++) await store.append(msg(roomId, `m${i}`));
      });
      const seqs = (p: { messages: { seq: number }[] }) => p.messages.map((m) => m.seq);

      it('without a cursor returns the newest page, oldest first, and says older ones exist', async () => {
        const page = await store.listMessages(roomId, { limit: 3 });
        expect(seqs(page)).to.deep.equal([8, 9, 10]);
        expect(page.hasMore).to.equal(true);
        const all = await store.listMessages(roomId, { limit: 100 });
        expect(seqs(all)).to.deep.equal([1, 2, 3, 4, 5, 6, 7, 8, 9, 10]);
        expect(all.hasMore).to.equal(false);
      });

      it('after=N returns the messages after N, oldest first', async () => {
        const page = await store.listMessages(roomId, { after: 4, limit: 3 });
        expect(seqs(page)).to.deep.equal([5, 6, 7]);
        expect(page.hasMore).to.equal(true);
        const tail = await store.listMessages(roomId, { after: 7, limit: 3 });
        expect(seqs(tail)).to.deep.equal([8, 9, 10]);
        expect(tail.hasMore).to.equal(false);
      });

      it('before=N returns the newest messages below N, oldest first', async () => {
        const page = await store.listMessages(roomId, { before: 5, limit: 2 });
        expect(seqs(page)).to.deep.equal([3, 4]);
        expect(page.hasMore).to.equal(true);
        const head = await store.listMessages(roomId, { before: 3, limit: 5 });
        expect(seqs(head)).to.deep.equal([1, 2]);
        expect(head.hasMore).to.equal(false);
      });

      it('after and before together bound a range', async () => {
        const page = await store.listMessages(roomId, { after: 2, before: 6, limit: 10 });
        expect(seqs(page)).to.deep.equal([3, 4, 5]);
        expect(page.hasMore).to.equal(false);
      });
    });

    describe('rooms their owners run', () => {
      const member = async (roomId: string, userId: string) => store.getMember(roomId, userId);

      it('keeps members per room: adding twice keeps one row and its role; a name fills in', async () => {
        const room = await newRoom({ isPrivate: true });
        expect(await member(room.id, 'u2')).to.equal(null);
        await store.addMember(room.id, 'u2', { role: 'moderator' });
        await store.addMember(room.id, 'u2', { name: 'User Two' });
        const row = await member(room.id, 'u2');
        expect(row).to.include({ userId: 'u2', name: 'User Two', role: 'moderator', banned: false });
        expect(Date.parse(row!.addedAt)).to.be.greaterThan(0);
        expect(await member(room.id, 'u3')).to.equal(null);
        const other = await newRoom();
        expect(await member(other.id, 'u2')).to.equal(null);
      });

      it('shows a member without a known name by their user id', async () => {
        const room = await newRoom();
        await store.addMember(room.id, 'u9');
        expect((await member(room.id, 'u9'))!.name).to.equal('u9');
      });

      it('sets roles (adding the user if needed) and a role change lifts a ban', async () => {
        const room = await newRoom();
        await store.setRole(room.id, 'u2', 'moderator');
        expect((await member(room.id, 'u2'))!.role).to.equal('moderator');
        await store.removeMember(room.id, 'u2', true);
        expect(await member(room.id, 'u2')).to.include({ banned: true, role: 'member' });
        await store.setRole(room.id, 'u2', 'member');
        expect(await member(room.id, 'u2')).to.include({ banned: false, role: 'member' });
      });

      it('removes a member; a ban keeps a banned row that adding again does not lift', async () => {
        const room = await newRoom();
        await store.addMember(room.id, 'u2');
        expect(await store.removeMember(room.id, 'u2', false)).to.equal(true);
        expect(await member(room.id, 'u2')).to.equal(null);
        expect(await store.removeMember(room.id, 'u2', false)).to.equal(false);
        // A ban holds also for a user who never was a member (a public room's visitor).
        expect(await store.removeMember(room.id, 'u3', true)).to.equal(false);
        await store.addMember(room.id, 'u3', { name: 'Three' });
        expect(await member(room.id, 'u3')).to.include({ banned: true });
      });

      it('lists members by user id in pages, without banned users', async () => {
        const room = await newRoom();
        for (const u of ['m3', 'm1', 'm2', 'm4']) await store.addMember(room.id, u);
        await store.removeMember(room.id, 'm4', true);
        const first = await store.listMembers(room.id, { limit: 2 });
        expect(first.map((m) => m.userId)).to.deep.equal(['m1', 'm2']);
        const rest = await store.listMembers(room.id, { limit: 2, after: 'm2' });
        expect(rest.map((m) => m.userId)).to.deep.equal(['m3']);
      });

      it("lists a user's rooms with their role, by room id, in pages; not where banned", async () => {
        const rooms = [await newRoom(), await newRoom(), await newRoom(), await newRoom()];
        await store.addMember(rooms[0]!.id, 'lister', { role: 'owner' });
        await store.addMember(rooms[1]!.id, 'lister');
        await store.setRole(rooms[2]!.id, 'lister', 'moderator');
        await store.removeMember(rooms[3]!.id, 'lister', true);
        const expected = rooms.slice(0, 3).map((r) => r.id).sort();
        const first = await store.listRoomsOf('lister', { limit: 2 });
        const rest = await store.listRoomsOf('lister', { limit: 2, after: first.at(-1)!.id });
        expect([...first, ...rest].map((r) => r.id)).to.deep.equal(expected);
        const byId = new Map([...first, ...rest].map((r) => [r.id, r]));
        expect(byId.get(rooms[0]!.id)).to.deep.include({ role: 'owner', name: 'room', lastSeq: 0, locked: false, lobby: false });
        expect(byId.get(rooms[2]!.id)!.role).to.equal('moderator');
      });

      it('updates the given settings only; an unknown room gives null', async () => {
        const room = await newRoom();
        const updated = await store.updateRoom(room.id, { name: 'renamed', locked: true });
        expect(updated).to.deep.equal({ ...room, name: 'renamed', locked: true });
        expect(await store.getRoom(room.id)).to.deep.equal(updated);
        expect(await store.updateRoom(room.id, { lobby: true, isPrivate: true, maxParticipants: 4 })).to.deep.include({ lobby: true, isPrivate: true, maxParticipants: 4, locked: true });
        expect(await store.updateRoom('no-such-room', { name: 'x' })).to.equal(null);
      });

      it('deletes a room with its members, messages and cursors; a second delete finds nothing', async () => {
        const room = await newRoom();
        await store.addMember(room.id, 'u2');
        await store.append(msg(room.id, 'hello', 'c-del'));
        await store.setCursor(room.id, 'u2', 1);
        const other = await newRoom();
        await store.append(msg(other.id, 'stays'));
        expect(await store.deleteRoom(room.id)).to.equal(true);
        expect(await store.getRoom(room.id)).to.equal(null);
        expect(await member(room.id, 'u2')).to.equal(null);
        expect((await store.listMessages(room.id, { limit: 10 })).messages).to.deep.equal([]);
        expect(await store.findByClientMsgId(room.id, 'c-del')).to.equal(null);
        expect(await store.getCursor(room.id, 'u2')).to.equal(0);
        expect(await store.listRoomsOf('u2', { limit: 10 })).to.deep.equal([]);
        expect(await store.deleteRoom(room.id)).to.equal(false);
        expect((await store.listMessages(other.id, { limit: 10 })).messages).to.have.length(1);
      });
    });

    it('moves a delivery cursor forward only', async () => {
      const room = await newRoom();
      expect(await store.getCursor(room.id, 'u1')).to.equal(0);
      await store.setCursor(room.id, 'u1', 5);
      await store.setCursor(room.id, 'u1', 3);
      expect(await store.getCursor(room.id, 'u1')).to.equal(5);
    });

    it('insertAssigned drops (and counts) messages of a room deleted while they were queued', async () => {
      const gone = await newRoom();
      const kept = await newRoom();
      await store.deleteRoom(gone.id);
      const outcome = await store.insertAssigned([{ ...msg(gone.id, 'late'), seq: 1 }, { ...msg(kept.id, 'fine'), seq: 1 }]);
      expect(outcome).to.deep.equal({ dropped: 1 });
      expect((await store.listMessages(gone.id, { limit: 10 })).messages).to.deep.equal([]);
      expect((await store.listMessages(kept.id, { limit: 10 })).messages.map((m) => m.text)).to.deep.equal(['fine']);
    });

    it('insertAssigned stores pre-sequenced messages once, even when delivered twice', async () => {
      const room = await newRoom();
      const assigned = [1, 2, 3].map((seq) => ({ ...msg(room.id, `m${seq}`), seq }));
      await store.insertAssigned(assigned);
      await store.insertAssigned(assigned);
      const page = await store.listMessages(room.id, { limit: 10 });
      expect(page.messages).to.deep.equal(assigned);
      expect((await store.getRoom(room.id))!.lastSeq).to.equal(3);
    });

    it('insertAssigned refuses a message whose seq is taken by another one (CONFLICT) and does not store it', async () => {
      const room = await newRoom();
      const first = { ...msg(room.id, 'first'), seq: 1 };
      await store.insertAssigned([first]);
      const clash = { ...msg(room.id, 'clash'), seq: 1 };
      const fine = { ...msg(room.id, 'fine'), seq: 2 };
      let code: string | undefined;
      try {
        await store.insertAssigned([fine, clash]);
      } catch (err) {
        code = (err as { code?: string }).code;
      }
      expect(code).to.equal('CONFLICT');
      const page = await store.listMessages(room.id, { limit: 10 });
      expect(page.messages.map((m) => m.text)).to.include('first');
      expect(page.messages.map((m) => m.text)).to.not.include('clash');
      // Whatever part of the batch was stored, the room's counter is not behind it.
      expect((await store.getRoom(room.id))!.lastSeq).to.equal(Math.max(...page.messages.map((m) => m.seq)));
    });

    it('lastSeq is the newest assigned seq: 0 for an unknown or empty room, then what appends and insertAssigned stored', async () => {
      const room = await newRoom();
      expect([await store.lastSeq('no-such-room'), await store.lastSeq(room.id)]).to.deep.equal([0, 0]);
      await store.append(msg(room.id, 'a'));
      await store.append(msg(room.id, 'b'));
      expect(await store.lastSeq(room.id)).to.equal(2);
      await store.insertAssigned([{ ...msg(room.id, 'c'), seq: 3 }]);
      expect(await store.lastSeq(room.id)).to.equal(3);
    });

    it('answers ping while open', async () => {
      await store.ping();
    });

    registerSearchContract(() => store);
  });
}
