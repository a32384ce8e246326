import { describe, expect, it } from 'vitest';
import { verbatimLines } from './native-parse.js';

const COMMA = 44;
const TAB = 9;
const lines = (...fields: string[][]) =>
  Buffer.from(fields.map((f, i) => `${i + 2},${f.join(',')}\n`).join(''), 'latin1');

describe('verbatimLines', () => {
  it('takes ASCII fields with inner spaces, control characters and empty fields', () => {
    expect(verbatimLines(lines(['2025-04-23 10:00:00', 'a b', '', 'x']), COMMA)).toBe(true);
    expect(verbatimLines(lines(['\u0001', 'x'], ['y', '']), COMMA)).toBe(true);
  });

  it('refuses a space at either end of a field, first or last field included', () => {
    for (const fields of [[' a', 'b'], ['a ', 'b'], ['a', ' b'], ['a', 'b '], ['a', ' '], [' ']]) {
      expect(verbatimLines(lines(['ok'], fields), COMMA), JSON.stringify(fields)).toBe(false);
    }
  });

  it('refuses whitespace controls and anything outside ASCII', () => {
    for (const value of ['a\tb', 'a\u000bb', 'a\u000cb', 'Z\u00fcrich', '\u00a0']) {
      expect(verbatimLines(lines(['ok', value]), COMMA), JSON.stringify(value)).toBe(false);
    }
  });

  it('reads the delimiter it is given: a tab delimits, a comma is then text', () => {
    const tabbed = Buffer.from('2\ta b\tc\n3\t, x\ty\n');
    expect(verbatimLines(tabbed, TAB)).toBe(true);
    expect(verbatimLines(Buffer.from('2\ta \tc\n'), TAB)).toBe(false);
  });
});
