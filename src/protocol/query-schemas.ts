import { z } from 'zod';
import { IdSchema } from './schemas.js';
import { searchTermsOf } from './search-terms.js';
import { textProblem } from './text-rules.js';

/**
 * Schemas of REST query strings. A query value is a string, so numbers are digits only:
 * "1e9", "-1", "0x10" or "" are refused, not coerced.
 */
export const queryInt = (max: number, digits: RegExp = /^\d{1,16}$/) =>
  z
    .string()
    .regex(digits, 'expected a whole number')
    .transform(Number)
    .pipe(z.number().int().min(0).max(max))
    // A query value is a string in JSON Schema terms: the bound lives in the pipe, so say it.
    .describe(`a whole number from 0 to ${max}, digits only`);

/** `GET /api/messages`: seq cursors and a page size of at most 100. */
export const HistoryQuerySchema = z.strictObject({
  roomId: IdSchema,
  after: queryInt(Number.MAX_SAFE_INTEGER).optional(),
  before: queryInt(Number.MAX_SAFE_INTEGER).optional(),
  limit: queryInt(100).pipe(z.number().min(1, 'expected at least 1')).describe('page size, 1–100').optional(),
});

/** Search answers this many messages unless `limit` says otherwise, and never more than SEARCH_MAX_LIMIT. */
export const SEARCH_DEFAULT_LIMIT = 20;
export const SEARCH_MAX_LIMIT = 50;
/** Longest search query, in code points. */
export const SEARCH_MAX_QUERY = 200;

/** `GET /api/messages/search`: plain text (never query syntax) with at least one word. */
export const SearchQuerySchema = z.strictObject({
  roomId: IdSchema,
  q: z
    .string()
    .superRefine((value, ctx) => {
      const problem = textProblem(value, SEARCH_MAX_QUERY) ?? (searchTermsOf(value).length === 0 ? 'must contain a word (letters or digits)' : null);
      if (problem) ctx.addIssue({ code: 'custom', message: problem });
    })
    .describe(
      `1–${SEARCH_MAX_QUERY} characters of plain text with at least one word; a message matches when its current text holds every word ` +
        '(letters and digits; case-insensitive after NFKC; whole words, no stemming; diacritics count)',
    ),
  limit: queryInt(SEARCH_MAX_LIMIT, /^\d{1,3}$/)
    .pipe(z.number().min(1, 'expected at least 1'))
    .describe(`how many, 1–${SEARCH_MAX_LIMIT} (default ${SEARCH_DEFAULT_LIMIT})`)
    .optional(),
});

/** `GET /api/admin/dead-letters`: how many to list, 1–1000. */
export const DeadLetterListQuerySchema = z.strictObject({
  limit: queryInt(1000, /^\d{1,4}$/).pipe(z.number().min(1, 'expected at least 1')).describe('how many to list, 1–1000').optional(),
});

/** An opaque keyset cursor, as a previous page gave it. */
const cursor = z.string().min(1).max(512).describe('`nextCursor` of the previous page');
const pageLimit = queryInt(100, /^\d{1,3}$/).pipe(z.number().min(1, 'expected at least 1')).describe('page size, 1–100 (default 50)');

/** `GET /api/rooms` and `GET /api/rooms/:id/members`: keyset pages. */
export const PageQuerySchema = z.strictObject({ limit: pageLimit.optional(), cursor: cursor.optional() });

/** `DELETE /api/rooms/:id/members/:userId?ban=true`. */
export const RemoveMemberQuerySchema = z.strictObject({
  ban: z.enum(['true', 'false']).transform((v) => v === 'true').describe('also ban the user from the room').optional(),
});
