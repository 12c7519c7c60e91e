import { expect } from 'chai';
import { MAX_TERM_LENGTH, searchTermsOf, searchWordsOf } from '../../src/protocol/search-terms.js';

describe('search terms (the word rule every store shares)', () => {
  it('splits on anything but letters, digits and marks; lower-cases; keeps repeats in words, not in terms', () => {
    expect(searchWordsOf('Hello, hello WORLD! e-mail 42x')).to.deep.equal(['hello', 'hello', 'world', 'e', 'mail', '42x']);
    expect(searchTermsOf('Hello, hello WORLD!')).to.deep.equal(['hello', 'world']);
  });

  it('applies NFKC (full-width, ligatures, composed accents) and keeps diacritics', () => {
    expect(searchTermsOf('Ｆｕｌｌ ﬁne cafe\u0301 café')).to.deep.equal(['full', 'fine', 'café']);
    expect(searchTermsOf('cafe')).to.not.deep.equal(searchTermsOf('café'));
  });

  it('keeps words of scripts with combining marks whole', () => {
    expect(searchTermsOf('नमस्ते दुनिया')).to.deep.equal(['नमस्ते', 'दुनिया']);
    expect(searchTermsOf('東京 タワー')).to.deep.equal(['東京', 'タワー']);
  });

  it('is locale-independent: a dotted capital I lower-cases the same everywhere', () => {
    expect(searchTermsOf('İSTANBUL')).to.deep.equal(searchTermsOf('i̇stanbul'));
  });

  it('has no words in punctuation, symbols or emoji only; cuts very long words', () => {
    expect(searchTermsOf('!!! ... 🙂 "" *')).to.deep.equal([]);
    const long = 'ä'.repeat(MAX_TERM_LENGTH + 10);
    expect(searchTermsOf(long)).to.deep.equal(['ä'.repeat(MAX_TERM_LENGTH)]);
  });
});
