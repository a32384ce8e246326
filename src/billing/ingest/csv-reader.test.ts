import { describe, expect, it } from 'vitest';
import { type CsvRecord, readCsvRecords } from './csv-reader.js';

async function* chunked(data: Buffer, size: number): AsyncGenerator<Buffer> {
  for (let i = 0; i < data.length; i += size) yield data.subarray(i, i + size);
}

async function* each(...chunks: (Buffer | string)[]): AsyncGenerator<Buffer | string> {
  yield* chunks;
}

async function collect(
  input: AsyncIterable<Buffer | string>,
  options?: Parameters<typeof readCsvRecords>[1],
): Promise<CsvRecord[][]> {
  const batches: CsvRecord[][] = [];
  for await (const batch of readCsvRecords(input, options)) batches.push(batch);
  return batches;
}

async function read(text: string | Buffer, chunkSize = 1 << 16): Promise<CsvRecord[]> {
  const data = typeof text === 'string' ? Buffer.from(text, 'utf8') : text;
  return (await collect(chunked(data, chunkSize))).flat();
}

async function fields(text: string | Buffer, chunkSize?: number): Promise<string[][]> {
  return (await read(text, chunkSize)).map((r) => r.fields);
}

describe('readCsvRecords: plain records', () => {
  it('splits lines and fields, header being the first record', async () => {
    const records = await read('a,b,c\n1,2,3\n4,,6\n');
    expect(records).toEqual([
      { line: 1, fields: ['a', 'b', 'c'], raw: 'a,b,c' },
      { line: 2, fields: ['1', '2', '3'], raw: '1,2,3' },
      { line: 3, fields: ['4', '', '6'], raw: '4,,6' },
    ]);
    expect(records.every((r) => !('error' in r))).toBe(true);
  });

  it('keeps empty leading and trailing fields and surrounding spaces', async () => {
    expect(await fields(',a, b ,\n')).toEqual([['', 'a', ' b ', '']]);
  });

  it('reads a final line without a line ending', async () => {
    expect(await read('h\nlast')).toEqual([
      { line: 1, fields: ['h'], raw: 'h' },
      { line: 2, fields: ['last'], raw: 'last' },
    ]);
  });

  it('handles CRLF, mixed endings and a CR before end of file', async () => {
    expect(await read('a,b\r\nc,d\ne,f\r\ng,h\r')).toEqual([
      { line: 1, fields: ['a', 'b'], raw: 'a,b' },
      { line: 2, fields: ['c', 'd'], raw: 'c,d' },
      { line: 3, fields: ['e', 'f'], raw: 'e,f' },
      { line: 4, fields: ['g', 'h'], raw: 'g,h' },
    ]);
  });

  it('treats a lone CR inside a line as data', async () => {
    expect(await fields('a\rb,c\n')).toEqual([['a\rb', 'c']]);
  });

  it('skips empty lines but counts them', async () => {
    const records = await read('\nh\n\n\r\nx\n\n');
    expect(records.map((r) => [r.line, r.raw])).toEqual([
      [2, 'h'],
      [5, 'x'],
    ]);
  });

  it('keeps a whitespace-only line as a record', async () => {
    expect(await read('h\n \n')).toEqual([
      { line: 1, fields: ['h'], raw: 'h' },
      { line: 2, fields: [' '], raw: ' ' },
    ]);
  });

  it('yields nothing for empty input or only blank lines', async () => {
    expect(await collect(chunked(Buffer.alloc(0), 1))).toEqual([]);
    expect(await read('\n\r\n\n')).toEqual([]);
  });

  it('strips a UTF-8 BOM at the start only', async () => {
    const bom = Buffer.from([0xef, 0xbb, 0xbf]);
    const data = Buffer.concat([bom, Buffer.from('id,name\n1,\uFEFFx\n')]);
    const expected = [
      { line: 1, fields: ['id', 'name'], raw: 'id,name' },
      { line: 2, fields: ['1', '\uFEFFx'], raw: '1,\uFEFFx' },
    ];
    expect(await read(data)).toEqual(expected);
    expect(await read(data, 1)).toEqual(expected);
    expect(await collect(each('\uFEFFid,name\n', '1,\uFEFFx\n'))).toEqual([expected]);
  });

  it('accepts string chunks', async () => {
    expect((await collect(each('a,', 'b\nc', ',d'))).flat().map((r) => r.fields)).toEqual([
      ['a', 'b'],
      ['c', 'd'],
    ]);
  });
});

