import path from 'node:path';
import { describe, expect, it } from 'vitest';
import type { CheckSeverity } from '../../src/orchestrator/asset-check.js';
import { CheckStore } from '../../src/orchestrator/check-runner.js';
import { openWarehouse } from '../../src/warehouse/create-warehouse.js';
import type { Warehouse } from '../../src/warehouse/warehouse.js';
import { createDatabase, postgresPerFile } from '../support/postgres.js';
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

type Key = { asset: string; partition: string | null; check_name: string };
const sorted = (keys: readonly Key[]) =>
  keys
    .map((k) => ({ asset: k.asset, partition: k.partition, check_name: k.check_name }))
    .sort((a, b) => JSON.stringify(a).localeCompare(JSON.stringify(b)));

/** A small deterministic generator, so a failure can be replayed. */
function random(seed: number): () => number {
  let state = seed;
  return () => {
    state = (state * 1_103_515_245 + 12_345) % 2_147_483_648;
    return state / 2_147_483_648;
  };
}

const ASSETS = ['billing_files', 'billing_events'];
const CHECKS = ['fresh', 'no_gaps', 'sums'];
const PARTITIONS = [null, '2025-04-01', '2025-04-02', '2025-04-03'];
const PAIRS = ASSETS.flatMap((asset) => CHECKS.map((check) => ({ asset, check })));

async function randomHistory(warehouse: Warehouse, seed: number): Promise<void> {
  const store = new CheckStore(warehouse);
  await store.setup();
  const next = random(seed);
  const pick = <T>(items: readonly T[]): T => items[Math.floor(next() * items.length)] as T;
  for (let run = 0; run < 12; run++) {
    // One key can be evaluated twice in one call: the later row is its latest.
    const rows = Array.from({ length: 1 + Math.floor(next() * 12) }, () => ({
      asset: pick(ASSETS),
      check: pick(CHECKS),
      severity: pick<CheckSeverity>(['error', 'warn']),
      partition: pick(PARTITIONS),
      passed: next() < 0.6,
    }));
    await store.record(`run-${run}`, rows);
    expect(sorted(await store.currentFailures(PAIRS))).toEqual(
      sorted(await warehouse.all<Key>(RANKED_FAILURES)),
    );
  }
}

async function scenario(open: () => Promise<Warehouse>, reopen: (w: Warehouse) => Promise<Warehouse>) {
  let warehouse = await open();
  try {
    for (const seed of [1, 7, 42]) {
      await warehouse.exec('DELETE FROM check_results').catch(() => {});
      await warehouse.exec('DELETE FROM check_failures').catch(() => {});
      await randomHistory(warehouse, seed);
    }
    const expected = sorted(await warehouse.all<Key>(RANKED_FAILURES));
    expect(expected.length).toBeGreaterThan(0);
    // A warehouse written before check_failures existed: setup fills it from the results.
    await warehouse.exec('DROP TABLE check_failures');
    warehouse = await reopen(warehouse);
    const store = new CheckStore(warehouse);
    await store.setup();
    expect(sorted(await store.currentFailures(PAIRS))).toEqual(expected);
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
