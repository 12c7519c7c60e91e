import { expect } from 'chai';
import { randomUUID } from 'node:crypto';
import type { ChangeOp, ChangeRequest } from '../../src/domain/message-change.js';
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
        await store.setReadMarker(room.id, 'u2', 1);
        const other = await newRoom();
        await store.append(msg(other.id, 'stays'));
        expect(await store.deleteRoom(room.id)).to.equal(true);
        expect(await store.getRoom(room.id)).to.equal(null);
        expect(await member(room.id, 'u2')).to.equal(null);
        expect((await store.listMessages(room.id, { limit: 10 })).messages).to.deep.equal([]);
        expect(await store.findByClientMsgId(room.id, 'c-del')).to.equal(null);
        expect(await store.getCursor(room.id, 'u2')).to.equal(0);
        expect(await store.getReadMarker(room.id, 'u2')).to.equal(0);
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

    describe('read markers', () => {
      it('start at 0 and move forward only, saying whether they moved; per room and per user', async () => {
        const room = await newRoom();
        const other = await newRoom();
        expect(await store.getReadMarker(room.id, 'u1')).to.equal(0);
        expect(await store.setReadMarker(room.id, 'u1', 0)).to.equal(false);
        expect(await store.setReadMarker(room.id, 'u1', 4)).to.equal(true);
        expect(await store.setReadMarker(room.id, 'u1', 2)).to.equal(false);
        expect(await store.setReadMarker(room.id, 'u1', 4)).to.equal(false);
        expect(await store.getReadMarker(room.id, 'u1')).to.equal(4);
        expect(await store.setReadMarker(room.id, 'u1', 7)).to.equal(true);
        expect(await store.getReadMarker(room.id, 'u1')).to.equal(7);
        expect(await store.getReadMarker(room.id, 'u2')).to.equal(0);
        expect(await store.getReadMarker(other.id, 'u1')).to.equal(0);
        // The delivery cursor is another thing: neither moves the other.
        expect(await store.getCursor(room.id, 'u1')).to.equal(0);
        await store.setCursor(other.id, 'u1', 9);
        expect(await store.getReadMarker(other.id, 'u1')).to.equal(0);
      });

      it('keep the highest of concurrent moves of one marker, single and batched', async () => {
        const room = await newRoom();
        const batch = (seq: number) => store.setReadMarkers([{ roomId: room.id, userId: 'u1', seq }]).then(() => false);
        const moved = await Promise.all([5, 9, 3, 12, 8, 1, 11, 2].map((seq, i) => (i % 3 === 2 ? batch(seq) : store.setReadMarker(room.id, 'u1', seq))));
        expect(moved).to.include(true);
        expect(await store.getReadMarker(room.id, 'u1')).to.equal(12);
      });

      it('move in batches, forward only, the highest of one batch winning', async () => {
        const a = await newRoom();
        const b = await newRoom();
        await store.setReadMarker(a.id, 'u1', 6);
        await store.setReadMarkers([
          { roomId: a.id, userId: 'u1', seq: 3 },
          { roomId: a.id, userId: 'u2', seq: 2 },
          { roomId: a.id, userId: 'u2', seq: 5 },
          { roomId: b.id, userId: 'u1', seq: 1 },
          { roomId: b.id, userId: 'u3', seq: 0 },
        ]);
        await store.setReadMarkers([]);
        expect(await store.getReadMarker(a.id, 'u1')).to.equal(6);
        expect(await store.getReadMarker(a.id, 'u2')).to.equal(5);
        expect(await store.getReadMarker(b.id, 'u1')).to.equal(1);
        expect(await store.getReadMarker(b.id, 'u3')).to.equal(0);
      });

      it("reads a user's markers in many rooms at once, leaving out rooms without one", async () => {
        const rooms = await Promise.all([newRoom(), newRoom(), newRoom()]);
        await store.setReadMarker(rooms[0]!.id, 'u1', 2);
        await store.setReadMarker(rooms[2]!.id, 'u1', 7);
        await store.setReadMarker(rooms[1]!.id, 'u2', 4);
        const markers = await store.readMarkers('u1', [...rooms.map((r) => r.id), 'no-such-room']);
        expect(Object.fromEntries(markers)).to.deep.equal({ [rooms[0]!.id]: 2, [rooms[2]!.id]: 7 });
        expect((await store.readMarkers('u1', [])).size).to.equal(0);
        expect((await store.readMarkers('nobody', [rooms[0]!.id])).size).to.equal(0);
      });
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

    describe('changes to messages (edits, deletes, reactions) and the room rev', () => {
      const change = (roomId: string, seq: number, op: ChangeOp, actor = 'u1', moderator = false): ChangeRequest => ({
        roomId,
        seq,
        op,
        actor: { id: actor, moderator },
        at: new Date().toISOString(),
      });
      const codeOf = (p: Promise<unknown>) => p.then(() => 'resolved', (err: { code?: string }) => err.code);

      it('a new message has no change fields, a reply keeps replyTo, and rev starts at 0 (lastRev on the room)', async () => {
        const room = await newRoom();
        const first = (await store.append(msg(room.id, 'a'))).message;
        const reply = (await store.append({ ...msg(room.id, 'b'), replyTo: 1 })).message;
        expect(first).to.not.have.any.keys('rev', 'editedAt', 'deletedAt', 'reactions', 'replyTo');
        expect(reply.replyTo).to.equal(1);
        expect(await store.getMessage(room.id, 2)).to.deep.equal(reply);
        expect((await store.getRoom(room.id))!.lastRev).to.equal(0);
        expect(await store.lastRev(room.id)).to.equal(0);
      });

      it('edits, reacts and deletes with rev 1, 2, 3 …; seq stays; a change already made changes nothing', async () => {
        const room = await newRoom();
        await store.append(msg(room.id, 'one'));
        await store.append(msg(room.id, 'two'));
        const edited = await store.change(change(room.id, 1, { kind: 'edit', text: 'ONE' }));
        expect(edited.changed).to.equal(true);
        expect(edited.message).to.include({ seq: 1, text: 'ONE', rev: 1 });
        expect(edited.message.editedAt).to.be.a('string');
        const again = await store.change(change(room.id, 1, { kind: 'edit', text: 'ONE' }));
        expect(again).to.deep.equal({ message: edited.message, changed: false });
        const reacted = await store.change(change(room.id, 2, { kind: 'react', emoji: '👍', on: true }, 'u2'));
        expect(reacted.message.reactions).to.deep.equal([{ emoji: '👍', count: 1, userIds: ['u2'] }]);
        expect((await store.change(change(room.id, 2, { kind: 'react', emoji: '👍', on: true }, 'u2'))).changed).to.equal(false);
        const both = await store.change(change(room.id, 2, { kind: 'react', emoji: '👍', on: true }, 'u3'));
        expect(both.message).to.include({ rev: 3 });
        expect(both.message.reactions).to.deep.equal([{ emoji: '👍', count: 2, userIds: ['u2', 'u3'] }]);
        const deleted = await store.change(change(room.id, 2, { kind: 'delete' }, 'mod', true));
        expect(deleted.message).to.include({ seq: 2, text: '', rev: 4 });
        expect(deleted.message.deletedAt).to.be.a('string');
        expect(deleted.message).to.not.have.property('reactions');
        expect((await store.change(change(room.id, 2, { kind: 'delete' }))).changed).to.equal(false);
        expect(await store.lastRev(room.id)).to.equal(4);
        expect((await store.getRoom(room.id))!).to.include({ lastRev: 4, lastSeq: 2 });
        const page = await store.listMessages(room.id, { limit: 10 });
        expect(page.messages).to.deep.equal([edited.message, deleted.message]);
        expect(await store.findById(deleted.message.id)).to.deep.equal(deleted.message);
        expect(await store.findByClientMsgId(room.id, deleted.message.clientMsgId!)).to.deep.equal(deleted.message);
        // A retried send of the deleted message's clientMsgId gets it deleted.
        expect((await store.append({ ...msg(room.id, 'two', deleted.message.clientMsgId) })).message).to.deep.equal(deleted.message);
      });

      it('refuses what the rules refuse and changes nothing', async () => {
        const room = await newRoom();
        await store.append(msg(room.id, 'mine'));
        expect(await codeOf(store.change(change(room.id, 9, { kind: 'edit', text: 'x' })))).to.equal('MESSAGE_NOT_FOUND');
        expect(await codeOf(store.change(change('no-such-room', 1, { kind: 'edit', text: 'x' })))).to.equal('MESSAGE_NOT_FOUND');
        expect(await codeOf(store.change(change(room.id, 1, { kind: 'edit', text: 'x' }, 'u2', true)))).to.equal('FORBIDDEN');
        expect(await codeOf(store.change(change(room.id, 1, { kind: 'delete' }, 'u2')))).to.equal('FORBIDDEN');
        for (let i = 0; i < 20; i++) await store.change(change(room.id, 1, { kind: 'react', emoji: String.fromCodePoint(0x1f600 + i), on: true }));
        expect(await codeOf(store.change(change(room.id, 1, { kind: 'react', emoji: '🎉', on: true })))).to.equal('CONFLICT');
        await store.change(change(room.id, 1, { kind: 'delete' }));
        expect(await codeOf(store.change(change(room.id, 1, { kind: 'edit', text: 'back' })))).to.equal('CONFLICT');
        expect(await codeOf(store.change(change(room.id, 1, { kind: 'react', emoji: '👍', on: true })))).to.equal('CONFLICT');
        expect(await store.lastRev(room.id)).to.equal(21);
        expect((await store.getMessage(room.id, 1))!).to.include({ text: '', rev: 21 });
      });

      it('concurrent reactions of many users are all kept, each with its own rev', async () => {
        const room = await newRoom();
        await store.append(msg(room.id, 'popular'));
        const users = Array.from({ length: 10 }, (_, i) => `user${i}`);
        await Promise.all(users.map((u) => store.change(change(room.id, 1, { kind: 'react', emoji: '❤️', on: true }, u))));
        const m = (await store.getMessage(room.id, 1))!;
        expect(m.reactions![0]!.count).to.equal(10);
        expect([...m.reactions![0]!.userIds].sort()).to.deep.equal([...users].sort());
      });

      it('lists messages up to maxSeq changed after a rev, by rev, in pages', async () => {
        const room = await newRoom();
        for (let i = 1; i <= 5; i++) await store.append(msg(room.id, `m${i}`));
        await store.change(change(room.id, 3, { kind: 'edit', text: 'three' }));
        await store.change(change(room.id, 1, { kind: 'edit', text: 'one' }));
        await store.change(change(room.id, 5, { kind: 'edit', text: 'five' }));
        await store.change(change(room.id, 3, { kind: 'edit', text: 'THREE' }));
        const all = await store.listChangedSince(room.id, 0, 5, 10);
        expect(all.messages.map((m) => [m.seq, m.rev, m.text])).to.deep.equal([[1, 2, 'one'], [5, 3, 'five'], [3, 4, 'THREE']]);
        expect(all.hasMore).to.equal(false);
        const page = await store.listChangedSince(room.id, 0, 5, 2);
        expect(page.messages.map((m) => m.seq)).to.deep.equal([1, 5]);
        expect(page.hasMore).to.equal(true);
        expect((await store.listChangedSince(room.id, 3, 5, 10)).messages.map((m) => m.seq)).to.deep.equal([3]);
        expect((await store.listChangedSince(room.id, 0, 4, 10)).messages.map((m) => m.seq)).to.deep.equal([1, 3]);
      });

      it('applyAssigned: higher rev wins whatever the order; missing and dropped are told', async () => {
        const room = await newRoom();
        const base = { ...msg(room.id, 'orig'), seq: 1 };
        await store.insertAssigned([base]);
        const v2 = { ...base, text: 'second', editedAt: new Date().toISOString(), rev: 2 };
        const v1 = { ...base, text: 'first', editedAt: new Date().toISOString(), rev: 1 };
        expect(await store.applyAssigned(v2)).to.equal('applied');
        expect(await store.applyAssigned(v1)).to.equal('stale');
        expect(await store.applyAssigned(v2)).to.equal('stale');
        expect(await store.getMessage(room.id, 1)).to.deep.equal(v2);
        expect(await store.lastRev(room.id)).to.equal(2);
        expect(await store.applyAssigned({ ...base, seq: 7, id: 'other', rev: 3 })).to.equal('missing');
        const gone = await newRoom();
        await store.deleteRoom(gone.id);
        expect(await store.applyAssigned({ ...base, roomId: gone.id, rev: 3 })).to.equal('dropped');
      });
    });

    it('answers ping while open', async () => {
      await store.ping();
    });

    registerSearchContract(() => store);
  });
}
