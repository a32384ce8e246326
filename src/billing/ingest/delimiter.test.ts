import { describe, expect, it } from 'vitest';
import { readCsvRecords } from './csv-reader.js';
import { delimiterName, detectDelimiter } from './delimiter.js';

const HEADER =
  'timestamp,resource_id,user_id,credit_usage,region,service_tier,operation_type,success,resource_type,invoice_id,currency';

async function* chunks(text: string): AsyncGenerator<string> {
  yield text;
}

async function records(text: string, delimiter: string) {
  const out: { line: number; fields: string[] }[] = [];
  let seen = '';
  for await (const batch of readCsvRecords(chunks(text), { delimiter, onDelimiter: (d) => (seen = d) })) {
    for (const r of batch) out.push({ line: r.line, fields: r.fields });
  }
  return { out, seen };
}

describe('delimiter detection', () => {
  it('picks the delimiter that splits the header into schema columns', () => {
    expect(detectDelimiter(HEADER)).toBe(',');
    expect(detectDelimiter(HEADER.replaceAll(',', ';'))).toBe(';');
    expect(detectDelimiter(HEADER.replaceAll(',', '\t'))).toBe('\t');
    expect(detectDelimiter(HEADER.replaceAll(',', '|'))).toBe('|');
    expect(detectDelimiter(`"${HEADER.replaceAll(',', '";"')}"`)).toBe(';');
    // Most schema names wins: a comma inside one name does not make a comma file.
    expect(detectDelimiter(`${HEADER.replaceAll(',', ';')};"notes, free text"`)).toBe(';');
    expect(detectDelimiter('a;b;c')).toBe(',');
    expect(delimiterName(';')).toBe('semicolon (;)');
    expect(delimiterName('\t')).toBe('tab');
  });

  it('reads quoted fields and line numbers with the detected delimiter', async () => {
    const text = `${HEADER.replaceAll(',', ';')}\n1;"a;b";"x""y"\n\n2;c;d\n`;
    const { out, seen } = await records(text, 'auto');
    expect(seen).toBe(';');
    expect(out.slice(1)).toEqual([
      { line: 2, fields: ['1', 'a;b', 'x"y'] },
      { line: 4, fields: ['2', 'c', 'd'] },
    ]);
    // The default stays the comma, whatever the header.
    expect((await records(text, ',')).out[1]?.fields).toEqual(['1;"a;b";"x""y"']);
  });
});