describe('readCsvRecords: quoted fields', () => {
  it('reads quoted commas, doubled quotes and empty quoted fields', async () => {
    const records = await read('"a,b","say ""hi""",""\n"",x,""""\n');
    expect(records).toEqual([
      { line: 1, fields: ['a,b', 'say "hi"', ''], raw: '"a,b","say ""hi""",""' },
      { line: 2, fields: ['', 'x', '"'], raw: '"",x,""""' },
    ]);
  });

  it('keeps a quote inside an unquoted field literally', async () => {
    expect(await fields('ab"c,d"\n5" screen,x\n')).toEqual([
      ['ab"c', 'd"'],
      ['5" screen', 'x'],
    ]);
  });

  it('only treats a quote as opening at the very start of a field', async () => {
    expect(await fields(' "a,b"\n')).toEqual([[' "a', 'b"']]);
  });

  it('reads embedded line breaks and numbers the following lines physically', async () => {
    const text = 'h1,h2\n1,2\nx,y\nz,w\n"multi\nline",3\n5,6\n"a\r\nb\r\nc",7\r\n8,9\n';
    const records = await read(text);
    expect(records).toEqual([
      { line: 1, fields: ['h1', 'h2'], raw: 'h1,h2' },
      { line: 2, fields: ['1', '2'], raw: '1,2' },
      { line: 3, fields: ['x', 'y'], raw: 'x,y' },
      { line: 4, fields: ['z', 'w'], raw: 'z,w' },
      { line: 5, fields: ['multi\nline', '3'], raw: '"multi\nline",3' },
      { line: 7, fields: ['5', '6'], raw: '5,6' },
      { line: 8, fields: ['a\r\nb\r\nc', '7'], raw: '"a\r\nb\r\nc",7' },
      { line: 11, fields: ['8', '9'], raw: '8,9' },
    ]);
  });

  it('reads a quoted field that ends the file with or without a line ending', async () => {
    expect(await fields('a,"b\nc"')).toEqual([['a', 'b\nc']]);
    expect(await fields('a,"b"\r')).toEqual([['a', 'b']]);
    expect(await fields('a,"b"\r\n')).toEqual([['a', 'b']]);
  });

  it('rejects a record with text after a closing quote and resumes on the next line', async () => {
    const records = await read('h\n"ab"c,d\n"x" ,y\n"ok",1\n"q"\rz\nlast\n');
    expect(records).toEqual([
      { line: 1, fields: ['h'], raw: 'h' },
      { line: 2, fields: [], raw: '"ab"c,d', error: 'unexpected character after closing quote' },
      { line: 3, fields: [], raw: '"x" ,y', error: 'unexpected character after closing quote' },
      { line: 4, fields: ['ok', '1'], raw: '"ok",1' },
      { line: 5, fields: [], raw: '"q"\rz', error: 'unexpected character after closing quote' },
      { line: 6, fields: ['last'], raw: 'last' },
    ]);
  });

  it('rejects a text-after-quote error on the last line without a line ending', async () => {
    expect(await read('"a"b')).toEqual([
      { line: 1, fields: [], raw: '"a"b', error: 'unexpected character after closing quote' },
    ]);
  });

  it('reports an unterminated quote at end of file, spanning the rest of the file', async () => {
    expect(await read('h\nok,1\n"open,2\nmore\n')).toEqual([
      { line: 1, fields: ['h'], raw: 'h' },
      { line: 2, fields: ['ok', '1'], raw: 'ok,1' },
      { line: 3, fields: [], raw: '"open,2\nmore', error: 'unterminated quoted field' },
    ]);
    expect(await read('a,"b""')).toEqual([
      { line: 1, fields: [], raw: 'a,"b""', error: 'unterminated quoted field' },
    ]);
  });
});

