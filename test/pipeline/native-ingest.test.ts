import { isAscii } from 'node:buffer';
import { mkdtemp, readFile, rm } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { Readable } from 'node:stream';
import { gzipSync } from 'node:zlib';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { type ParsedFile, type PendingFile, parseOne } from '../../src/billing/ingest/file-load.js';
import { stageSource } from '../../src/billing/ingest/native-parse.js';
import { nativeParseCopy } from '../../src/billing/sql/native-ingest.js';
import { NORMALIZED_EVENT_COLUMNS } from '../../src/billing/sql/tables.js';
import type { Source } from '../../src/sources/source.js';
import { DuckDBWarehouse } from '../../src/warehouse/duckdb/duckdb-warehouse.js';
import { ownConnectionRunner } from '../../src/warehouse/duckdb/own-connection.js';
import { literal, type Row } from '../../src/warehouse/warehouse.js';
import { csv, HEADER, row } from '../support/pipeline.js';
import { seededRandom } from '../support/random.js';

/*
 * The DuckDB-native parse against the JS parser, file by file: what the fast path writes must be
 * exactly what the JS path writes, and a file it cannot vouch for must go to the JS path (seen as a
 * second download of the file).
 */

let dir: string;
let warehouse: DuckDBWarehouse;

beforeAll(async () => {
  dir = await mkdtemp(join(tmpdir(), 'native-ingest-'));
  warehouse = await DuckDBWarehouse.open({ path: join(dir, 'w.duckdb') });
});
afterAll(async () => {
  await warehouse.close();
  await rm(dir, { recursive: true, force: true });
});

function sourceOf(body: Buffer): Source & { opens: number } {
  const source = {
    uri: 'memory://',
    opens: 0,
    async *list() {},
    async open() {
      source.opens++;
      // Small chunks: lines and the header cross chunk boundaries.
      const chunks: Buffer[] = [];
      for (let i = 0; i < body.length; i += 7) chunks.push(body.subarray(i, i + 7));
      return Readable.from(chunks);
    },
    async put() {},
  };
  return source as unknown as Source & { opens: number };
}

let runs = 0;
async function parse(body: Buffer, native: boolean, key = 'year=2025/month=04/day=23/a.csv') {
  const source = sourceOf(body);
  const file: PendingFile = {
    source_key: key,
    version: 'v1',
    partition: '2025-04-23',
    size: body.length,
    replaces: false,
  };
  const out = join(dir, String(runs++));
  await import('node:fs/promises').then((fs) => fs.mkdir(out));
  const parsed = await parseOne(
    source,
    new AbortController().signal,
    file,
    3,
    out,
    () => {},
    native ? ownConnectionRunner(warehouse) : null,
  );
  return { parsed, opens: source.opens, events: await eventsOf(parsed), rejects: await rejectsOf(parsed) };
}

async function eventsOf(p: ParsedFile): Promise<Row[]> {
  if (p.kind !== 'loaded' || p.rows === 0) return [];
  if (p.eventsFormat === 'parquet') {
    return warehouse.all(`SELECT * FROM read_parquet(${literal(p.eventsPath)}) ORDER BY source_line`);
  }
  const spec = NORMALIZED_EVENT_COLUMNS.map((c) => `${literal(c.name)}: ${literal(c.type)}`).join(', ');
  return warehouse.all(`SELECT * FROM read_csv(${literal(p.eventsPath)}, header = false, auto_detect = false,
    delim = ',', quote = '"', escape = '"', columns = {${spec}}) ORDER BY source_line`);
}

async function rejectsOf(p: ParsedFile): Promise<string> {
  return p.kind === 'loaded' && p.rejectedRows > 0 ? readFile(p.rejectsPath, 'utf8') : '';
}

/** Values the JS rules accept in every form they allow. */
const VALID = [
  row({ user_id: '1' }),
  row({ timestamp: '2025-04-23 10:00', user_id: '+42', credit_usage: '.5', success: 'TRUE' }),
  row({ timestamp: '2025-04-23t10:00:00.5', user_id: '007', credit_usage: '5.', success: 'Yes' }),
  row({
    timestamp: '2025-04-23T10:00:00.123456789+05:30',
    user_id: '-0',
    credit_usage: '-0012.50',
    success: 'n',
  }),
  row({ timestamp: '2025-04-23T01:30:00+02:00', user_id: '9223372036854775807', credit_usage: '+1.000000' }),
  row({
    timestamp: '2025-03-01T23:30:00-0130',
    user_id: '-9223372036854775808',
    credit_usage: '999999999999.999999',
  }),
  row({ timestamp: '  2025-04-23T10:00:00z  ', user_id: ' 5 ', credit_usage: ' 3 ', success: ' y ' }),
  row({
    timestamp: '2025-12-31T23:00:00-05',
    credit_usage: '0',
    success: 'F',
    resource_id: '  ',
    invoice_id: '',
  }),
  row({ timestamp: '2024-02-29T12:00:00', success: '0', region: ' padded ', resource_type: 'Zürich' }),
  row({ timestamp: '2025-04-23T10:00:00.1234567Z', currency: 'EUR', operation_type: 'a b' }),
];

