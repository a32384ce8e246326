import { join } from 'node:path';
import { describe, expect, it } from 'vitest';
import { FX_V1, seedFirstInput, writeFx } from '../pipeline/ingest-tables.js';
import { type TestPipeline, testPipeline } from '../support/pipeline.js';
import { postgresAvailable } from '../support/postgres.js';
import { tmpDir } from '../support/tmp.js';

/**
 * fx_rate_available explains every failing partition from one query (issue 12: one query per
 * partition read every event each), and a key failing again keeps its check_failures row, pointed
 * at the new result. Both must say exactly the same on DuckDB and on PostgreSQL.
 */

const VERDICTS = `SELECT partition, passed, observed, message FROM check_results
  WHERE check_name = 'fx_rate_available' AND run_id = $1 ORDER BY partition`;
const FAILING = `SELECT f.partition, r.run_id FROM check_failures f JOIN check_results r ON r.result_id = f.result_id
  WHERE f.check_name = 'fx_rate_available' ORDER BY f.partition`;

async function twoRuns(p: TestPipeline) {
  const runs = [];
  for (let i = 0; i < 2; i++) {
    const summary = await p.materialize({ selection: ['billing_events'], withUpstream: true });
    runs.push({
      runId: summary.runId,
      verdicts: await p.rows(VERDICTS.replace('$1', `'${summary.runId}'`)),
      failing: await p.rows(FAILING),
    });
  }
  return runs;
}

describe.skipIf(!postgresAvailable())('fx_rate_available on DuckDB and on PostgreSQL', () => {
  it('gives the same per-partition detail, and re-points failing keys at the latest run', async () => {
    const fx = join(await tmpDir('fx-detail-fx'), 'rates.csv');
    await writeFx(fx, FX_V1);
    const duck = await testPipeline('fx-detail-duckdb', { backend: 'duckdb', fx });
    const pg = await testPipeline('fx-detail-postgres', { backend: 'postgres', source: duck.source, fx });
    await seedFirstInput(duck);
    const [duckRuns, pgRuns] = [await twoRuns(duck), await twoRuns(pg)];
    const verdicts = (runs: Awaited<ReturnType<typeof twoRuns>>) =>
      runs.map((r) =>
        r.verdicts.map((v) => ({ ...v, passed: Boolean(v.passed), observed: String(v.observed) })),
      );
    expect(verdicts(pgRuns)).toEqual(verdicts(duckRuns));
    const failed = (duckRuns[1]?.verdicts ?? []).filter((v) => !v.passed);
    expect(failed.length).toBeGreaterThan(0);
    for (const v of failed) {
      expect(String(v.message)).toMatch(/cannot be normalized to USD: .*×\d+ \(/);
      expect(String(v.message)).not.toMatch(/could not be evaluated/);
    }
    // The second run evaluated the failing partitions again: each row points at its result.
    for (const runs of [duckRuns, pgRuns]) {
      const second = runs[1];
      expect(second?.failing.length).toBe(failed.length);
      for (const row of second?.failing ?? []) expect(row.run_id).toBe(second?.runId);
    }
  }, 180_000);
});
