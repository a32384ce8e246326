import path from 'node:path';
import { describe, expect, it } from 'vitest';
import { CheckStore } from '../../src/orchestrator/check-runner.js';
import { openWarehouse } from '../../src/warehouse/create-warehouse.js';
import type { Warehouse } from '../../src/warehouse/warehouse.js';
import { type CheckKey as Key, PAIRS, randomCheckRows, sortedKeys } from '../support/check-keys.js';
import { createDatabase, postgresPerFile } from '../support/postgres.js';
import { seededRandom } from '../support/random.js';
import { tmpDir } from '../support/tmp.js';

/**
 * "Which checks fail now?" is answered from check_failures, kept by `record`, instead of ranking
 * every result ever written (issue 12). It must equal that ranking after any sequence of results,
 * and a warehouse from before the table must get it filled from its history.
 */

const postgres = postgresPerFile();

/** The definition check_failures replaces: the latest result of each key, where it failed. */
const RANKED_FAILURES = `SELECT asset, partition, check_name FROM (
    SELECT *, row_number() OVER (PARTITION BY asset, partition, check_name ORDER BY result_id DESC) AS recency
    FROM check_results) r
  WHERE recency = 1 AND NOT passed`;

async function randomHistory(warehouse: Warehouse, seed: number): Promise<void> {
  const store = new CheckStore(warehouse);
  await store.setup();
  const next = seededRandom(seed);
  for (let run = 0; run < 12; run++) {
    const rows = randomCheckRows(next);
    await store.record(`run-${run}`, rows);
    expect(sortedKeys(await store.currentFailures(PAIRS))).toEqual(
      sortedKeys(await warehouse.all<Key>(RANKED_FAILURES)),
    );
    // Each row points at its key's latest result (a key failing again is updated in place).
    expect(await resultIds(warehouse, 'check_failures')).toEqual(
      await resultIds(warehouse, `(${RANKED_FAILURE_IDS})`),
    );
  }
}

/** The latest failing result of each key, with its id. */
const RANKED_FAILURE_IDS = RANKED_FAILURES.replace(
  'SELECT asset, partition, check_name FROM',
  'SELECT asset, partition, check_name, result_id FROM',
);

async function resultIds(warehouse: Warehouse, from: string): Promise<string[]> {
  const rows = await warehouse.all<Key & { result_id: number | string }>(
    `SELECT asset, partition, check_name, result_id FROM ${from} f`,
  );
  return rows.map((r) => JSON.stringify([r.asset, r.partition, r.check_name, String(r.result_id)])).sort();
}

describe('check_failures, a key failing again', () => {
  it('keeps one row pointing at the latest result, on DuckDB', async () => {
    const file = path.join(await tmpDir('check-failures-again'), 'warehouse.duckdb');
    const warehouse = await openWarehouse({ path: file, threads: 1 });
    try {
      const store = new CheckStore(warehouse);
      await store.setup();
      const row = (partition: string, passed: boolean) => ({
        asset: 'billing_events',
        check: 'sums',
        severity: 'error' as const,
        partition,
        passed,
      });
      await store.record('run-1', [row('2025-04-01', false), row('2025-04-02', false)]);
      await store.record('run-2', [row('2025-04-01', false), row('2025-04-02', false)]);
      await store.record('run-3', [
        row('2025-04-01', false),
        row('2025-04-02', true),
        row('2025-04-03', false),
      ]);
      const failing = await warehouse.all<{ partition: string; run_id: string }>(
        `SELECT f.partition, r.run_id FROM check_failures f JOIN check_results r USING (result_id)
          ORDER BY f.partition`,
      );
      expect(failing).toEqual([
        { partition: '2025-04-01', run_id: 'run-3' },
        { partition: '2025-04-03', run_id: 'run-3' },
      ]);
    } finally {
      await warehouse.close();
    }
  });
});

async function scenario(open: () => Promise<Warehouse>, reopen: (w: Warehouse) => Promise<Warehouse>) {
  let warehouse = await open();
  try {
    for (const seed of [1, 7, 42]) {
      await warehouse.exec('DELETE FROM check_results').catch(() => {});
      await warehouse.exec('DELETE FROM check_failures').catch(() => {});
      await randomHistory(warehouse, seed);
    }
    const expected = sortedKeys(await warehouse.all<Key>(RANKED_FAILURES));
    expect(expected.length).toBeGreaterThan(0);
    // A warehouse written before check_failures existed: setup fills it from the results.
    await warehouse.exec('DROP TABLE check_failures');
    warehouse = await reopen(warehouse);
    const store = new CheckStore(warehouse);
    await store.setup();
    expect(sortedKeys(await store.currentFailures(PAIRS))).toEqual(expected);
    // Only failing keys are kept, so the table does not grow with passing history.
    const [count] = await warehouse.all<{ n: number | string }>('SELECT count(*) AS n FROM check_failures');
    expect(Number(count?.n)).toBe(expected.length);
  } finally {
    await warehouse.close();
  }
}

describe('check_failures', () => {
  it('equals the ranking of all results on DuckDB, and is filled on upgrade', async () => {
    const file = path.join(await tmpDir('check-failures'), 'warehouse.duckdb');
    await scenario(
      () => openWarehouse({ path: file, threads: 1 }),
      async (w) => {
        await w.close();
        return openWarehouse({ path: file, threads: 1 });
      },
    );
  }, 60_000);

  it.skipIf(!postgres.available)(
    'does the same on PostgreSQL',
    async () => {
      const database = await createDatabase(postgres.server(), 'checkfailures');
      try {
        await scenario(
          () => openWarehouse({ path: 'unused', databaseUrl: database.url }),
          async (w) => {
            await w.close();
            return openWarehouse({ path: 'unused', databaseUrl: database.url });
          },
        );
      } finally {
        await database.drop();
      }
    },
    60_000,
  );
});
