// decodeText gives what `toString('utf8')` gives, for ASCII, UTF-8 and bytes that are not UTF-8.
import { describe, expect, it } from 'vitest';
import { decodeText } from '../../../src/util/text.js';

describe('decodeText', () => {
  it('decodes each kind of bytes as UTF-8 decoding does', () => {
    const cases = [
      Buffer.from('{"a": 1}\n'),
      Buffer.from(''),
      Buffer.from('café 中 \u{1F600}\n'),
      Buffer.from([0x61, 0xff, 0x62]), // not UTF-8: replaced
      Buffer.from([0xef, 0xbb, 0xbf, 0x61]), // a byte order mark stays
      Buffer.from([0x7f, 0x00, 0x0a]),
    ];
    for (const bytes of cases) expect(decodeText(bytes)).toBe(bytes.toString('utf8'));
  });

  it('keeps a Latin-1 byte from being read as its own character', () => {
    expect(decodeText(Buffer.from([0xe9]))).toBe('\uFFFD');
  });
});
