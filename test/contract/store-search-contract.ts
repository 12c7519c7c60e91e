import { expect } from 'chai';
import { randomUUID } from 'node:crypto';
import type { Message } from '../../src/protocol/models.js';
import type { Store } from '../../src/ports/store.js';
import { registerSearchChangesContract } from './store-search-changes-contract.js';

/** A room, messages in it and searches, on the store `current()` answers (shared by the search suites). */
export function searchHelpers(current: () => Store) {
  const newRoom = () =>
    current().createRoom({ id: randomUUID(), name: 'room', isPrivate: false, maxParticipants: 8, createdBy: 'owner', createdAt: new Date().toISOString() });
  /** Appends the texts in order, from u1; the messages as stored. */
  const post = async (roomId: string, ...texts: string[]): Promise<Message[]> => {
    const out: Message[] = [];
    for (const text of texts) {
      const m = { id: randomUUID(), roomId, senderId: 'u1', senderName: 'U', text, clientMsgId: randomUUID(), createdAt: new Date().toISOString() };
      out.push((await current().append(m)).message);
    }
    return out;
  };
  const texts = async (roomId: string, q: string, limit = 20) => (await current().searchMessages(roomId, q, limit)).messages.map((m) => m.text);
  return { newRoom, post, texts };
}

/**
 * The search part of the Store contract (registered by registerStoreContract, so every
 * store runs it): matching by the shared word rule, ranking, the room boundary, limits.
 */
export function registerSearchContract(current: () => Store): void {
  describe('search', () => {
    const { newRoom, post, texts } = searchHelpers(current);

    it('finds messages holding every word of the query, whole words, case-insensitive, without stemming', async () => {
      const { id } = await newRoom();
      await post(id, 'The Quick brown fox', 'a quick decision', 'quickly running foxes', 'BROWN and quick');
      expect(await texts(id, 'quick')).to.have.members(['The Quick brown fox', 'a quick decision', 'BROWN and quick']);
      expect(await texts(id, 'QUICK brown')).to.have.members(['The Quick brown fox', 'BROWN and quick']);
      expect(await texts(id, 'fox')).to.deep.equal(['The Quick brown fox']);
      expect(await texts(id, 'run')).to.deep.equal([]);
      expect(await texts(id, 'quick purple')).to.deep.equal([]);
    });

    it('answers the found messages whole, as history has them', async () => {
      const { id } = await newRoom();
      const [m] = await post(id, 'a message to find');
      const page = await current().searchMessages(id, 'find', 20);
      expect(page).to.deep.equal({ messages: [m], hasMore: false });
    });

    it('treats the query as plain text: quotes, operators and wildcards are words or nothing', async () => {
      const { id } = await newRoom();
      await post(id, 'cats OR dogs', 'cats and birds', 'say "NEAR" me');
      expect(await texts(id, 'cats OR')).to.deep.equal(['cats OR dogs']);
      expect(await texts(id, 'near(')).to.deep.equal(['say "NEAR" me']);
      expect(await texts(id, '"cats" AND* -dogs')).to.deep.equal([]);
      for (const q of ['"', '*', 'NOT', '^cats', 'words: cats', '(', '""""', '{near}']) await current().searchMessages(id, q, 20);
      expect(await texts(id, '!!! ...')).to.deep.equal([]);
    });

    it('compares words after NFKC and lower-casing; diacritics count; any script', async () => {
      const { id } = await newRoom();
      await post(id, 'Ｆｕｌｌｗｉｄｔｈ text', 'un café noir', 'cafe au lait', 'नमस्ते दुनिया', 'ΣΟΦΊΑ', 'Straße 5');
      expect(await texts(id, 'fullwidth')).to.deep.equal(['Ｆｕｌｌｗｉｄｔｈ text']);
      expect(await texts(id, 'CAFÉ')).to.deep.equal(['un café noir']);
      expect(await texts(id, 'cafe')).to.deep.equal(['cafe au lait']);
      expect(await texts(id, 'दुनिया')).to.deep.equal(['नमस्ते दुनिया']);
      expect(await texts(id, 'σοφία')).to.deep.equal(['ΣΟΦΊΑ']);
      expect(await texts(id, 'straße 5')).to.deep.equal(['Straße 5']);
    });

    it('ranks more frequent and denser matches first; equal matches newest first', async () => {
      const { id } = await newRoom();
      await post(id, 'apple and a long tail of other words here to dilute it', 'apple apple apple', 'apple pie', 'apple pie');
      const found = await current().searchMessages(id, 'apple', 20);
      expect(found.messages.map((m) => m.text)).to.deep.equal(['apple apple apple', 'apple pie', 'apple pie', 'apple and a long tail of other words here to dilute it']);
      // The two equal ones: newest first.
      expect(found.messages[1]!.seq).to.be.greaterThan(found.messages[2]!.seq);
    });

    it("searches one room only, and a deleted room's messages are gone", async () => {
      const a = await newRoom();
      const b = await newRoom();
      await post(a.id, 'shared word alpha');
      await post(b.id, 'shared word beta');
      expect(await texts(a.id, 'shared')).to.deep.equal(['shared word alpha']);
      expect(await texts('no-such-room', 'shared')).to.deep.equal([]);
      await current().deleteRoom(b.id);
      expect(await texts(b.id, 'shared')).to.deep.equal([]);
      expect(await texts(a.id, 'shared')).to.deep.equal(['shared word alpha']);
    });

    it('answers at most `limit` messages and says when more match', async () => {
      const { id } = await newRoom();
      await post(id, ...Array.from({ length: 7 }, (_, i) => `needle ${i}`));
      const page = await current().searchMessages(id, 'needle', 5);
      expect(page.messages).to.have.length(5);
      expect(page.hasMore).to.equal(true);
      expect((await current().searchMessages(id, 'needle', 7)).hasMore).to.equal(false);
    });

    it('finds messages stored by insertAssigned (cluster mode) like appended ones', async () => {
      const { id } = await newRoom();
      const assigned = [1, 2].map((seq) => ({ id: randomUUID(), roomId: id, seq, senderId: 'u', senderName: 'U', text: `queued message ${seq}`, clientMsgId: null, createdAt: new Date().toISOString() }));
      await current().insertAssigned(assigned);
      await current().insertAssigned(assigned);
      expect((await current().searchMessages(id, 'queued', 20)).messages).to.deep.equal([assigned[1], assigned[0]]);
    });

    registerSearchChangesContract(current);
  });
}
