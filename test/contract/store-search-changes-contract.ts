import { expect } from 'chai';
import { randomUUID } from 'node:crypto';
import type { ChangeOp } from '../../src/domain/message-change.js';
import type { Store } from '../../src/ports/store.js';
import { searchHelpers } from './store-search-contract.js';

/**
 * Search over a history that grows and changes: messages stored after a search or late (out
 * of seq order, as cluster mode stores them), edits, deletes, changes applied in cluster
 * mode. A message is found by its current text only, whether it was stored or changed before
 * the room was first searched or after.
 */
export function registerSearchChangesContract(current: () => Store): void {
  describe('search follows the history as it grows and changes', () => {
    const { newRoom, post, texts } = searchHelpers(current);
    const change = (roomId: string, seq: number, op: ChangeOp) =>
      current().change({ roomId, seq, op, actor: { id: 'u1', moderator: false }, at: new Date().toISOString() });

    it('finds a message stored after a search by the next search', async () => {
      const { id } = await newRoom();
      await post(id, 'early bird');
      expect(await texts(id, 'bird')).to.deep.equal(['early bird']);
      await post(id, 'late bird');
      expect(await texts(id, 'bird')).to.have.members(['early bird', 'late bird']);
      expect(await texts(id, 'late')).to.deep.equal(['late bird']);
    });

    it('finds a late message: stored (cluster mode) with a seq below messages already searched', async () => {
      const { id } = await newRoom();
      const at = new Date().toISOString();
      const assigned = (seq: number, text: string) => ({ id: randomUUID(), roomId: id, seq, senderId: 'u1', senderName: 'U', text, clientMsgId: null, createdAt: at });
      // Seq 2 is still in the queue (seq 3 was stored first); seq 4 never will be (dead-lettered).
      await current().insertAssigned([assigned(1, 'gap one'), assigned(3, 'gap three'), assigned(5, 'gap five')]);
      expect(await texts(id, 'gap')).to.have.members(['gap one', 'gap three', 'gap five']);
      await current().insertAssigned([assigned(2, 'gap two arrives late')]);
      expect(await texts(id, 'late')).to.deep.equal(['gap two arrives late']);
      await current().insertAssigned([assigned(6, 'gap six')]);
      expect(await texts(id, 'gap')).to.have.length(5);
    });

    it('finds an edited message by its new text only, edited before the room was first searched or after', async () => {
      const { id } = await newRoom();
      await post(id, 'first draft', 'second draft');
      await change(id, 1, { kind: 'edit', text: 'final wording' });
      expect(await texts(id, 'draft')).to.deep.equal(['second draft']);
      await change(id, 2, { kind: 'edit', text: 'other wording' });
      expect(await texts(id, 'draft')).to.deep.equal([]);
      expect(await texts(id, 'first')).to.deep.equal([]);
      expect(await texts(id, 'wording')).to.have.members(['final wording', 'other wording']);
      // A reaction writes the message again without changing its words.
      await change(id, 2, { kind: 'react', emoji: '👍', on: true });
      expect(await texts(id, 'other')).to.deep.equal(['other wording']);
    });

    it('never finds a deleted message, deleted before the room was first searched or after', async () => {
      const { id } = await newRoom();
      await post(id, 'gone early', 'gone late', 'stays here');
      await change(id, 1, { kind: 'delete' });
      expect(await texts(id, 'gone')).to.deep.equal(['gone late']);
      await change(id, 2, { kind: 'delete' });
      expect(await texts(id, 'gone')).to.deep.equal([]);
      expect(await texts(id, 'stays')).to.deep.equal(['stays here']);
    });

    it('follows changes applied in cluster mode (applyAssigned) the same way', async () => {
      const { id } = await newRoom();
      const at = new Date().toISOString();
      const [one, two] = [randomUUID(), randomUUID()];
      const base = { id: one, roomId: id, seq: 1, senderId: 'u1', senderName: 'U', text: 'queued original', clientMsgId: null, createdAt: at };
      await current().insertAssigned([base, { ...base, id: two, seq: 2, text: 'queued other' }]);
      await current().applyAssigned({ ...base, text: 'queued rewrite', editedAt: at, rev: 1 });
      expect(await texts(id, 'original')).to.deep.equal([]);
      expect(await texts(id, 'rewrite')).to.deep.equal(['queued rewrite']);
      await current().applyAssigned({ ...base, seq: 2, id: two, text: '', deletedAt: at, rev: 2 });
      expect(await texts(id, 'queued')).to.deep.equal(['queued rewrite']);
    });
  });
}
