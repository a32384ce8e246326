import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { runReadOnlySql } from '../../src/server/sql-runner.js';
import { DuckDBWarehouse } from '../../src/warehouse/duckdb/duckdb-warehouse.js';
import { tmpDir } from '../support/tmp.js';

/**
 * The SQL endpoint's byte cap reads each VARCHAR's length from DuckDB's string header before
 * decoding it. A NULL's header is not cleared, so reading one made the restarted daemon's
 * `SELECT run_id, status, trigger, error, tags FROM runs` answer 1 of its 3 rows, `truncated`.
 */
describe('SQL byte cap on strings', () => {
  let warehouse: DuckDBWarehouse;

  beforeAll(async () => {
    const dir = await tmpDir('sql-byte-cap');
    // Sandboxed the way the daemon opens it: the runner refuses a warehouse with file access on.
    warehouse = await DuckDBWarehouse.open({
      path: ':memory:',
      threads: 1,
      restrictFileAccess: { allowedDirectories: [dir] },
    });
    // Even rows hold 100 kB strings; the queries below read them back as NULL.
    await warehouse.exec(`CREATE TABLE t AS
      SELECT i, CASE WHEN i % 2 = 0 THEN repeat('x', 100000) ELSE 'short' END AS s FROM range(10) r(i)`);
  });
  afterAll(() => warehouse?.close());

  const ask = (sql: string, maxBytes: number) =>
    runReadOnlySql(warehouse, { sql, limit: 1000, timeoutMs: 10_000, maxBytes });

  it.each([
    // The join's unmatched rows keep the build side's string header (the 100 kB ones): every time.
    'SELECT t.i, t2.s FROM t LEFT JOIN t t2 ON t.i = t2.i AND t2.i % 2 = 1 ORDER BY t.i',
    // Left over from the CASE's input, or scratch memory: depends on the allocator.
    'SELECT i, CASE WHEN i % 2 = 0 THEN NULL::VARCHAR ELSE s END AS s FROM t ORDER BY i',
    "SELECT i, CASE WHEN s = 'short' THEN s END AS s FROM t ORDER BY i",
  ])('counts a NULL as a NULL, whatever its slot held before: %s', async (sql) => {
    // Read as a length, such a header refused the first row or cut every later one.
    const result = await ask(sql, 10_000);
    expect(result.truncated).toBe(false);
    expect(result.rows).toEqual(
      Array.from({ length: 10 }, (_, i) => ({ i, s: i % 2 === 0 ? null : 'short' })),
    );
  });

  it('counts the strings of each list row', async () => {
    const result = await ask(
      `SELECT i, l FROM (VALUES (1, [{'s': 'a'}]), (2, [{'s': 'b'}, {'s': 'c'}]),
        (3, [{'s': 'd'}, {'s': repeat('x', 100000)}])) v(i, l) ORDER BY i`,
      10_000,
    );
    expect(result.rows.map((r) => r.i)).toEqual([1, 2]);
    expect(result.truncated).toBe(true);
  });

  it('still refuses a first row whose real string is above the cap', async () => {
    await expect(ask('SELECT s FROM t WHERE i = 0', 10_000)).rejects.toMatchObject({
      code: 'result_too_large',
    });
    await expect(ask("SELECT [{'s': repeat('x', 100000)}] AS l", 10_000)).rejects.toMatchObject({
      code: 'result_too_large',
    });
  });
});
