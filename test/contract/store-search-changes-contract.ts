import { expect } from 'chai';
import { randomUUID } from 'node:crypto';
import type { ChangeOp } from '../../src/domain/message-change.js';
import type { Store } from '../../src/ports/store.js';
import { searchHelpers } from './store-search-contract.js';

/**
 * Search over a history that changes: edits, deletes, changes applied in cluster mode. A
 * message is found by its current text only, whether it changed before the room was first
 * searched or after.
 */
export function registerSearchChangesContract(current: () => Store): void {
  describe('search follows edits and deletes', () => {
    const { newRoom, post, texts } = searchHelpers(current);
    const change = (roomId: string, seq: number, op: ChangeOp) =>
      current().change({ roomId, seq, op, actor: { id: 'u1', moderator: false }, at: new Date().toISOString() });

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
