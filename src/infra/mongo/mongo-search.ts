import mongoose from 'mongoose';
import type { SearchPage } from '../../ports/store.js';
import { searchTermsOf, searchWordsOf } from '../../protocol/search-terms.js';
import { toMessage } from './mongo-append.js';
import type { MessageDoc, MongoModels } from './mongo-models.js';

/** Matches ranked per search: the newest this many of the room's matches. */
export const SEARCH_CANDIDATES = 1000;
/** Documents without `terms` given theirs per round trip on open, and rounds per open. */
const BACKFILL_BATCH = 500;
const BACKFILL_ROUNDS = 200;
/** BM25's usual constants: how fast repeats stop counting, how much length weighs. */
const K1 = 1.2;
const B = 0.75;

const SAFE = { sanitizeFilter: true } as const;

/**
 * Search without text indexes ($text does not exist on FerretDB 1.x): each message keeps its
 * distinct words (`terms`, protocol/search-terms.ts) under a multikey index {roomId, terms},
 * a query asks for all of its words with `$all`, and the newest SEARCH_CANDIDATES matches
 * are ranked here by BM25 term frequency and length. Every candidate holds every query word,
 * so the inverse document frequency that BM25 would add changes no order and is left out.
 */
export class MongoSearch {
  constructor(private readonly m: MongoModels) {}

  async search(roomId: string, q: string, limit: number): Promise<SearchPage> {
    const terms = searchTermsOf(q);
    if (terms.length === 0) return { messages: [], hasMore: false };
    // The terms are our own words (letters and digits only): trusted under sanitizeFilter.
    const docs = await this.m.Message.find({ roomId, terms: mongoose.trusted({ $all: terms }) }, { terms: 0 }, SAFE)
      .sort({ seq: -1 })
      .limit(SEARCH_CANDIDATES)
      .lean<MessageDoc[]>();
    const scored = rank(docs, terms);
    return { messages: scored.slice(0, limit).map(toMessage), hasMore: scored.length > limit };
  }
}

/** Best first; equal scores newest first (the candidates come newest first and sort is stable). */
function rank(docs: MessageDoc[], terms: string[]): MessageDoc[] {
  const words = docs.map((d) => searchWordsOf(d.text));
  const avgLength = words.reduce((n, w) => n + w.length, 0) / Math.max(1, words.length) || 1;
  const scores = words.map((w) => {
    const norm = K1 * (1 - B + (B * w.length) / avgLength);
    return terms.reduce((sum, t) => {
      const tf = w.reduce((n, x) => (x === t ? n + 1 : n), 0);
      return sum + (tf * (K1 + 1)) / (tf + norm);
    }, 0);
  });
  return docs
    .map((doc, i) => ({ doc, score: scores[i]! }))
    .sort((a, b) => b.score - a.score)
    .map((s) => s.doc);
}

/**
 * Gives `terms` to messages stored before search existed (or by a node of an earlier
 * release). Bounded per open (BACKFILL_ROUNDS × BACKFILL_BATCH; the rest on the next open)
 * and idempotent: a document is written only while its text is the one read and it still
 * has no terms, so an edit racing the backfill keeps the terms it set.
 */
export async function backfillSearchTerms(m: MongoModels): Promise<void> {
  const missing = { terms: mongoose.trusted({ $exists: false }) };
  for (let round = 0; round < BACKFILL_ROUNDS; round++) {
    const docs = await m.Message.find(missing, { _id: 1, text: 1 }).limit(BACKFILL_BATCH).lean<Pick<MessageDoc, '_id' | 'text'>[]>();
    if (docs.length === 0) return;
    const writes = docs.map((d) => ({
      updateOne: { filter: { _id: d._id, text: d.text, ...missing }, update: { $set: { terms: searchTermsOf(d.text) } } },
    }));
    await m.Message.bulkWrite(writes, { ordered: false });
  }
}
