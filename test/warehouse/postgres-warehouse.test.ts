import { writeFile } from 'node:fs/promises';
import { createServer } from 'node:net';
import path from 'node:path';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { ConfigError } from '../../src/config.js';
import { openWarehouse } from '../../src/warehouse/create-warehouse.js';
import {
  cellConverter,
  isoFromPgTimestamp,
  parseArray,
} from '../../src/warehouse/postgres/postgres-values.js';
import { PostgresWarehouse } from '../../src/warehouse/postgres/postgres-warehouse.js';
import type { Warehouse } from '../../src/warehouse/warehouse.js';
import { createDatabase, postgresPerFile } from '../support/postgres.js';
import { tmpDir } from '../support/tmp.js';

const postgres = postgresPerFile();
const withPostgres = postgres.available;
const requireServer = postgres.server;

describe('PostgreSQL text to the value contract', () => {
  it('formats timestamps as DuckDB does, and gets the instants before 1970 right', () => {
    expect(isoFromPgTimestamp('2025-04-23 10:00:00')).toBe('2025-04-23T10:00:00Z');
    expect(isoFromPgTimestamp('2025-04-23 10:00:00.5')).toBe('2025-04-23T10:00:00.500000Z');
    expect(isoFromPgTimestamp('1969-12-31 23:59:59.999999')).toBe('1969-12-31T23:59:59.999999Z');
    expect(isoFromPgTimestamp('0050-01-01 00:00:00')).toBe('0050-01-01T00:00:00Z');
    expect(isoFromPgTimestamp('2025-04-23 12:30:00.25+02:30')).toBe('2025-04-23T10:00:00.250000Z');
    expect(isoFromPgTimestamp('2025-04-23 10:00:00+00')).toBe('2025-04-23T10:00:00Z');
    expect(isoFromPgTimestamp('infinity')).toBe('infinity');
  });

  it('parses array text, quoted, nested and with NULLs', () => {
    expect(parseArray('{1,2,NULL}', Number)).toEqual([1, 2, null]);
    expect(parseArray('{"a,b","c \\"d\\"","NULL",""}', (s) => s)).toEqual(['a,b', 'c "d"', 'NULL', '']);
    expect(parseArray('{{1,2},{3,4}}', Number)).toEqual([
      [1, 2],
      [3, 4],
    ]);
    expect(parseArray('[0:1]={5,6}', Number)).toEqual([5, 6]);
    expect(parseArray('{}', Number)).toEqual([]);
  });

  it('tells NUMERIC(p,s) from the unconstrained NUMERIC of SUM(BIGINT) by the type modifier', () => {
    const numeric = (typmod: number) =>
      cellConverter({ name: 'x', dataTypeID: 1700, dataTypeModifier: typmod });
    const numeric10_0 = ((10 << 16) | 0) + 4;
    expect(numeric(numeric10_0)('123')).toBe('123');
    expect(numeric(-1)('123')).toBe(123);
    expect(numeric(-1)('99999999999999999999')).toBe('99999999999999999999');
    expect(numeric(-1)('1.500000')).toBe('1.500000');
  });
});

describe.skipIf(!withPostgres)('the PostgreSQL warehouse', () => {
  it('opens through openWarehouse with a database URL and hides the password in its location', async () => {
    const database = await createDatabase(requireServer());
    const warehouse = await openWarehouse({ path: ':memory:', databaseUrl: database.url });
    try {
      expect(warehouse.dialect).toBe('postgres');
      expect(warehouse.location).toMatch(
        /^postgres:\/\/postgres@127\.0\.0\.1:\d+\/contract|^postgres:\/\/postgres@127\.0\.0\.1:\d+\/test/,
      );
      expect(warehouse.location).not.toContain('billing-test');
      // Reopening (another process starting up) replaces utc_now() without trouble.
      const again = await PostgresWarehouse.open({ url: database.url });
      await again.close();
    } finally {
      await warehouse.close();
      await database.drop();
    }
  });

  it('refuses to commit a transaction whose failed statement was caught', async () => {
    const database = await createDatabase(requireServer());
    const warehouse = await PostgresWarehouse.open({ url: database.url });
    try {
      await warehouse.exec('CREATE TABLE t (id INTEGER PRIMARY KEY)');
      await expect(
        warehouse.transaction(async (tx) => {
          await tx.exec('INSERT INTO t VALUES (1)');
          await tx.exec('INSERT INTO t VALUES (1)').catch(() => {});
        }),
      ).rejects.toThrow(/rolled back/);
      expect(await warehouse.all('SELECT COUNT(*) AS c FROM t')).toEqual([{ c: 0 }]);
    } finally {
      await warehouse.close();
      await database.drop();
    }
  });

  it('drops a table staged in a transaction when it commits', async () => {
    const database = await createDatabase(requireServer());
    const warehouse = await PostgresWarehouse.open({ url: database.url });
    try {
      const file = path.join(await tmpDir('pg-stage'), 'a.csv');
      await writeFile(file, '1\n2\n');
      await warehouse.transaction((tx) =>
        tx.stageCsv({ name: 'staged', paths: [file], columns: [{ name: 'n', type: 'INTEGER' }] }),
      );
      await expect(warehouse.exec('SELECT * FROM staged')).rejects.toThrow(/does not exist/);
    } finally {
      await warehouse.close();
      await database.drop();
    }
  });

  it('names the server and what to check when nothing listens there', async () => {
    const port = await new Promise<number>((resolve) => {
      const s = createServer().listen(0, '127.0.0.1', () => {
        const address = s.address();
        s.close(() => resolve(typeof address === 'object' && address ? address.port : 1));
      });
    });
    const opening = PostgresWarehouse.open({ url: `postgres://postgres:secret@127.0.0.1:${port}/billing` });
    await expect(opening).rejects.toBeInstanceOf(ConfigError);
    await expect(opening).rejects.toThrow(`127.0.0.1:${port}`);
    await expect(opening).rejects.toThrow(/check that the server is running/);
    await expect(opening).rejects.not.toThrow(/secret/);
  });

  it('says the password or user is wrong on an authentication failure', async () => {
    const url = new URL(requireServer().adminUrl);
    url.password = 'wrong-password';
    const opening = PostgresWarehouse.open({ url: url.toString() });
    await expect(opening).rejects.toBeInstanceOf(ConfigError);
    await expect(opening).rejects.toThrow(/refused user "postgres".*check the user and password/);
  });

  it('says which database is missing', async () => {
    const url = new URL(requireServer().adminUrl);
    url.pathname = '/no_such_db';
    await expect(PostgresWarehouse.open({ url: url.toString() })).rejects.toThrow(
      /has no database "no_such_db"/,
    );
  });

  it('rejects a URL that is not a PostgreSQL URL before connecting', async () => {
    await expect(PostgresWarehouse.open({ url: 'mysql://localhost/db' })).rejects.toThrow(
      /must start with postgres:\/\//,
    );
    await expect(PostgresWarehouse.open({ url: 'not a url' })).rejects.toBeInstanceOf(ConfigError);
  });
});

