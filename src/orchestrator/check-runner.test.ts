import path from 'node:path';
import { describe, expect, it } from 'vitest';
import { ASSETS, PAIRS, randomCheckRows, sortedKeys } from '../../test/support/check-keys.js';
import { createDatabase, postgresPerFile } from '../../test/support/postgres.js';
import { seededRandom } from '../../test/support/random.js';
import { tmpDir } from '../../test/support/tmp.js';
import { openWarehouse } from '../warehouse/create-warehouse.js';
import type { Warehouse } from '../warehouse/warehouse.js';
import { AssetGraph } from './asset-graph.js';
import { type CheckRow, CheckRunner, CheckStore } from './check-runner.js';

/**
 * A run reads check_failures once and then takes it from each write of its check results
 * (`recordIn` returns the table as its transaction leaves it), instead of two lookups per asset
 * (issue 12). What the run believes must equal a fresh read after every commit, and a write that
 * rolls back must not leave the run believing it.
 */

const postgres = postgresPerFile();

const graph = new AssetGraph(
  ASSETS.map((name, i) => ({
    name,
    description: name,
    deps: i === 0 ? [] : [ASSETS[i - 1] as string],
    partitioning: 'daily' as const,
    async materialize() {
      return { changed: false, partitions: [] };
    },
  })),
);

async function scenario(warehouse: Warehouse, seed: number): Promise<void> {
  const store = new CheckStore(warehouse);
  await store.setup();
  await warehouse.exec('DELETE FROM check_results');
  await warehouse.exec('DELETE FROM check_failures');
  const runner = new CheckRunner({ warehouse, graph, runId: `run-${seed}` });
  const next = seededRandom(seed);
  for (let step = 0; step < 12; step++) {
    const rows = randomCheckRows(next);
    // Another writer between two writes of this run is seen by the run's next write (it reads
    // the table under the lock), as a fresh read would see it.
    if (next() < 0.3)
      await store.record('other-run', [{ ...(rows[0] as CheckRow), passed: !rows[0]?.passed }]);
    const rollBack = next() < 0.2;
    const written = await warehouse
      .transaction(async (tx) => {
        const keys = await store.recordIn(tx, `run-${seed}`, rows);
        if (rollBack) throw new Error('rolled back');
        return keys;
      })
      .then(
        (keys) => {
          runner.adopt(keys);
          return true;
        },
        () => {
          runner.forget();
          return false;
        },
      );
    expect(written).toBe(!rollBack);
    expect(sortedKeys(await runner.currentFailures(PAIRS))).toEqual(
      sortedKeys(await store.currentFailures(PAIRS)),
    );
  }
}

async function scenarios(warehouse: Warehouse) {
  try {
    for (const seed of [3, 11, 42]) await scenario(warehouse, seed);
  } finally {
    await warehouse.close();
  }
}

describe('CheckRunner failures', () => {
  it('equal a fresh read after every commit and roll-back on DuckDB', async () => {
    const file = path.join(await tmpDir('check-runner'), 'warehouse.duckdb');
    await scenarios(await openWarehouse({ path: file, threads: 1 }));
  }, 60_000);

  it.skipIf(!postgres.available)(
    'does the same on PostgreSQL',
    async () => {
      const database = await createDatabase(postgres.server(), 'checkrunner');
      try {
        await scenarios(await openWarehouse({ path: 'unused', databaseUrl: database.url }));
      } finally {
        await database.drop();
      }
    },
    60_000,
  );
});