describe('DuckDB-native parse', () => {
  it('writes exactly the JS path events for every accepted form, with one download', async () => {
    const body = Buffer.from(csv(...VALID));
    const js = await parse(body, false);
    const fast = await parse(body, true);
    expect(js.parsed.kind).toBe('loaded');
    expect(js.parsed.rejectedRows).toBe(0);
    expect(fast.opens).toBe(1);
    expect(fast.parsed).toMatchObject({
      kind: 'loaded',
      rows: VALID.length,
      rejectedRows: 0,
      contentHash: js.parsed.contentHash,
    });
    expect(fast.events).toHaveLength(VALID.length);
    expect(fast.events).toEqual(js.events);
  });

  it('keeps line numbers over blank lines, CRLF, no final line feed, other column orders, delimiters and gzip', async () => {
    const columns = HEADER.split(',');
    const order = [...columns].reverse().concat('extra');
    const reorder = (line: string, delimiter: string) => {
      const fields = line.split(',');
      return order.map((c) => (c === 'extra' ? 'x' : fields[columns.indexOf(c)])).join(delimiter);
    };
    for (const delimiter of [',', ';', '\t', '|']) {
      const lines = [order.join(delimiter), ...VALID.map((l) => reorder(l, delimiter))];
      lines.splice(3, 0, '', '');
      const text = lines.join('\r\n');
      for (const body of [Buffer.from(text), gzipSync(text)]) {
        const key =
          body[0] === 0x1f ? 'year=2025/month=04/day=23/a.csv.gz' : 'year=2025/month=04/day=23/a.csv';
        const js = await parse(body, false, key);
        const fast = await parse(body, true, key);
        expect(fast.opens).toBe(1);
        expect(js.events).toHaveLength(VALID.length);
        expect(fast.events).toEqual(js.events);
        expect(fast.events.map((e) => e.source_line)).toEqual([2, 3, 6, 7, 8, 9, 10, 11, 12, 13]);
      }
    }
  });

  it('parses a file without padded or non-ASCII values verbatim, whatever its delimiter and line ends', async () => {
    const plain = [...VALID.slice(0, 6), VALID[9] ?? ''];
    for (const delimiter of [',', ';', '\t', '|']) {
      for (const eol of ['\n', '\r\n']) {
        const text = [HEADER, ...plain].map((l) => l.split(',').join(delimiter)).join(eol);
        const body = Buffer.from(text);
        const staged = await stageSource({
          input: await sourceOf(body).open(''),
          gzip: false,
          path: join(dir, 'plain-numbered.csv'),
        });
        expect(staged.eligible && staged.verbatim, JSON.stringify({ delimiter, eol })).toBe(true);
        const js = await parse(body, false);
        const fast = await parse(body, true);
        expect(fast.opens).toBe(1);
        expect(fast.events).toHaveLength(plain.length);
        expect(fast.events).toEqual(js.events);
      }
    }
  });

  it('leaves files it cannot vouch for to the JS path, with the JS rejections', async () => {
    const cases = [
      csv(row(), row({ user_id: 'u42' })), // a rejected row
      csv(row(), row({ timestamp: '2025-04-23T24:00' })), // hour 24, which DuckDB's cast would take
      csv(row(), row({ timestamp: '0000-01-01T00:00' })), // year 0
      csv(row(), `${row()},extra`), // field count
      csv(row(), row({ resource_id: '"quoted, with comma"' })), // quotes
      csv(row(), row({ region: 'a\rb' })), // a lone CR is data
      `\uFEFF${csv(row())}`, // byte order mark
      csv(row(), row({ resource_id: '\u00a0' })), // blank to JS, not to ASCII trimming
      'timestamp;user_id\n1;2\n', // a header the rules reject
    ];
    for (const text of cases) {
      const body = Buffer.from(text);
      const js = await parse(body, false);
      const fast = await parse(body, true);
      expect(fast.opens, text).toBe(2);
      expect({ ...fast.parsed, eventsPath: '', rejectsPath: '' }).toEqual({
        ...js.parsed,
        eventsPath: '',
        rejectsPath: '',
      });
      expect(fast.events).toEqual(js.events);
      expect(fast.rejects).toEqual(js.rejects);
    }
    const latin1 = Buffer.concat([
      Buffer.from(`${HEADER}\n${row()}\n`),
      Buffer.from(row({ resource_id: 'Z\u00fcrich' }), 'latin1'),
    ]);
    const fast = await parse(latin1, true);
    expect(fast.opens).toBe(2);
    expect(fast.rejects).toContain('invalid UTF-8');
  });
});