describe.skipIf(!withPostgres)('DuckDB and PostgreSQL side by side', () => {
  let duck: Warehouse;
  let postgres: Warehouse;
  let dropDatabase: () => Promise<void>;

  beforeAll(async () => {
    duck = await openWarehouse({ path: path.join(await tmpDir('side-by-side'), 'w.duckdb'), threads: 1 });
    const database = await createDatabase(requireServer(), 'side');
    dropDatabase = database.drop;
    postgres = await openWarehouse({ path: ':memory:', databaseUrl: database.url });
    for (const w of [duck, postgres]) {
      await w.exec(
        'CREATE TABLE usage (user_id BIGINT, day DATE, ts TIMESTAMP, region VARCHAR, credits DECIMAL(18,6), ok BOOLEAN)',
      );
      for (let i = 0; i < 40; i += 1) {
        await w.exec(
          'INSERT INTO usage VALUES ($1, CAST($2 AS DATE), CAST($3 AS TIMESTAMP), $4, CAST($5 AS DECIMAL(18,6)), $6)',
          [
            i % 3 === 0 ? '9007199254740993' : String(i % 7),
            `2025-04-${String(10 + (i % 5)).padStart(2, '0')}`,
            `2025-04-${String(10 + (i % 5)).padStart(2, '0')} 0${i % 10}:00:00.${String(i * 12345)
              .padStart(6, '0')
              .slice(0, 6)}`,
            i % 4 === 0 ? null : (['eu', 'us', 'ap'][i % 3] ?? null),
            (0.1 + i / 1000).toFixed(6),
            i % 2 === 0,
          ],
        );
      }
    }
  });
  afterAll(async () => {
    await duck?.close();
    await postgres?.close();
    await dropDatabase?.();
  });

  const QUERIES = [
    'SELECT * FROM usage ORDER BY ts, user_id',
    'SELECT day, region, SUM(credits) AS credits, COUNT(*) AS events, MIN(ts) AS first, MAX(ts) AS last FROM usage GROUP BY day, region ORDER BY day, region NULLS FIRST',
    'SELECT user_id, SUM(credits) AS total FROM usage GROUP BY user_id ORDER BY user_id',
    "SELECT COUNT(*) FILTER (WHERE ok) AS ok, COUNT(region) AS with_region, COALESCE(region, 'none') AS r FROM usage GROUP BY COALESCE(region, 'none') ORDER BY r",
    'SELECT CAST(SUM(credits) * 2 AS DECIMAL(38,6)) AS doubled, SUM(CASE WHEN ok THEN credits ELSE 0 END) AS ok_credits FROM usage',
  ];

  it.each(QUERIES)('gives identical rows for %s', async (sql) => {
    const [a, b] = await Promise.all([duck.query(sql), postgres.query(sql)]);
    expect(a.rows.length).toBeGreaterThan(0);
    expect(b.rows).toEqual(a.rows);
    expect(b.columns.map((c) => c.name)).toEqual(a.columns.map((c) => c.name));
  });

  it('gives identical column types for stored columns', async () => {
    const [a, b] = await Promise.all([
      duck.query('SELECT * FROM usage LIMIT 1'),
      postgres.query('SELECT * FROM usage LIMIT 1'),
    ]);
    expect(b.columns).toEqual(a.columns);
  });
});
