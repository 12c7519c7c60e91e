import { expect } from 'chai';
import { codePointLength, emojiProblem, hasForbiddenControlChars, hasLoneSurrogate, textProblem } from '../../src/protocol/text-rules.js';

describe('text rules', () => {
  it('accepts ordinary text, tabs, newlines and emoji', () => {
    expect(textProblem('hello', 4000)).to.equal(null);
    expect(textProblem('line one\nline two\r\n\tindented', 4000)).to.equal(null);
    expect(textProblem('héllo wörld 你好 😀👍🏽', 4000)).to.equal(null);
  });

  it('refuses empty and whitespace-only text', () => {
    expect(textProblem('', 4000)).to.be.a('string');
    expect(textProblem('   ', 4000)).to.be.a('string');
    expect(textProblem(' \n\t\r\n ', 4000)).to.be.a('string');
    expect(textProblem('\u00a0\u2003', 4000)).to.be.a('string');
  });

  it('refuses NUL and other control characters, but not tab, newline or CR', () => {
    expect(hasForbiddenControlChars('a\u0000b')).to.equal(true);
    expect(textProblem('a\u0000b', 4000)).to.be.a('string');
    expect(hasForbiddenControlChars('bell\u0007')).to.equal(true);
    expect(hasForbiddenControlChars('\u001b[31mred')).to.equal(true);
    expect(hasForbiddenControlChars('del\u007f')).to.equal(true);
    expect(hasForbiddenControlChars('next line\u0085')).to.equal(true);
    expect(hasForbiddenControlChars('csi\u009b')).to.equal(true);
    expect(hasForbiddenControlChars('tab\tnewline\ncr\r')).to.equal(false);
    expect(hasForbiddenControlChars('no-break\u00a0space')).to.equal(false);
  });

  it('refuses lone surrogates and accepts proper pairs', () => {
    expect(hasLoneSurrogate('\ud83d')).to.equal(true);
    expect(hasLoneSurrogate('a\ude00b')).to.equal(true);
    expect(hasLoneSurrogate('\ude00\ud83d')).to.equal(true);
    expect(hasLoneSurrogate('😀')).to.equal(false);
    expect(textProblem('bad \ud83d end', 4000)).to.be.a('string');
  });

  it('counts length in code points, so an emoji is one character', () => {
    expect(codePointLength('abc')).to.equal(3);
    expect(codePointLength('😀')).to.equal(1);
    expect('😀'.length).to.equal(2);
    expect(codePointLength('a😀b')).to.equal(3);
    // A ZWJ family is several code points (man, ZWJ, woman, ZWJ, girl).
    expect(codePointLength('👨‍👩‍👧')).to.equal(5);
  });

  it('applies the limit in code points: exactly the limit passes, one more fails', () => {
    expect(textProblem('😀'.repeat(10), 10)).to.equal(null);
    expect(textProblem('😀'.repeat(11), 10)).to.be.a('string');
    expect(textProblem('x'.repeat(4000), 4000)).to.equal(null);
    expect(textProblem('x'.repeat(4001), 4000)).to.be.a('string');
  });

  it('a reaction is one emoji: one pictographic grapheme (flags, ZWJ families, skin tones) of at most 32 bytes', () => {
    for (const ok of ['👍', '❤️', '🇫🇷', '👨‍👩‍👧', '👍🏽', '🏳️‍🌈', '©️']) expect(emojiProblem(ok), ok).to.equal(null);
    for (const bad of ['', 'a', '1', ':)', '👍👍', '👍 ', 'ab', '\ud83d', '👨‍👩‍👧‍👦'.repeat(2), 'x'.repeat(40)]) expect(emojiProblem(bad), JSON.stringify(bad)).to.be.a('string');
  });
});
