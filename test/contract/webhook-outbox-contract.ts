import { expect } from 'chai';
import { randomUUID } from 'node:crypto';
import type { ClaimedDelivery, WebhookEvent, WebhookOutbox } from '../../src/ports/webhook-outbox.js';
import type { WebhookEventType } from '../../src/ports/webhooks.js';
import { eventually } from '../helpers/socket-client.js';

export interface WebhookOutboxFixture {
  outbox: WebhookOutbox;
  /** Another node's outbox over the same storage (another process or Redis connection). */
  another(): Promise<WebhookOutbox>;
  close(): Promise<void>;
}

const A = 'http://127.0.0.1:9/a';
const B = 'http://127.0.0.1:9/b';
const LEASE = 60_000;

export function event(type: WebhookEventType = 'message.created', data: Record<string, unknown> = { text: 'hi', list: [] }): WebhookEvent {
  return { id: `evt_${randomUUID()}`, type, timestamp: new Date().toISOString(), data };
}

/**
 * The contract of a WebhookOutbox as the publisher and the dispatcher rely on it: durable
 * enqueue with dedup, one holder per delivery through leases, retries by due time, dead letters.
 */
export function registerWebhookOutboxContract(name: string, open: () => Promise<WebhookOutboxFixture>): void {
  describe(`WebhookOutbox contract: ${name}`, () => {
    let f: WebhookOutboxFixture;
    beforeEach(async () => {
      f = await open();
    });
    afterEach(async () => {
      await f.close();
    });

    it('holds one delivery per URL, each claimed once, with the event as it was published', async () => {
      const e = event();
      expect(await f.outbox.enqueue(e, [A, B], null)).to.equal(true);
      const claimed = await f.outbox.claim(10, LEASE);
      expect(claimed.map((d) => d.url).sort()).to.deep.equal([A, B]);
      for (const d of claimed) {
        expect(d.event).to.deep.equal(e);
        expect(d.attempts).to.equal(0);
        expect(d.lastError).to.equal(null);
        expect(Date.parse(d.firstSeenAt)).to.be.closeTo(Date.now(), 5000);
      }
      expect(new Set(claimed.map((d) => d.id)).size).to.equal(2);
      expect(await f.outbox.claim(10, LEASE), 'leased deliveries are not claimed again').to.deep.equal([]);
      expect(await (await f.another()).claim(10, LEASE), 'nor by another node').to.deep.equal([]);
      expect(await f.outbox.depth()).to.deep.equal({ pending: 2, deadLetters: 0 });
    });

    it('claims at most `limit`, oldest first', async () => {
      const events = [event(), event(), event()];
      for (const e of events) await f.outbox.enqueue(e, [A], null);
      const first = await f.outbox.claim(2, LEASE);
      expect(first).to.have.length(2);
      const second = await f.outbox.claim(2, LEASE);
      expect([...first, ...second].map((d) => d.event.id).sort()).to.deep.equal(events.map((e) => e.id).sort());
    });

    it('an occurrence is queued once: the same dedup key again is a no-op answering false', async () => {
      expect(await f.outbox.enqueue(event(), [A], 'message.created:m1')).to.equal(true);
      expect(await f.outbox.enqueue(event(), [A], 'message.created:m1')).to.equal(false);
      expect(await (await f.another()).enqueue(event(), [A], 'message.created:m1'), 'on another node too').to.equal(false);
      expect(await f.outbox.enqueue(event(), [A], 'message.created:m2')).to.equal(true);
      // Still recognised once delivered: the window is time, not presence in the queue.
      for (const d of await f.outbox.claim(10, LEASE)) await f.outbox.complete(d);
      expect(await f.outbox.enqueue(event(), [A], 'message.created:m1')).to.equal(false);
      expect(await f.outbox.claim(10, LEASE)).to.deep.equal([]);
    });

    it('complete removes the delivery for good', async () => {
      await f.outbox.enqueue(event(), [A], null);
      const [d] = await f.outbox.claim(10, LEASE);
      expect(await f.outbox.complete(d!)).to.equal(true);
      expect(await f.outbox.complete(d!)).to.equal(false);
      expect(await f.outbox.depth()).to.deep.equal({ pending: 0, deadLetters: 0 });
    });

    it('retryLater counts the attempt, keeps the error and makes it due again only after the delay', async () => {
      await f.outbox.enqueue(event(), [A], null);
      const [d] = await f.outbox.claim(10, LEASE);
      expect(await f.outbox.retryLater(d!, 'HTTP 500', 300)).to.equal(true);
      expect(await f.outbox.claim(10, LEASE), 'not due yet').to.deep.equal([]);
      let again: ClaimedDelivery[] = [];
      await eventually(async () => (again = await f.outbox.claim(10, LEASE)).length > 0, 3000, 'the delivery due again');
      expect(again[0]!.id).to.equal(d!.id);
      expect(again[0]!.attempts).to.equal(1);
      expect(again[0]!.lastError).to.equal('HTTP 500');
      expect(again[0]!.event).to.deep.equal(d!.event);
    });

    it('release hands a delivery back at once, without counting an attempt', async () => {
      await f.outbox.enqueue(event(), [A], null);
      const [d] = await f.outbox.claim(10, LEASE);
      expect(await f.outbox.release(d!)).to.equal(true);
      const [again] = await (await f.another()).claim(10, LEASE);
      expect(again!.id).to.equal(d!.id);
      expect(again!.attempts).to.equal(0);
    });

    it('a holder that never finishes (a dead node) loses the delivery when its lease runs out; its late steps change nothing', async () => {
      await f.outbox.enqueue(event(), [A], null);
      const [held] = await f.outbox.claim(10, 200);
      const other = await f.another();
      expect(await other.claim(10, LEASE)).to.deep.equal([]);
      let taken: ClaimedDelivery[] = [];
      await eventually(async () => (taken = await other.claim(10, LEASE)).length > 0, 3000, 'the other node taking the delivery over');
      expect(taken[0]!.id).to.equal(held!.id);
      expect(taken[0]!.lease).to.not.equal(held!.lease);
      for (const late of [() => f.outbox.complete(held!), () => f.outbox.retryLater(held!, 'late', 0), () => f.outbox.deadLetter(held!, 'late'), () => f.outbox.release(held!)]) {
        expect(await late()).to.equal(false);
      }
      expect(await other.claim(10, LEASE), 'still held by the other node').to.deep.equal([]);
      expect(await other.complete(taken[0]!)).to.equal(true);
      expect(await f.outbox.depth()).to.deep.equal({ pending: 0, deadLetters: 0 });
    });

    it('two nodes claiming at once never get the same delivery', async () => {
      const other = await f.another();
      const ids = new Set<string>();
      for (let i = 0; i < 40; i++) await f.outbox.enqueue(event(), [A], null);
      const rounds = await Promise.all([0, 1, 2, 3].map((i) => (i % 2 ? other : f.outbox).claim(15, LEASE)));
      const all = rounds.flat().map((d) => d.id);
      for (const id of all) ids.add(id);
      expect(all.length).to.equal(40);
      expect(ids.size).to.equal(40);
    });

    it('dead letters: listed oldest first with what the operator needs; retry makes one due with a fresh budget; drop removes one', async () => {
      const [first, second] = [event('room.created', { roomId: 'r1' }), event('call.ended', { roomId: 'r2' })];
      await f.outbox.enqueue(first, [A], null);
      await f.outbox.enqueue(second, [B], null);
      for (const d of await f.outbox.claim(10, LEASE)) await f.outbox.retryLater(d, 'HTTP 502', 0);
      let again: ClaimedDelivery[] = [];
      await eventually(async () => (again = [...again, ...(await f.outbox.claim(10, LEASE))]).length === 2, 3000, 'both due again');
      for (const e of [first, second]) {
        expect(await f.outbox.deadLetter(again.find((d) => d.event.id === e.id)!, 'timeout')).to.equal(true);
        await new Promise((r) => setTimeout(r, 5));
      }
      expect(await f.outbox.depth()).to.deep.equal({ pending: 0, deadLetters: 2 });
      const list = await f.outbox.deadLetters.list(10);
      expect(list.map((d) => d.eventId)).to.deep.equal([first.id, second.id]);
      expect(list[0]).to.deep.include({ eventId: first.id, url: A, type: 'room.created', attempts: 2, lastError: 'timeout', event: first });
      expect(Date.parse(list[0]!.firstSeenAt)).to.be.closeTo(Date.now(), 5000);
      expect(await f.outbox.deadLetters.list(1)).to.have.length(1);

      expect(await f.outbox.deadLetters.retry(list[0]!.id)).to.equal(true);
      expect(await f.outbox.deadLetters.retry(list[0]!.id)).to.equal(false);
      const [back] = await f.outbox.claim(10, LEASE);
      expect(back).to.deep.include({ id: list[0]!.id, attempts: 0, url: A });
      expect(back!.event).to.deep.equal(first);

      expect(await f.outbox.deadLetters.drop(list[1]!.id)).to.equal(true);
      expect(await f.outbox.deadLetters.drop(list[1]!.id)).to.equal(false);
      expect(await f.outbox.deadLetters.retry(list[1]!.id)).to.equal(false);
      expect(await f.outbox.deadLetters.list(10)).to.deep.equal([]);
      // A delivery in the queue is not a dead letter: neither retry nor drop touches it.
      expect(await f.outbox.deadLetters.drop(back!.id)).to.equal(false);
      expect(await f.outbox.complete(back!)).to.equal(true);
    });

    it('an unknown or malformed dead-letter id is false, never an error', async () => {
      for (const id of ['nope', '', '../x', 'evt_1_abc', "' OR 1=1 --"]) {
        expect(await f.outbox.deadLetters.retry(id)).to.equal(false);
        expect(await f.outbox.deadLetters.drop(id)).to.equal(false);
      }
    });
  });
}
