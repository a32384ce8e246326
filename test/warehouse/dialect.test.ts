import path from 'node:path';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { exactMean, ratio } from '../../src/billing/sql/money.js';
import { openWarehouse } from '../../src/warehouse/create-warehouse.js';
import { dayPartitionName, ensureDayPartitions } from '../../src/warehouse/day-partitions.js';
import { lateralAsofLeftJoin, sqlDialect } from '../../src/warehouse/dialect.js';
import { PostgresWarehouse } from '../../src/warehouse/postgres/postgres-warehouse.js';
import type { Row, Warehouse } from '../../src/warehouse/warehouse.js';
import {
  createDatabase,
  type PostgresServer,
  postgresAvailable,
  startPostgres,
} from '../support/postgres.js';
import { tmpDir } from '../support/tmp.js';

/**
 * The dialect seam: each construct the two engines spell differently gives the same values, and
 * PostgreSQL's day partitions are created safely by several connections at once.
 */

let server: PostgresServer | undefined;
let duck: Warehouse;
let pg: Warehouse;
let pgUrl = '';

beforeAll(async () => {
  if (!postgresAvailable()) return;
  server = await startPostgres();
  pgUrl = (await createDatabase(server, 'dialect')).url;
  pg = await openWarehouse({ path: '', databaseUrl: pgUrl });
  duck = await openWarehouse({ path: path.join(await tmpDir('dialect'), 'w.duckdb'), threads: 1 });
}, 120_000);
afterAll(async () => {
  await duck?.close();
  await pg?.close();
  await server?.stop();
});

async function both(sql: string): Promise<[Row[], Row[]]> {
  return [await duck.all(sql), await pg.all(sql)];
}

const RATES = `CREATE TABLE rates (date DATE, currency VARCHAR, rate DECIMAL(20,10));
  INSERT INTO rates VALUES ('2025-01-01', 'EUR', 1.1), ('2025-02-01', 'EUR', 1.2), ('2025-01-15', 'GBP', 1.3)`;
const LEFT = `(SELECT * FROM (VALUES ('EUR', DATE '2024-12-31'), ('EUR', DATE '2025-01-01'), ('EUR', DATE '2025-01-31'),
  ('EUR', DATE '2025-03-01'), ('GBP', DATE '2025-01-15'), ('JPY', DATE '2025-01-15'), (NULL, DATE '2025-01-15')) v(currency, day)) k`;