describe('readCsvRecords: chunk boundaries', () => {
  const text =
    '\uFEFFtimestamp,name,note\r\n' +
    '2025-01-01,caf\u00e9 \u20ac \u{1F600},"a,b ""q"" \u{1D11E}"\r\n' +
    '\r\n' +
    '2025-01-02,"multi\r\nline \u00e9","x"\r\n' +
    '2025-01-03,\u4e2d\u6587,"""",\n' +
    '2025-01-04,plain,"end"';

  it('gives the same records whatever the chunk size', async () => {
    const whole = await read(text);
    expect(whole.map((r) => r.line)).toEqual([1, 2, 4, 6, 7]);
    expect(whole[1]?.fields).toEqual(['2025-01-01', 'caf\u00e9 \u20ac \u{1F600}', 'a,b "q" \u{1D11E}']);
    expect(whole[2]?.fields).toEqual(['2025-01-02', 'multi\r\nline \u00e9', 'x']);
    expect(whole[3]?.fields).toEqual(['2025-01-03', '\u4e2d\u6587', '"', '']);
    for (const size of [1, 2, 3, 5, 7, 11, 64]) {
      expect(await read(text, size), `chunk size ${size}`).toEqual(whole);
    }
  });

  it('decodes a multi-byte character split across chunks', async () => {
    const data = Buffer.from('x,\u20ac\u{1F600}\n', 'utf8');
    for (let cut = 1; cut < data.length; cut++) {
      const parts = [data.subarray(0, cut), data.subarray(cut)];
      expect((await collect(each(...parts))).flat()[0]?.fields).toEqual(['x', '\u20ac\u{1F600}']);
    }
  });

  it('marks a record with bytes that are not UTF-8, naming the first, instead of replacing them', async () => {
    // Latin-1 "vm-Zürich" (0xFC) between valid lines; a real U+FFFD and a split euro sign stay valid.
    const data = Buffer.concat([
      Buffer.from('a,b\n1,\uFFFD\n2,vm-Z', 'utf8'),
      Buffer.from([0xfc]),
      Buffer.from('rich\n3,\u20ac\n', 'utf8'),
    ]);
    for (const size of [1, 2, 3, 7, 1 << 16]) {
      const records = await read(data, size);
      expect(records, `chunk size ${size}`).toEqual([
        { line: 1, fields: ['a', 'b'], raw: 'a,b' },
        { line: 2, fields: ['1', '\uFFFD'], raw: '1,\uFFFD' },
        {
          line: 3,
          fields: [],
          raw: '2,vm-Z\\xFCrich',
          error: 'invalid UTF-8 at byte 7 of the line (0xFC): the file must be UTF-8',
        },
        { line: 4, fields: ['3', '\u20ac'], raw: '3,\u20ac' },
      ]);
    }
  });

  it('refuses overlong forms, encoded surrogates and a truncated sequence at the end', async () => {
    for (const bad of [
      [0xc0, 0xaf],
      [0xed, 0xa0, 0x80],
      [0xf4, 0x90, 0x80, 0x80],
      [0xe2, 0x82],
    ]) {
      const [record] = await read(Buffer.concat([Buffer.from('x,'), Buffer.from(bad)]));
      expect(record?.error, bad.join(' ')).toMatch(/^invalid UTF-8 at byte 3 of the line/);
    }
  });

  it('parses random records identically in random chunk sizes', async () => {
    let seed = 42;
    const random = (n: number) => {
      seed = (seed * 1103515245 + 12345) & 0x7fffffff;
      return seed % n;
    };
    const alphabet = ['a', 'b', ',', '"', '\n', '\r\n', ' ', '\u00e9', '\u{1F600}', '1'];
    const rows: string[][] = [];
    for (let r = 0; r < 300; r++) {
      const row: string[] = [];
      const n = 1 + random(5);
      for (let f = 0; f < n; f++) {
        let value = '';
        const len = random(6);
        for (let c = 0; c < len; c++) value += alphabet[random(alphabet.length)];
        row.push(value);
      }
      // An all-empty single-field row would be a blank line, which is not a record.
      if (row.length === 1 && row[0] === '') row[0] = 'z';
      rows.push(row);
    }
    const encode = (v: string) => (/[",\r\n]/.test(v) || v === '' ? `"${v.replaceAll('"', '""')}"` : v);
    const csv = rows.map((row) => row.map(encode).join(',')).join(random(2) ? '\r\n' : '\n');
    const data = Buffer.from(csv, 'utf8');
    expect(await fields(data)).toEqual(rows);
    for (let round = 0; round < 5; round++) {
      const size = 1 + random(40);
      expect(await fields(data, size), `chunk size ${size}`).toEqual(rows);
    }
  });
});

describe('readCsvRecords: batching and limits', () => {
  it('yields batches of batchSize records and a final partial batch', async () => {
    const batches = await collect(chunked(Buffer.from('a\nb\nc\nd\ne\n'), 3), { batchSize: 2 });
    expect(batches.map((b) => b.map((r) => r.raw))).toEqual([['a', 'b'], ['c', 'd'], ['e']]);
  });

  it('defaults to batches of 8192 records', async () => {
    const text = 'x\n'.repeat(8192 * 2 + 5);
    const batches = await collect(chunked(Buffer.from(text), 1000));
    expect(batches.map((b) => b.length)).toEqual([8192, 8192, 5]);
    expect(batches[2]?.[4]?.line).toBe(8192 * 2 + 5);
  });

  it('rejects an invalid batch size', async () => {
    await expect(collect(each('a\n'), { batchSize: 0 })).rejects.toThrow(RangeError);
  });

  it('rejects the first line of a quote that is not closed within maxRecordLength and resumes', async () => {
    const text = 'h\n"never closed,1\nok,2\nok,3\n';
    const records = (await collect(chunked(Buffer.from(text), 4), { maxRecordLength: 20 })).flat();
    expect(records).toEqual([
      { line: 1, fields: ['h'], raw: 'h' },
      { line: 2, fields: [], raw: '"never closed,1', error: 'quoted field not closed within 20 characters' },
      { line: 3, fields: ['ok', '2'], raw: 'ok,2' },
      { line: 4, fields: ['ok', '3'], raw: 'ok,3' },
    ]);
  });

  it('rejects and drops a line longer than maxRecordLength', async () => {
    const text = `h\n${'x'.repeat(50)}\nok\n`;
    const records = (await collect(chunked(Buffer.from(text), 7), { maxRecordLength: 20 })).flat();
    expect(records[0]).toEqual({ line: 1, fields: ['h'], raw: 'h' });
    expect(records[1]?.line).toBe(2);
    expect(records[1]?.error).toBe('record longer than 20 characters');
    expect(records[1]?.raw.startsWith('xxxxxxxxxxxxxxxxxxxx')).toBe(true);
    expect(records[2]).toEqual({ line: 3, fields: ['ok'], raw: 'ok' });
    expect(records).toHaveLength(3);
  });

  it('keeps records up to maxRecordLength', async () => {
    const value = 'y'.repeat(30);
    const records = (
      await collect(chunked(Buffer.from(`"${value}\n${value}"\n`), 5), { maxRecordLength: 70 })
    ).flat();
    expect(records).toEqual([{ line: 1, fields: [`${value}\n${value}`], raw: `"${value}\n${value}"` }]);
  });
});
