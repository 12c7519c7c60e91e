import mongoose from 'mongoose';
import type { ReadMarker } from '../../ports/store.js';
import { isDuplicateKey } from './mongo-errors.js';
import type { MongoModels } from './mongo-models.js';

/** Filters built from request values: an object where a string belongs is compared, never run. */
const SAFE = { sanitizeFilter: true } as const;

const keyOf = (m: { roomId: string; userId: string }) => `${m.roomId}\n${m.userId}`;

/**
 * Read markers in MongoDB (the `read_markers` collection, unique on (roomId, userId)): `$max`
 * upserts, so a marker only moves forward whatever order writes arrive in, without a transaction.
 * MongoDB applies `$max` atomically; FerretDB 1.x reads and writes the document in two steps,
 * so two concurrent moves of one marker can keep the lower one. Writes to one marker from this
 * node therefore run one after the other (writes to different markers still run together).
 */
export class MongoReadMarkers {
  /** The last write queued per marker key, while one is in flight. */
  private readonly tails = new Map<string, Promise<unknown>>();

  constructor(private readonly m: MongoModels) {}

  async raise(roomId: string, userId: string, seq: number): Promise<boolean> {
    if (seq <= 0) return false;
    const result = await this.inTurn([keyOf({ roomId, userId })], () =>
      this.retryingRace(() => this.m.ReadMarker.updateOne({ roomId, userId }, { $max: { seq } }, { ...SAFE, upsert: true })),
    );
    return result.upsertedCount > 0 || result.modifiedCount > 0;
  }

  async raiseAll(markers: ReadMarker[]): Promise<void> {
    // One write per marker (the highest), so no two writes of one batch touch the same document.
    const highest = new Map<string, ReadMarker>();
    for (const m of markers) if (m.seq > (highest.get(keyOf(m))?.seq ?? 0)) highest.set(keyOf(m), m);
    const moves = [...highest.values()];
    const writes = moves.map(({ roomId, userId, seq }) => ({ updateOne: { filter: { roomId, userId }, update: { $max: { seq } }, upsert: true } }));
    if (writes.length > 0) await this.inTurn(moves.map(keyOf), () => this.retryingRace(() => this.m.ReadMarker.bulkWrite(writes, { ordered: false })));
  }

  async get(roomId: string, userId: string): Promise<number> {
    const doc = await this.m.ReadMarker.findOne({ roomId, userId }, { seq: 1 }, SAFE).lean<{ seq: number }>();
    return doc?.seq ?? 0;
  }

  async of(userId: string, roomIds: string[]): Promise<Map<string, number>> {
    if (roomIds.length === 0) return new Map();
    // Room ids of the caller's own page (not request values): trusted, so the $in stays.
    const docs = await this.m.ReadMarker.find({ userId, roomId: mongoose.trusted({ $in: roomIds }) }, { roomId: 1, seq: 1 }, SAFE).lean<{ roomId: string; seq: number }[]>();
    return new Map(docs.map((d) => [d.roomId, d.seq]));
  }

  /** Runs `write` after the writes already queued for any of `keys`. */
  private inTurn<R>(keys: string[], write: () => Promise<R>): Promise<R> {
    const before = [...new Set(keys)].flatMap((k) => this.tails.get(k) ?? []);
    const run = Promise.allSettled(before).then(write);
    const tail = run.catch(() => undefined);
    for (const k of keys) this.tails.set(k, tail);
    void tail.then(() => keys.forEach((k) => this.tails.get(k) === tail && this.tails.delete(k)));
    return run;
  }

  /** Two upserts of one new marker race on the unique index; the loser's retry updates the winner's. */
  private async retryingRace<R>(write: () => Promise<R>): Promise<R> {
    try {
      return await write();
    } catch (err) {
      if (!isDuplicateKey(err)) throw err;
      return write();
    }
  }
}