describe.skipIf(!postgresAvailable())('the SQL dialects', () => {
  it('join the latest row at or before, in each dialect and portably, with the same result', async () => {
    for (const statement of RATES.split(';')) {
      await duck.exec(statement);
      await pg.exec(statement);
    }
    const join = {
      left: 'k',
      table: 'rates',
      alias: 'fx',
      equal: [['currency', 'currency']] as const,
      atOrBefore: ['day', 'date'] as const,
    };
    const select = (on: string) =>
      `SELECT k.currency, k.day, fx.rate FROM ${LEFT} ${on} ORDER BY k.currency NULLS FIRST, k.day`;
    const expected = [
      { currency: null, day: '2025-01-15', rate: null },
      { currency: 'EUR', day: '2024-12-31', rate: null },
      { currency: 'EUR', day: '2025-01-01', rate: '1.1000000000' },
      { currency: 'EUR', day: '2025-01-31', rate: '1.1000000000' },
      { currency: 'EUR', day: '2025-03-01', rate: '1.2000000000' },
      { currency: 'GBP', day: '2025-01-15', rate: '1.3000000000' },
      { currency: 'JPY', day: '2025-01-15', rate: null },
    ];
    expect(await duck.all(select(sqlDialect('duckdb').asofLeftJoin(join)))).toEqual(expected);
    expect(await pg.all(select(sqlDialect('postgres').asofLeftJoin(join)))).toEqual(expected);
    expect(await both(select(lateralAsofLeftJoin(join)))).toEqual([expected, expected]);
  });

  it('cast to a DECIMAL or NULL where it does not fit, rounding first', async () => {
    const values = [
      '999999999999.9999994',
      '999999999999.9999995',
      '-999999999999.9999995',
      '1.0000005',
      '-2.5',
      'NULL',
    ];
    const sql = (name: 'duckdb' | 'postgres') =>
      `SELECT ${values.map((v, i) => `${sqlDialect(name).decimalOrNull(`CAST(${v} AS DECIMAL(38,16))`, 18, 6)} AS v${i}`).join(', ')}`;
    const expected = {
      v0: '999999999999.999999',
      v1: null,
      v2: null,
      v3: '1.000001',
      v4: '-2.500000',
      v5: null,
    };
    expect(await duck.all(sql('duckdb'))).toEqual([expected]);
    expect(await pg.all(sql('postgres'))).toEqual([expected]);
  });

  it('compute exact means and count ratios to the same digits', async () => {
    const means = [
      ['1.000001', 2],
      ['-1.000001', 2],
      ['999999999999.999999', 3],
      ['-0.000015', 10],
      ['12345.678901', 7],
    ] as const;
    const meanSql = `SELECT ${means.map(([s, c], i) => `${exactMean(`CAST(${s} AS DECIMAL(38,6))`, String(c))} AS m${i}`).join(', ')}`;
    const [duckMeans, pgMeans] = await both(meanSql);
    expect(duckMeans).toEqual([
      { m0: '0.500001', m1: '-0.500001', m2: '333333333333.333333', m3: '-0.000002', m4: '1763.668414' },
    ]);
    expect(pgMeans).toEqual(duckMeans);
    // DuckDB's round(DOUBLE, 6), ties and all, over many ratios.
    const grid = (series: string) => `SELECT a, b, ${ratio('a', 'b')} AS r FROM ${series} ORDER BY a, b`;
    const duckRatios = await duck.all(grid('range(0, 120) t1(a), range(0, 2100, 7) t2(b)'));
    const pgRatios = await pg.all(grid('generate_series(0, 119) a, generate_series(0, 2099, 7) b'));
    expect(duckRatios.length).toBe(120 * 300);
    expect(pgRatios).toEqual(duckRatios);
  });

  it('create PostgreSQL day partitions once when several connections ask at once', async () => {
    await pg.exec(
      `CREATE TABLE parted (k VARCHAR NOT NULL, year INTEGER NOT NULL, month INTEGER NOT NULL, day INTEGER NOT NULL)${sqlDialect('postgres').partitionByDay(['year', 'month', 'day'])}`,
    );
    await pg.exec('CREATE UNIQUE INDEX parted_k ON parted (k, year, month, day)');
    const others = await Promise.all([1, 2, 3].map(() => PostgresWarehouse.open({ url: pgUrl })));
    try {
      const days = ['2025-01-31', '2025-02-01', '2025-12-31'];
      await Promise.all(
        others.map((w, i) => ensureDayPartitions(w, 'parted', i === 0 ? days : [...days].reverse())),
      );
      const partitions = await pg.all<{ name: string; bound: string }>(
        `SELECT c.relname AS name, pg_get_expr(c.relpartbound, c.oid) AS bound FROM pg_inherits i
          JOIN pg_class c ON c.oid = i.inhrelid WHERE i.inhparent = 'parted'::regclass ORDER BY 1`,
      );
      expect(partitions).toEqual([
        { name: 'parted_20250131', bound: 'FOR VALUES FROM (2025, 1, 31) TO (2025, 1, 32)' },
        { name: 'parted_20250201', bound: 'FOR VALUES FROM (2025, 2, 1) TO (2025, 2, 2)' },
        { name: 'parted_20251231', bound: 'FOR VALUES FROM (2025, 12, 31) TO (2025, 12, 32)' },
      ]);
      expect(dayPartitionName('parted', '2025-01-31')).toBe('parted_20250131');
      // The parent's unique index reaches each partition; a day without a partition is refused.
      await pg.exec("INSERT INTO parted VALUES ('a', 2025, 1, 31)");
      await expect(pg.exec("INSERT INTO parted VALUES ('a', 2025, 1, 31)")).rejects.toThrow(/duplicate key/);
      await expect(pg.exec("INSERT INTO parted VALUES ('a', 2025, 3, 1)")).rejects.toThrow(/no partition/);
      // DuckDB tables are not partitioned: nothing to do, nothing asked of the database.
      await ensureDayPartitions(duck, 'parted', days);
    } finally {
      for (const w of others) await w.close();
    }
  });
});
