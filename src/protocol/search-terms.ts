/**
 * The one word rule of message search, shared by every store and by clients: a word is a
 * run of letters, digits and combining marks (`\p{L}\p{N}\p{M}`, and private-use
 * characters), compared after NFKC and a locale-independent lower-casing. No stemming,
 * no diacritics folded ("café" is not "cafe"). Free of Node APIs.
 */

/** Longer words are cut to this many code points, on both the text and the query side. */
export const MAX_TERM_LENGTH = 64;

const WORD = /[\p{L}\p{N}\p{M}\p{Co}]+/gu;

/** Every word of `text`, normalized, in order, repeats kept (what term frequency counts). */
export function searchWordsOf(text: string): string[] {
  // NFKC again after lower-casing: a few lower-case forms are not NFKC themselves.
  const normalized = text.normalize('NFKC').toLowerCase().normalize('NFKC');
  const words: string[] = [];
  for (const [word] of normalized.matchAll(WORD)) words.push(word.length > MAX_TERM_LENGTH ? [...word].slice(0, MAX_TERM_LENGTH).join('') : word);
  return words;
}

/**
 * The distinct words of `text`, in order of first appearance: the terms a message is found
 * by, and the terms a query must all match. Stores that keep terms beside the text (MongoDB's
 * `terms`) recompute them with this whenever the text changes.
 */
export function searchTermsOf(text: string): string[] {
  return [...new Set(searchWordsOf(text))];
}
