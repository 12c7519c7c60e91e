import { expect } from 'chai';
import { randomUUID } from 'node:crypto';
import type { Store, NewMessage } from '../../src/ports/store.js';

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

    it('keeps members per room', async () => {
      const room = await newRoom({ isPrivate: true });
      expect(await store.isMember(room.id, 'u2')).to.equal(false);
      await store.addMember(room.id, 'u2');
      await store.addMember(room.id, 'u2');
      expect(await store.isMember(room.id, 'u2')).to.equal(true);
      expect(await store.isMember(room.id, 'u3')).to.equal(false);
    });

    it('moves a delivery cursor forward only', async () => {
      const room = await newRoom();
      expect(await store.getCursor(room.id, 'u1')).to.equal(0);
      await store.setCursor(room.id, 'u1', 5);
      await store.setCursor(room.id, 'u1', 3);
      expect(await store.getCursor(room.id, 'u1')).to.equal(5);
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
  });
}
