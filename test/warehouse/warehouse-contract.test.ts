import { writeFile } from 'node:fs/promises';
import path from 'node:path';
import { afterEach, beforeEach, describe, expect, it } from 'vitest';
import { openWarehouse } from '../../src/warehouse/create-warehouse.js';
import type { ColumnInfo, Warehouse } from '../../src/warehouse/warehouse.js';
import { createDatabase, postgresPerFile } from '../support/postgres.js';
import { tmpDir } from '../support/tmp.js';

/**
 * The Warehouse contract, asserted with the same SQL and the same expected JS values against a real
 * DuckDB file and a real PostgreSQL database: what the pipeline's SQL may rely on in either dialect.
 */

type Dialect = 'duckdb' | 'postgres';
const postgres = postgresPerFile();
const withPostgres = postgres.available;

async function open(dialect: Dialect): Promise<{ warehouse: Warehouse; dispose: () => Promise<void> }> {
  const dir = await tmpDir(`contract-${dialect}`);
  const file = path.join(dir, 'warehouse.duckdb');
  if (dialect === 'duckdb') {
    const warehouse = await openWarehouse({ path: file, threads: 1 });
    return { warehouse, dispose: () => warehouse.close() };
  }
  const database = await createDatabase(postgres.server(), 'contract');
  const warehouse = await openWarehouse({ path: file, databaseUrl: database.url });
  return {
    warehouse,
    dispose: async () => {
      await warehouse.close();
      await database.drop();
    },
  };
}

const EVENT_COLUMNS: ColumnInfo[] = [
  { name: 'id', type: 'INTEGER' },
  { name: 'day', type: 'DATE' },
  { name: 'ts', type: 'TIMESTAMP' },
  { name: 'note', type: 'VARCHAR' },
  { name: 'amount', type: 'DECIMAL(18,6)' },
  { name: 'ok', type: 'BOOLEAN' },
  { name: 'big', type: 'BIGINT' },
];
const CREATE_EVENTS = `CREATE TABLE events (${EVENT_COLUMNS.map((c) => `${c.name} ${c.type}`).join(', ')}, PRIMARY KEY (id))`;

// Headerless, as the pipeline writes them: text always quoted, an unquoted or quoted empty field is
// NULL, a quoted field may hold commas, doubled quotes and newlines; the last file lacks a final \n.
const CSV_A =
  '1,2025-04-23,2025-04-23 10:00:00.123456,"user, ""quoted""",1.500000,true,42\n' +
  '2,2025-04-24,2025-04-24 00:00:00,"two\nlines",,false,\n';
const CSV_B = '3,2025-04-25,2025-04-25 23:59:59.5,"",0.000001,true,9007199254740993';
const STAGED_ROWS = [
  {
    id: 1,
    day: '2025-04-23',
    ts: '2025-04-23T10:00:00.123456Z',
    note: 'user, "quoted"',
    amount: '1.500000',
    ok: true,
    big: 42,
  },
  {
    id: 2,
    day: '2025-04-24',
    ts: '2025-04-24T00:00:00Z',
    note: 'two\nlines',
    amount: null,
    ok: false,
    big: null,
  },
  {
    id: 3,
    day: '2025-04-25',
    ts: '2025-04-25T23:59:59.500000Z',
    note: null,
    amount: '0.000001',
    ok: true,
    big: '9007199254740993',
  },
];

async function csvFiles(files: Record<string, string>): Promise<string[]> {
  const dir = await tmpDir('contract-csv');
  return Promise.all(
    Object.entries(files).map(async ([name, text]) => {
      const file = path.join(dir, name);
      await writeFile(file, text);
      return file;
    }),
  );
}

const DIALECTS: Dialect[] = ['duckdb', 'postgres'];

