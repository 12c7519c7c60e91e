import mongoose from 'mongoose';
import { unavailable } from '../../domain/app-error.js';
import { changedFields, changedMessage, messageNotFound, type ChangeRequest, type ChangeResult } from '../../domain/message-change.js';
import type { Message } from '../../protocol/models.js';
import type { HistoryPage } from '../../ports/store.js';
import { searchTermsOf } from '../../protocol/search-terms.js';
import { toMessage } from './mongo-append.js';
import type { MessageDoc, MongoModels } from './mongo-models.js';

/** Filters built from request values: an object where a string belongs is compared, never run. */
const SAFE = { sanitizeFilter: true } as const;

/**
 * What a change writes: its fields, and the search terms of its text in the same update, so
 * that search finds an edited message by its current text only and a deleted one (text '',
 * terms []) not at all.
 */
const storedChange = (m: Message) => ({ ...changedFields(m), terms: searchTermsOf(m.text) });

/** Changes to existing messages (edits, deletes, reactions) and the room's change counter, in MongoDB. */
export class MongoChanges {
  private readonly changeTails = new Map<string, Promise<unknown>>();

  constructor(
    private readonly m: MongoModels,
    /** The store's one outage judge (MongoStore.guard). */
    private readonly guard: <R>(fn: () => Promise<R>) => Promise<R>,
    private readonly getMessage: (roomId: string, seq: number) => Promise<Message | null>,
  ) {}

  /**
   * No transaction: read the message, apply the rules, take the room's next rev ($inc), then
   * write on the condition that the message's rev is still the one read (compare-and-set). A
   * lost race retries with a fresh read; the rev it took is skipped (revs may have gaps in
   * MongoDB: they order changes, they do not count them). Changes to one room are also run one
   * at a time on this node: FerretDB does not make a conditional update atomic against another
   * connection's, and the pool has several.
   */
  change(req: ChangeRequest): Promise<ChangeResult> {
    const prev = this.changeTails.get(req.roomId) ?? Promise.resolve();
    const run = prev.then(() => this.changeNow(req));
    const tail = run.catch(() => undefined);
    this.changeTails.set(req.roomId, tail);
    void tail.then(() => this.changeTails.get(req.roomId) === tail && this.changeTails.delete(req.roomId));
    return run;
  }

  private async changeNow(req: ChangeRequest): Promise<ChangeResult> {
    for (let attempt = 0; attempt < 20; attempt++) {
      const current = await this.getMessage(req.roomId, req.seq);
      if (!current) throw messageNotFound(req.roomId, req.seq);
      const next = changedMessage(current, req);
      if (!next) return { message: current, changed: false };
      const room = await this.guard(() =>
        this.m.Room.findOneAndUpdate({ _id: req.roomId }, { $inc: { lastRev: 1 } }, { ...SAFE, returnDocument: 'after' }).lean<{ lastRev: number }>(),
      );
      if (!room) throw messageNotFound(req.roomId, req.seq);
      const message = { ...next, rev: room.lastRev };
      const sameRev = current.rev === undefined ? mongoose.trusted({ $exists: false }) : current.rev;
      const written = await this.guard(() => this.m.Message.updateOne({ _id: current.id, rev: sameRev }, { $set: storedChange(message) }, SAFE));
      if (written.modifiedCount > 0) return { message, changed: true };
    }
    throw unavailable('the message is busy; try again');
  }

  async applyAssigned(m: Message): Promise<'applied' | 'stale' | 'missing' | 'dropped'> {
    const rev = m.rev ?? 0;
    const older = { $or: [{ rev: mongoose.trusted({ $exists: false }) }, { rev: mongoose.trusted({ $lt: rev }) }] };
    const written = await this.guard(() => this.m.Message.updateOne({ _id: m.id, roomId: m.roomId, seq: m.seq, ...older }, { $set: storedChange(m) }, SAFE));
    if (written.matchedCount > 0) {
      await this.guard(() => this.m.Room.updateOne({ _id: m.roomId }, { $max: { lastRev: rev } }, SAFE));
      return 'applied';
    }
    if ((await this.guard(() => this.m.Room.exists({ _id: m.roomId }).setOptions(SAFE))) === null) return 'dropped';
    return (await this.getMessage(m.roomId, m.seq)) ? 'stale' : 'missing';
  }

  async lastRev(roomId: string): Promise<number> {
    const room = await this.guard(() => this.m.Room.findOne({ _id: roomId }, { lastRev: 1 }, SAFE).lean<{ lastRev?: number }>());
    return room?.lastRev ?? 0;
  }

  async listChangedSince(roomId: string, afterRev: number, maxSeq: number, limit: number): Promise<HistoryPage> {
    const filter = { roomId, rev: mongoose.trusted({ $gt: afterRev }), seq: mongoose.trusted({ $lte: maxSeq }) };
    const docs = await this.guard(() =>
      this.m.Message.find(filter, null, SAFE)
        .sort({ rev: 1 })
        .limit(limit + 1)
        .lean<MessageDoc[]>(),
    );
    return { messages: docs.slice(0, limit).map(toMessage), hasMore: docs.length > limit };
  }
}
