import mongoose from 'mongoose';
import { roomNotFound, unavailable } from '../../domain/app-error.js';
import { withChangeFields } from '../../domain/message-change.js';
import type { Message } from '../../protocol/models.js';
import type { AppendResult, NewMessage } from '../../ports/store.js';
import { searchTermsOf } from '../../protocol/search-terms.js';
import { isDuplicateKey } from './mongo-errors.js';
import { clientKeyOf, type MessageDoc, type MongoModels } from './mongo-models.js';

/** Slots lost to other nodes in a row before the caller is told to retry. */
const MAX_ATTEMPTS = 50;
/** An append that waited this long behind others of its room is refused (the store's call deadline). */
const MAX_QUEUED_MS = 3000;
/** Rooms whose next seq this node remembers (a hint: a stale one costs one retry). */
const MAX_HINTS = 10_000;
const SAFE = { sanitizeFilter: true } as const;

/** The stored shape of a message, search terms included; `node` is the node that assigned its seq, if any. */
export const toDoc = (m: Message, node?: string): MessageDoc => ({
  _id: m.id,
  roomId: m.roomId,
  seq: m.seq,
  senderId: m.senderId,
  senderName: m.senderName,
  text: m.text,
  clientMsgId: m.clientMsgId,
  clientKey: clientKeyOf(m),
  ...(node ? { node } : {}),
  createdAt: m.createdAt,
  ...(m.replyTo !== undefined ? { replyTo: m.replyTo } : {}),
  terms: searchTermsOf(m.text),
});

export const toMessage = (d: MessageDoc): Message =>
  withChangeFields(
    {
      id: d._id,
      roomId: d.roomId,
      seq: d.seq,
      senderId: d.senderId,
      senderName: d.senderName,
      text: d.text,
      clientMsgId: d.clientMsgId ?? null,
      createdAt: d.createdAt,
    },
    d,
  );

/**
 * Appends with a gap-free per-room seq assigned by MongoDB, without a transaction (a
 * standalone server has none; FerretDB, the server our tests run, is standalone only):
 *
 * 1. Claim the slot: insert the message with seq = the room's counter + 1. The unique index
 *    on (roomId, seq) lets exactly one message into a slot, across every node; the unique
 *    index on (roomId, clientKey) refuses a second copy of a clientMsgId. A seq is only ever
 *    used by an insert that succeeded, so a failed attempt leaves no gap.
 * 2. Advance the counter: `$max` the room's lastSeq to the slot. It only moves forward, so
 *    nodes may do it in any order.
 * 3. A duplicate key means either that clientMsgId is stored (return the original), or
 *    another node took the slot: catch the counter up with the newest stored message (which
 *    also repairs a counter left behind by a node that died between steps 1 and 2) and try
 *    the next slot.
 *
 * Appends to one room are serialized within this node so that a node never races itself;
 * nodes race each other only through the indexes. Rooms are never deleted, so a room this
 * node has appended to needs no existence check on the next append.
 */
export class MongoAppender {
  private readonly next = new Map<string, number>();
  private readonly tails = new Map<string, Promise<unknown>>();

  constructor(
    private readonly m: MongoModels,
    /** Stamped on messages this node stores, so a retry elsewhere knows to deliver again. */
    private readonly nodeId: string | undefined,
  ) {}

  append(message: NewMessage): Promise<AppendResult> {
    const roomId = message.roomId;
    const queuedAt = Date.now();
    const prev = this.tails.get(roomId) ?? Promise.resolve();
    const run = prev.then(() => {
      // Behind an append that hung (MongoDB paused): the caller has been told UNAVAILABLE by
      // now and will retry, so a late run would only replay a stale backlog.
      if (Date.now() - queuedAt > MAX_QUEUED_MS) throw unavailable('the message store is slow to answer; try again');
      return this.appendNow(message);
    });
    const tail = run.catch(() => undefined);
    this.tails.set(roomId, tail);
    void tail.then(() => this.tails.get(roomId) === tail && this.tails.delete(roomId));
    return run;
  }

  private async appendNow(message: NewMessage): Promise<AppendResult> {
    const { roomId } = message;
    const clientKey = clientKeyOf(message);
    for (let attempt = 0; attempt < MAX_ATTEMPTS; attempt++) {
      let seq = this.next.get(roomId);
      if (seq === undefined) {
        const room = await this.m.Room.findOne({ _id: roomId }, { lastSeq: 1 }, SAFE).lean<{ lastSeq: number }>();
        if (!room) {
          // As in SQLite, a known clientMsgId answers before the room check.
          const existing = message.clientMsgId === null ? null : await this.byClientKey(roomId, clientKey);
          if (existing) return this.original(existing);
          throw roomNotFound(roomId);
        }
        seq = room.lastSeq + 1;
      }
      const doc = toDoc({ ...message, seq }, this.nodeId);
      try {
        await this.m.Message.create(doc);
      } catch (err) {
        this.next.delete(roomId);
        if (!isDuplicateKey(err)) throw err;
        const existing = await this.byClientKey(roomId, clientKey);
        if (existing) return this.original(existing);
        await this.catchUp(roomId);
        continue;
      }
      this.remember(roomId, seq + 1);
      await this.m.Room.updateOne({ _id: roomId }, { $max: { lastSeq: seq } }, SAFE);
      return { message: toMessage(doc), created: true };
    }
    throw unavailable('the room is busy; try again');
  }

  /** The message already stored under this clientMsgId, as a retry gets it back. */
  private async original(doc: MessageDoc): Promise<AppendResult> {
    // Its counter step may never have run (its node died, or the answer was lost): finish it.
    // If it had not run, the first fan-out most likely did not happen either.
    const healed = await this.m.Room.updateOne({ _id: doc.roomId, lastSeq: mongoose.trusted({ $lt: doc.seq }) }, { $set: { lastSeq: doc.seq } }, SAFE);
    const elsewhere = doc.node !== undefined && doc.node !== this.nodeId;
    const result: AppendResult = { message: toMessage(doc), created: false };
    if (healed.modifiedCount > 0 || elsewhere) result.deliverAgain = true;
    return result;
  }

  /** Raises the room's counter to its newest stored message and forgets the local hint. */
  private async catchUp(roomId: string): Promise<void> {
    const newest = await this.newestSeq(roomId);
    await this.m.Room.updateOne({ _id: roomId }, { $max: { lastSeq: newest } }, SAFE);
  }

  /** The highest seq stored in the room (0 when empty): a read of the (roomId, seq) index. */
  async newestSeq(roomId: string): Promise<number> {
    const top = await this.m.Message.findOne({ roomId }, { seq: 1 }, SAFE).sort({ seq: -1 }).lean<{ seq: number }>();
    return top?.seq ?? 0;
  }

  async byClientKey(roomId: string, clientKey: string): Promise<MessageDoc | null> {
    return this.m.Message.findOne({ roomId, clientKey }, null, SAFE).lean<MessageDoc>();
  }

  private remember(roomId: string, seq: number): void {
    if (this.next.size >= MAX_HINTS) this.next.clear();
    this.next.set(roomId, seq);
  }
}
