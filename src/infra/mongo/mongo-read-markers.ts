import mongoose from 'mongoose';
import type { ReadMarker } from '../../ports/store.js';
import { isDuplicateKey } from './mongo-errors.js';
import type { MongoModels } from './mongo-models.js';

/** Filters built from request values: an object where a string belongs is compared, never run. */
const SAFE = { sanitizeFilter: true } as const;

/**
 * Read markers in MongoDB (the `read_markers` collection, unique on (roomId, userId)): `$max`
 * upserts, so a marker only moves forward whatever order writes arrive in, without a transaction.
 */
export class MongoReadMarkers {
  constructor(private readonly m: MongoModels) {}

  async raise(roomId: string, userId: string, seq: number): Promise<boolean> {
    if (seq <= 0) return false;
    const result = await this.retryingRace(() => this.m.ReadMarker.updateOne({ roomId, userId }, { $max: { seq } }, { ...SAFE, upsert: true }));
    return result.upsertedCount > 0 || result.modifiedCount > 0;
  }

  async raiseAll(markers: ReadMarker[]): Promise<void> {
    const writes = markers
      .filter((m) => m.seq > 0)
      .map(({ roomId, userId, seq }) => ({ updateOne: { filter: { roomId, userId }, update: { $max: { seq } }, upsert: true } }));
    if (writes.length > 0) await this.retryingRace(() => this.m.ReadMarker.bulkWrite(writes, { ordered: false }));
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