describe('DuckDB-native rules against the JS rules', () => {
  const dates = [
    '2025-04-23',
    '2024-02-29',
    '2025-02-29',
    '0000-01-01',
    '9999-12-31',
    '0001-01-01',
    '2025-13-01',
    '1000-01-01',
    '0999-12-31',
  ];
  const times = ['10:00', '23:59:59', '24:00', '10:60', '10:00:60', '00:00:00', '1:00', '10:00:5'];
  const fractions = ['', '', '.5', '.123456', '.1234567', '.', '.1234567890'];
  const zones = ['', 'Z', 'z', '+05:30', '-0130', '-05', '+18:00', '+18:01', '+05:60', '+5', '-23:59'];
  const spaces = ['', '', ' ', '\t', '\u00a0'];
  const users = [
    '1',
    '+42',
    '007',
    '-0',
    '9223372036854775807',
    '9223372036854775808',
    '-9223372036854775808',
    '-9223372036854775809',
    '1_000',
    '0x10',
    '',
    ' 5 ',
    '1e3',
    '+',
    '-',
  ];
  const credits = [
    '.5',
    '5.',
    '.',
    '-0012.50',
    '+1.000000',
    '1.1234567',
    '999999999999.999999',
    '9999999999999',
    '0000000000001.5',
    '1e3',
    'abc',
    '',
    ' 3 ',
    '+.5',
    '-.0',
    'NaN',
    'inf',
    '1.5',
  ];
  const booleans = ['true', 'TRUE', '1', '0', 'yes', 'Y', 't', 'f', 'no', 'maybe', '', ' y ', 'truee', 'N'];
  const texts = ['', ' ', 'x', ' padded ', 'Zürich', '\u00a0', '\u00a0x', 'eu-west-1', 'a b', '\u0001'];
  /**
   * ASCII without whitespace but inner spaces: what a file must hold throughout to be verbatim.
   * Other control characters are text to both paths, so `\u0001` stays in.
   */
  const isVerbatim = (value: string) => isAscii(Buffer.from(value)) && !/[\t\n\v\f\r]|^ | $/.test(value);

  /**
   * Random near-valid rows through both paths; with `verbatim`, only values a verbatim file holds
   * (the SQL then skips trimming and blank tests), so the file must be staged as verbatim.
   */
  async function compare(seed: number, verbatim: boolean): Promise<void> {
    const next = seededRandom(seed);
    const pool = (values: readonly string[]) => (verbatim ? values.filter(isVerbatim) : values);
    const pick = (values: readonly string[]): string => {
      const from = pool(values);
      return from[Math.floor(next() * from.length)] ?? '';
    };
    // The separator and the time are inside the value: a space there is verbatim.
    const lines: string[] = [];
    for (let i = 0; i < 20000; i++) {
      const ts = `${pick(spaces)}${pick(dates)}${pick(['T', 't', ' ', 'T', 'x'])}${pick(times)}${pick(fractions)}${pick(zones)}${pick(spaces)}`;
      lines.push(
        row({
          timestamp: ts,
          user_id: pick(users),
          credit_usage: pick(credits),
          success: pick(booleans),
          resource_id: pick(texts),
          region: pick(texts),
          currency: pick(texts),
        }),
      );
    }
    const body = Buffer.from(csv(...lines));
    const js = await parse(body, false);
    const jsByLine = new Map(js.events.map((e) => [e.source_line, e]));
    const numbered = join(dir, `fuzz-${seed}-numbered.csv`);
    const staged = await stageSource({ input: await sourceOf(body).open(''), gzip: false, path: numbered });
    expect(staged.eligible).toBe(true);
    if (!staged.eligible) return;
    expect(staged.verbatim).toBe(verbatim);
    const eventsPath = join(dir, `fuzz-${seed}-events.parquet`);
    const run = ownConnectionRunner(warehouse);
    const written = await run?.(
      nativeParseCopy({
        path: numbered,
        delimiter: ',',
        fieldCount: 11,
        indexes: staged.header.indexes,
        fileIndex: 3,
        eventsPath,
        verbatim: staged.verbatim,
      }),
    );
    const native = await eventsOf({
      kind: 'loaded',
      rows: written ?? 0,
      eventsPath,
      eventsFormat: 'parquet',
    } as ParsedFile);
    expect(native.length).toBeGreaterThan(40);
    expect(js.events.length).toBeGreaterThan(native.length);
    for (const event of native) expect(event).toEqual(jsByLine.get(event.source_line));
  }

  it('accepts only rows the JS path accepts, with the same values, over random near-valid values', async () => {
    await compare(12, false);
  });

  it('does the same on a verbatim file without the trims and blank tests', async () => {
    await compare(13, true);
  });
});
