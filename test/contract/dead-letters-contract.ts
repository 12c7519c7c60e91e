import { expect } from 'chai';
import type { DeadLetterQueue } from '../../src/ports/dead-letters.js';
import { eventually } from '../helpers/socket-client.js';

export interface DeadLetterFixture {
  deadLetters: DeadLetterQueue;
  /** After how many failed attempts the queue gives an entry up. */
  maxAttempts: number;
  /** What the store says when it refuses a write (the reason an operator reads). */
  refusal: string;
  /** Sends a message the store refuses; resolves with its id once the queue has dead-lettered it. */
  poison(text: string): Promise<string>;
  /** The store takes writes again (the operator fixed its fault). */
  heal(): void;
  /** Ids of the messages the store holds. */
  stored(): Promise<string[]>;
  close(): Promise<void>;
}

/**
 * The contract of a DeadLetterQueue, as the admin API relies on it (GET, POST …/retry,
 * DELETE; false becomes DEAD_LETTER_NOT_FOUND), with dead letters made by the queue itself:
 * a message the store refused on each of its attempts.
 */
export function registerDeadLetterContract(name: string, open: () => Promise<DeadLetterFixture>): void {
  describe(`DeadLetterQueue contract: ${name}`, () => {
    let f: DeadLetterFixture;
    beforeEach(async () => {
      f = await open();
    });
    afterEach(async () => {
      await f.close();
    });
    const entryOf = async (messageId: string) => (await f.deadLetters.list(100)).find((d) => JSON.stringify(d.entry).includes(messageId));

    it('lists nothing while nothing has died', async () => {
      expect(await f.deadLetters.list(10)).to.deep.equal([]);
    });

    it('lists dead letters oldest first: why, after how many attempts, since when, and the entry as it was', async () => {
      const before = Date.now();
      const first = await f.poison('first');
      const second = await f.poison('second');
      const list = await f.deadLetters.list(10);
      expect(list).to.have.length(2);
      expect(JSON.stringify(list[0]!.entry)).to.include(first).and.include('first');
      expect(JSON.stringify(list[1]!.entry)).to.include(second);
      for (const d of list) {
        expect(d.id).to.be.a('string').with.length.above(0);
        expect(d.reason).to.include(f.refusal);
        expect(d.attempts).to.equal(f.maxAttempts);
        // When the message was queued: its acceptance, not its last failure.
        expect(Date.parse(d.firstSeenAt)).to.be.within(before - 1000, Date.now());
      }
    });

    it('list(limit) answers the oldest `limit`', async () => {
      const ids = [await f.poison('a'), await f.poison('b'), await f.poison('c')];
      const list = await f.deadLetters.list(2);
      expect(list.map((d) => ids.findIndex((id) => JSON.stringify(d.entry).includes(id)))).to.deep.equal([0, 1]);
    });

    it('retry puts the entry back in the queue: it leaves the list, and the mended store gets the message once', async () => {
      const messageId = await f.poison('worth keeping');
      const letter = (await entryOf(messageId))!;
      f.heal();
      expect(await f.deadLetters.retry(letter.id)).to.equal(true);
      expect(await f.deadLetters.list(10)).to.deep.equal([]);
      await eventually(async () => (await f.stored()).includes(messageId), 5000, 'the retried message in the store');
      expect(await f.stored()).to.deep.equal([messageId]);
      expect(await f.deadLetters.retry(letter.id)).to.equal(false);
    });

    it('drop removes one dead letter for good; a second drop or a retry of it is false', async () => {
      const kept = await f.poison('kept');
      const dropped = await f.poison('dropped');
      const letter = (await entryOf(dropped))!;
      expect(await f.deadLetters.drop(letter.id)).to.equal(true);
      expect(await f.deadLetters.drop(letter.id)).to.equal(false);
      expect(await f.deadLetters.retry(letter.id)).to.equal(false);
      const left = await f.deadLetters.list(10);
      expect(left).to.have.length(1);
      expect(JSON.stringify(left[0]!.entry)).to.include(kept);
    });

    it('an unknown or malformed id is false for retry and drop, never an error', async () => {
      await f.poison('bystander');
      for (const id of ['0-1', '99999999999999-0', 'nonsense', '', '1-2-3', '../1-0', '-', '+']) {
        expect(await f.deadLetters.retry(id), `retry(${JSON.stringify(id)})`).to.equal(false);
        expect(await f.deadLetters.drop(id), `drop(${JSON.stringify(id)})`).to.equal(false);
      }
      expect(await f.deadLetters.list(10)).to.have.length(1);
    });
  });
}
