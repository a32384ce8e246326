import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { seededRandom } from '../../../test/support/random.js';
import { DuckDBWarehouse } from '../../warehouse/duckdb/duckdb-warehouse.js';
import { BILLING_TABLES } from '../sql/tables.js';
import { eventProfileSql } from './check-sql.js';
import { DEFAULT_QUALITY_CONFIG } from './quality-config.js';

/*
 * DuckDB's event profile takes each extreme amount's currency in its one scan (a least struct);
 * PostgreSQL's looks it up afterwards (portable SQL, so it runs on DuckDB too). Both must name the
 * same currency: the first non-NULL one among the partition's rows at that amount, ties included.
 */
describe('event profile: currency of the extreme amounts', () => {
  let warehouse: DuckDBWarehouse;
  beforeAll(async () => {
    warehouse = await DuckDBWarehouse.open({ path: ':memory:' });
    for (const ddl of BILLING_TABLES) await warehouse.exec(ddl);
  });
  afterAll(() => warehouse.close());

  it('is the same in the DuckDB scan as in the portable lookup, on random days with ties and NULLs', async () => {
    const random = seededRandom(12);
    const currencies = ['USD', 'EUR', 'GBP', null];
    const days = ['2025-03-01', '2025-03-02', '2025-03-03', '2025-03-04', '2025-03-05'];
    const rows: string[] = [];
    for (const [d, day] of days.entries()) {
      // Few distinct amounts, so the extremes are shared by several rows and currencies; the
      // last day has only NULL currencies at its extremes.
      const n = 5 + Math.floor(random() * 40);
      for (let i = 0; i < n; i++) {
        const amount = (Math.floor(random() * 5) - 2) * 1.5;
        const currency = d === days.length - 1 ? null : currencies[Math.floor(random() * 4)];
        const [y, m, dd] = day.split('-').map(Number);
        rows.push(
          `(TIMESTAMP '${day} 10:00:00', 1, ${amount}, true, ${currency ? `'${currency}'` : 'NULL'}, ${y}, ${m}, ${dd}, DATE '${day}', 'k${d}', ${i})`,
        );
      }
    }
    await warehouse.exec(`INSERT INTO billing_events ("timestamp", user_id, credit_usage, success, currency,
      year, month, day, event_date, source_key, source_line) VALUES ${rows.join(', ')}`);
    const settings = DEFAULT_QUALITY_CONFIG.checks;
    const run = async (dialect: 'duckdb' | 'postgres') => {
      const out = await warehouse.all<Record<string, unknown>>(
        `SELECT * FROM (${eventProfileSql(settings, dialect)}) ORDER BY partition`,
        [days.join(',')],
      );
      return out.map((r) => Object.fromEntries(Object.entries(r).sort(([a], [b]) => a.localeCompare(b))));
    };
    const duckdb = await run('duckdb');
    const portable = await run('postgres');
    expect(duckdb).toHaveLength(days.length);
    expect(duckdb).toEqual(portable);
    // Not vacuous: the days differ in their extremes' currencies, and the last has none.
    expect(
      new Set(duckdb.map((r) => `${r.min_credit_currency}/${r.max_credit_currency}`)).size,
    ).toBeGreaterThan(1);
    expect(duckdb.at(-1)).toMatchObject({ min_credit_currency: null, max_credit_currency: null });
  });
});
