import { describe, expect, it } from 'vitest';
import { csvCell, toCsv } from '../../web/src/csv.js';

describe('UI CSV downloads', () => {
  it.each([
    ['=HYPERLINK("http://evil.example","x")', `"'=HYPERLINK(""http://evil.example"",""x"")"`],
    ['+1+cmd|/c calc', "'+1+cmd|/c calc"],
    ['-2+3', "'-2+3"],
    ['@SUM(A1:A2)', "'@SUM(A1:A2)"],
    ['\t=1', "'\t=1"],
    ['\r=1', `"'\r=1"`],
    ['vm-Zürich', 'vm-Zürich'],
    ['a,b', '"a,b"'],
  ])('makes the text cell %j safe to open in a spreadsheet', (value, expected) => {
    expect(csvCell(value)).toBe(expected);
  });

  it('leaves numbers alone: JSON numbers, and decimal strings in numeric columns', () => {
    expect(csvCell(-12.5)).toBe('-12.5');
    expect(csvCell(42)).toBe('42');
    expect(csvCell('-0.000001', true)).toBe('-0.000001');
    expect(csvCell('+3', true)).toBe('+3');
    // Not a number, though in a numeric column: still prefixed.
    expect(csvCell('-1+2', true)).toBe("'-1+2");
    // The same text in a text column is text.
    expect(csvCell('-0.5')).toBe("'-0.5");
    expect(csvCell(null)).toBe('');
    expect(csvCell(true)).toBe('true');
  });

  it('writes a header and one line per row, by column type', () => {
    const csv = toCsv(
      [
        { name: 'user', type: 'VARCHAR' },
        { name: 'credit_usage', type: 'DECIMAL(18,6)' },
        { name: 'tags', type: 'VARCHAR[]' },
      ],
      [
        { user: '=cmd', credit_usage: '-1.500000', tags: ['a', '@b'] },
        { user: 'ok', credit_usage: null, tags: null },
      ],
    );
    expect(csv).toBe(`user,credit_usage,tags\n'=cmd,-1.500000,"[""a"",""@b""]"\nok,,\n`);
  });
});
