/**
 * Rules for user-supplied text (chat messages, names). Kept free of Node APIs so that
 * clients can run the same checks before sending.
 */

/** Control characters (C0, DEL, C1) other than tab, newline and carriage return are refused. */
export function hasForbiddenControlChars(text: string): boolean {
  for (let i = 0; i < text.length; i++) {
    const c = text.charCodeAt(i);
    if ((c < 0x20 && c !== 0x09 && c !== 0x0a && c !== 0x0d) || (c >= 0x7f && c <= 0x9f)) return true;
  }
  return false;
}

/** True when the string holds an unpaired UTF-16 surrogate (it cannot be encoded as UTF-8). */
export function hasLoneSurrogate(text: string): boolean {
  return !text.isWellFormed();
}

/** Length in Unicode code points, the unit MAX_MESSAGE_LENGTH counts. */
export function codePointLength(text: string): number {
  let n = 0;
  for (let i = 0; i < text.length; i++) {
    const c = text.charCodeAt(i);
    if (c >= 0xd800 && c <= 0xdbff && i + 1 < text.length) {
      const d = text.charCodeAt(i + 1);
      if (d >= 0xdc00 && d <= 0xdfff) i++;
    }
    n++;
  }
  return n;
}

/** Why a text is refused, or null when it is acceptable. */
export function textProblem(text: string, maxCodePoints: number): string | null {
  if (text.trim().length === 0) return 'must not be empty or only whitespace';
  if (hasLoneSurrogate(text)) return 'must be valid Unicode (no lone surrogates)';
  if (hasForbiddenControlChars(text)) return 'must not contain control characters other than tab and newline';
  if (codePointLength(text) > maxCodePoints) return `must be at most ${maxCodePoints} characters`;
  return null;
}

/** Largest reaction emoji, in bytes of UTF-8 (a family or a flag with modifiers fits). */
export const MAX_EMOJI_BYTES = 32;
const PICTOGRAPHIC = /\p{Extended_Pictographic}|\p{Regional_Indicator}/u;
const graphemes = new Intl.Segmenter(undefined, { granularity: 'grapheme' });

/** Why a reaction is refused, or null when it is one emoji: one grapheme, pictographic, at most MAX_EMOJI_BYTES. */
export function emojiProblem(value: string): string | null {
  if (value.length === 0 || !value.isWellFormed()) return 'must be one emoji';
  if (new TextEncoder().encode(value).length > MAX_EMOJI_BYTES) return `must be at most ${MAX_EMOJI_BYTES} bytes of UTF-8`;
  let count = 0;
  for (const _ of graphemes.segment(value)) if (++count > 1) return 'must be one emoji (one grapheme)';
  if (!PICTOGRAPHIC.test(value)) return 'must be an emoji';
  return null;
}