describe.each(DIALECTS)('the %s warehouse', (dialect) => {
  let wh: Warehouse;
  let dispose: (() => Promise<void>) | undefined;

  beforeEach(async (ctx) => {
    if (dialect === 'postgres' && !withPostgres) ctx.skip();
    ({ warehouse: wh, dispose } = await open(dialect));
  });
  afterEach(async () => {
    await dispose?.();
    dispose = undefined;
  });

  it('names its dialect', () => {
    expect(wh.dialect).toBe(dialect);
  });

  it('keeps DECIMAL exact, with its scale, where floating point would not', async () => {
    await wh.exec('CREATE TABLE money (id INTEGER, amount DECIMAL(18,6), wide DECIMAL(38,6))');
    for (let i = 0; i < 10; i += 1)
      await wh.exec('INSERT INTO money VALUES ($1, $2, $3)', [i, '0.1', '0.000001']);
    await wh.exec('INSERT INTO money VALUES ($1, $2, $3)', [
      10,
      '-0.5',
      '12345678901234567890123456789012.123456',
    ]);
    expect(Array.from({ length: 10 }, () => 0.1).reduce((a, b) => a + b)).not.toBe(1);
    const [totals] = await wh.all('SELECT SUM(amount) AS total, SUM(wide) AS wide FROM money WHERE id < 10');
    expect(totals).toEqual({ total: '1.000000', wide: '0.000010' });
    const rows = await wh.all(
      'SELECT amount, wide, amount * 3 AS tripled, amount * amount AS squared FROM money WHERE id IN (0, 10) ORDER BY id',
    );
    expect(rows).toEqual([
      { amount: '0.100000', wide: '0.000001', tripled: '0.300000', squared: '0.010000000000' },
      {
        amount: '-0.500000',
        wide: '12345678901234567890123456789012.123456',
        tripled: '-1.500000',
        squared: '0.250000000000',
      },
    ]);
    expect(await wh.all('SELECT SUM(wide) AS s FROM money')).toEqual([
      { s: '12345678901234567890123456789012.123466' },
    ]);
    expect(await wh.all('SELECT CAST(0 AS DECIMAL(18,6)) AS zero')).toEqual([{ zero: '0.000000' }]);
  });

  it('returns integers as numbers while exact and as strings beyond 2^53', async () => {
    await wh.exec('CREATE TABLE ints (id INTEGER, n BIGINT)');
    const values = ['42', '9007199254740993', '-9223372036854775808', '9007199254740991'];
    for (const [i, n] of values.entries())
      await wh.exec('INSERT INTO ints VALUES ($1, CAST($2 AS BIGINT))', [i, n]);
    expect(await wh.all('SELECT n FROM ints ORDER BY id')).toEqual([
      { n: 42 },
      { n: '9007199254740993' },
      { n: '-9223372036854775808' },
      { n: 9007199254740991 },
    ]);
    expect(await wh.all('SELECT COUNT(*) AS c, SUM(id) AS ids FROM ints')).toEqual([{ c: 4, ids: 6 }]);
    // SUM(BIGINT) is NUMERIC in PostgreSQL and HUGEINT in DuckDB: both a number while exact.
    expect(await wh.all('SELECT SUM(n) AS small FROM ints WHERE id = 0')).toEqual([{ small: 42 }]);
    expect(await wh.all('SELECT SUM(n) AS big FROM ints WHERE id IN (0, 1)')).toEqual([
      { big: '9007199254741035' },
    ]);
    expect(await wh.all('SELECT n FROM ints WHERE n = CAST($1 AS BIGINT)', ['9007199254740993'])).toEqual([
      { n: '9007199254740993' },
    ]);
  });

  it('round-trips TIMESTAMP with microseconds as ISO-8601 UTC', async () => {
    await wh.exec('CREATE TABLE times (id INTEGER, ts TIMESTAMP)');
    const inputs = [
      '2025-04-23 10:00:00.123456',
      '2025-04-23 10:00:00.12',
      '2025-04-23 10:00:00',
      '2025-04-23T23:59:59.000001Z',
      '1969-12-31 23:59:59.999999',
    ];
    for (const [i, ts] of inputs.entries())
      await wh.exec('INSERT INTO times VALUES ($1, CAST($2 AS TIMESTAMP))', [i, ts]);
    const rows = await wh.all<{ ts: string }>('SELECT ts FROM times ORDER BY id');
    expect(rows.map((r) => r.ts)).toEqual([
      '2025-04-23T10:00:00.123456Z',
      '2025-04-23T10:00:00.120000Z',
      '2025-04-23T10:00:00Z',
      '2025-04-23T23:59:59.000001Z',
      '1969-12-31T23:59:59.999999Z',
    ]);
    // What comes out goes back in and finds the same row, to the microsecond.
    for (const [i, { ts }] of rows.entries()) {
      expect(await wh.all('SELECT id FROM times WHERE ts = CAST($1 AS TIMESTAMP)', [ts])).toEqual([
        { id: i },
      ]);
    }
    expect(
      await wh.all(
        "SELECT ts + INTERVAL '1 second' AS later, CAST(ts AS DATE) AS day FROM times WHERE id = 3",
      ),
    ).toEqual([{ later: '2025-04-24T00:00:00.000001Z', day: '2025-04-23' }]);
  });

  it('returns DATE, BOOLEAN and NULL of every type', async () => {
    await wh.exec(CREATE_EVENTS);
    await wh.exec('INSERT INTO events VALUES ($1, CAST($2 AS DATE), NULL, NULL, NULL, $3, NULL)', [
      1,
      '2024-02-29',
      true,
    ]);
    await wh.exec('INSERT INTO events (id, ok) VALUES ($1, $2)', [2, false]);
    expect(await wh.all('SELECT * FROM events ORDER BY id')).toEqual([
      { id: 1, day: '2024-02-29', ts: null, note: null, amount: null, ok: true, big: null },
      { id: 2, day: null, ts: null, note: null, amount: null, ok: false, big: null },
    ]);
    expect(await wh.all('SELECT day + 1 AS next, NOT ok AS flipped FROM events WHERE id = 1')).toEqual([
      { next: '2024-03-01', flipped: false },
    ]);
  });

  it('provides utc_now() as the current instant, a naive UTC TIMESTAMP', async () => {
    const result = await wh.query('SELECT utc_now() AS now');
    expect(result.columns).toEqual([{ name: 'now', type: 'TIMESTAMP' }]);
    const now = result.rows[0]?.now;
    expect(now).toMatch(/^\d{4}-\d\d-\d\dT\d\d:\d\d:\d\d(\.\d{6})?Z$/);
    // A generous window: only a wrong zone (hours off) or a broken conversion lands outside it.
    expect(Math.abs(Date.parse(String(now)) - Date.now())).toBeLessThan(3_600_000);
    await wh.exec('CREATE TABLE stamps (ts TIMESTAMP)');
    await wh.exec('INSERT INTO stamps SELECT utc_now()');
    expect(await wh.all("SELECT COUNT(*) AS c FROM stamps WHERE ts > utc_now() - INTERVAL '1 hour'")).toEqual(
      [{ c: 1 }],
    );
  });

  it('binds $n parameters of every kind', async () => {
    const params = [41, "it's; DROP TABLE x", true, '2.5', '9007199254740993', null, 1.25];
    expect(
      await wh.all(
        `SELECT CAST($1 AS INTEGER) + 1 AS n, CAST($2 AS VARCHAR) AS s, CAST($3 AS BOOLEAN) AS b,
          CAST($4 AS DECIMAL(18,6)) AS d, CAST($5 AS BIGINT) AS big, CAST($6 AS VARCHAR) AS nothing,
          CAST($7 AS DOUBLE PRECISION) AS f, CAST($1 AS INTEGER) * 2 AS again`,
        params,
      ),
    ).toEqual([
      {
        n: 42,
        s: "it's; DROP TABLE x",
        b: true,
        d: '2.500000',
        big: '9007199254740993',
        nothing: null,
        f: 1.25,
        again: 82,
      },
    ]);
  });

  it('returns arrays as arrays and JSON as its text', async () => {
    expect(
      await wh.all(
        `SELECT ARRAY[1, 2, 3] AS ints, ARRAY['a,b', 'c"d', NULL] AS texts,
          ARRAY[CAST('1.5' AS DECIMAL(18,6))] AS amounts, CAST('{"a": [1, 2]}' AS JSON) AS doc`,
      ),
    ).toEqual([
      { ints: [1, 2, 3], texts: ['a,b', 'c"d', null], amounts: ['1.500000'], doc: '{"a": [1, 2]}' },
    ]);
  });

  it('commits a transaction and returns its result', async () => {
    await wh.exec(CREATE_EVENTS);
    const result = await wh.transaction(async (tx) => {
      await tx.exec('INSERT INTO events (id, note) VALUES ($1, $2)', [1, 'one']);
      await tx.exec('INSERT INTO events (id, note) VALUES ($1, $2)', [2, 'two']);
      return tx.all('SELECT COUNT(*) AS c FROM events');
    });
    expect(result).toEqual([{ c: 2 }]);
    expect(await wh.all('SELECT id, note FROM events ORDER BY id')).toEqual([
      { id: 1, note: 'one' },
      { id: 2, note: 'two' },
    ]);
  });

  it('rolls a transaction back when it throws, leaving nothing partially written', async () => {
    await wh.exec(CREATE_EVENTS);
    await wh.exec('INSERT INTO events (id, note) VALUES (1, $1)', ['before']);
    const boom = new Error('boom');
    await expect(
      wh.transaction(async (tx) => {
        await tx.exec('UPDATE events SET note = $1 WHERE id = 1', ['changed']);
        await tx.exec('INSERT INTO events (id) VALUES (2)');
        throw boom;
      }),
    ).rejects.toBe(boom);
    await expect(
      wh.transaction(async (tx) => {
        await tx.exec('INSERT INTO events (id) VALUES (3)');
        await tx.exec('INSERT INTO events (id) VALUES (1)'); // duplicate key: the statement fails
      }),
    ).rejects.toThrow();
    expect(await wh.all('SELECT id, note FROM events ORDER BY id')).toEqual([{ id: 1, note: 'before' }]);
    // The writer is usable again after a rollback.
    await wh.transaction((tx) => tx.exec('INSERT INTO events (id) VALUES (4)'));
    expect(await wh.all('SELECT id FROM events ORDER BY id')).toEqual([{ id: 1 }, { id: 4 }]);
  });

  it('serializes transactions: one writer at a time', async () => {
    await wh.exec('CREATE TABLE counter (n INTEGER)');
    // Each reads the max and writes the next: run concurrently without serialization, two would
    // read the same max and the numbers would repeat.
    await Promise.all(
      Array.from({ length: 5 }, () =>
        wh.transaction(async (tx) => {
          const [row] = await tx.all<{ m: number }>('SELECT COALESCE(MAX(n), 0) AS m FROM counter');
          await new Promise((resolve) => setTimeout(resolve, 5));
          await tx.exec('INSERT INTO counter VALUES ($1)', [(row?.m ?? 0) + 1]);
        }),
      ),
    );
    expect(await wh.all('SELECT n FROM counter ORDER BY n')).toEqual([1, 2, 3, 4, 5].map((n) => ({ n })));
  });

  it('stages headerless CSV files inside a transaction and loads them into a table', async () => {
    await wh.exec(CREATE_EVENTS);
    const paths = await csvFiles({ 'a.csv': CSV_A, 'b.csv': CSV_B });
    const staged = await wh.transaction(async (tx) => {
      await tx.stageCsv({ name: 'staged_events', paths, columns: EVENT_COLUMNS });
      await tx.exec('INSERT INTO events SELECT * FROM staged_events');
      return tx.all('SELECT COUNT(*) AS c FROM staged_events');
    });
    expect(staged).toEqual([{ c: 3 }]);
    expect(await wh.all('SELECT * FROM events ORDER BY id')).toEqual(STAGED_ROWS);
  });

  it('stages outside a transaction, and staging a name again replaces it', async () => {
    await wh.exec(CREATE_EVENTS);
    const [a, b] = await csvFiles({ 'a.csv': CSV_A, 'b.csv': CSV_B });
    await wh.stageCsv({ name: 'staged', paths: [a ?? ''], columns: EVENT_COLUMNS });
    await wh.stageCsv({ name: 'staged', paths: [b ?? ''], columns: EVENT_COLUMNS });
    await wh.exec('INSERT INTO events SELECT * FROM staged');
    expect(await wh.all('SELECT * FROM events')).toEqual([STAGED_ROWS[2]]);
  });

  it('rolls back a load whose staged file does not parse', async () => {
    await wh.exec(CREATE_EVENTS);
    const paths = await csvFiles({ 'good.csv': CSV_A, 'bad.csv': 'not-a-number,2025-04-23,,,,,\n' });
    await expect(
      wh.transaction(async (tx) => {
        await tx.exec('INSERT INTO events (id) VALUES (99)');
        await tx.stageCsv({ name: 'staged_events', paths, columns: EVENT_COLUMNS });
        await tx.exec('INSERT INTO events SELECT * FROM staged_events');
      }),
    ).rejects.toThrow();
    expect(await wh.all('SELECT COUNT(*) AS c FROM events')).toEqual([{ c: 0 }]);
  });

  it('names query() columns as written, with DuckDB-style types', async () => {
    await wh.exec(CREATE_EVENTS);
    const result = await wh.query(
      'SELECT id, day, ts, note AS "Note Text", amount, ok, big, COUNT(*) OVER () AS total FROM events WHERE id > $1',
      [0],
    );
    expect(result).toEqual({
      columns: [
        { name: 'id', type: 'INTEGER' },
        { name: 'day', type: 'DATE' },
        { name: 'ts', type: 'TIMESTAMP' },
        { name: 'Note Text', type: 'VARCHAR' },
        { name: 'amount', type: 'DECIMAL(18,6)' },
        { name: 'ok', type: 'BOOLEAN' },
        { name: 'big', type: 'BIGINT' },
        { name: 'total', type: 'BIGINT' },
      ],
      rows: [],
    });
  });
});
