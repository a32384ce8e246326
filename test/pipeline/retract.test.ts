import { rm } from 'node:fs/promises';
import path from 'node:path';
import { describe, expect, it } from 'vitest';
import { markForRetraction, retractCandidates } from '../../src/billing/retract.js';
import { cli } from '../support/cli.js';
import { csv, row, snapshot, TEST_BACKEND, type TestPipeline, testPipeline } from '../support/pipeline.js';
import { tmpDir } from '../support/tmp.js';

const DAY = 'year=2025/month=04/day=23';
const NEXT = 'year=2025/month=04/day=24';

/** Two files on one day (one with a rejected row) and one on the next. */
async function seed(p: TestPipeline): Promise<void> {
  await p.put(
    `${DAY}/gone.csv`,
    csv(
      row({ user_id: '1', credit_usage: '10', region: 'eu-west-1' }),
      row({ user_id: '2', credit_usage: '2.5' }),
      row({ user_id: 'bad' }),
    ),
  );
  await p.put(`${DAY}/stays.csv`, csv(row({ user_id: '3', credit_usage: '1.25' })));
  await p.put(`${NEXT}/other.csv`, csv(row({ user_id: '4', timestamp: '2025-04-24T08:00:00Z' })));
}

async function retractRun(p: TestPipeline, keys: string[]) {
  const runtime = await p.open();
  try {
    const request = await markForRetraction(runtime.warehouse, runtime.graph, keys);
    return await runtime.materialize(request);
  } finally {
    await runtime.close();
  }
}

describe('retracting a file on purpose', () => {
  it('removes a missing file’s events and rejected rows as a run, and the aggregates follow', async () => {
    const folder = await tmpDir('retract-src');
    const p = await testPipeline('retract', { source: folder });
    await seed(p);
    expect((await p.materialize()).status).toBe('success');

    // Deleted from the source: the events stay (a listing hiccup must never delete billing data).
    await rm(path.join(folder, DAY, 'gone.csv'));
    await p.materialize();
    expect(
      await p.rows("SELECT count(*) AS n FROM billing_events WHERE source_key LIKE '%gone.csv'"),
    ).toEqual([{ n: 2 }]);
    const runtime = await p.open();
    const missing = await retractCandidates(runtime.warehouse, { missing: true });
    await runtime.close();
    expect(missing.map((f) => [f.source_key, f.status, f.row_count])).toEqual([
      [`${DAY}/gone.csv`, 'missing', 2],
    ]);

    const summary = await retractRun(p, [`${DAY}/gone.csv`]);
    expect(summary.status).toBe('success');
    const events = summary.assets.find((a) => a.asset === 'billing_events');
    expect(events?.result?.metadata?.retractedFiles).toBe(1);
    expect(summary.assets.map((a) => a.asset)).not.toContain('billing_files');

    expect(
      await p.rows('SELECT source_key, count(*) AS n FROM billing_events GROUP BY 1 ORDER BY 1'),
    ).toEqual([
      { source_key: `${DAY}/stays.csv`, n: 1 },
      { source_key: `${NEXT}/other.csv`, n: 1 },
    ]);
    expect(await p.rows("SELECT count(*) AS n FROM rejected_rows WHERE source_key LIKE '%gone.csv'")).toEqual(
      [{ n: 0 }],
    );
    expect(
      await p.rows(
        'SELECT CAST(day AS VARCHAR) AS day, event_count, total_credit_usage FROM daily_aggregates ORDER BY 1',
      ),
    ).toEqual([
      { day: '2025-04-23', event_count: 1, total_credit_usage: '1.250000' },
      { day: '2025-04-24', event_count: 1, total_credit_usage: '1.500000' },
    ]);
    expect(await p.rows("SELECT count(*) AS n FROM region_aggregates WHERE region = 'eu-west-1'")).toEqual([
      { n: 0 },
    ]);
    const [file] =
      await p.rows(`SELECT status, needs_load, loaded_version, row_count, error FROM billing_files
      WHERE source_key = '${DAY}/gone.csv'`);
    expect(file).toEqual({
      status: 'retracted',
      needs_load: false,
      loaded_version: null,
      row_count: null,
      error: `retracted by run ${summary.runId}`,
    });
    // The ledger has the run and what it changed.
    expect(await p.rows(`SELECT trigger FROM runs WHERE run_id = '${summary.runId}'`)).toEqual([
      { trigger: 'retract' },
    ]);
    const [materialized] = await p.rows(`SELECT partition, inputs FROM materializations
      WHERE run_id = '${summary.runId}' AND asset = 'billing_events'`);
    expect(materialized?.partition).toBe('2025-04-23');
    expect(JSON.stringify(materialized?.inputs)).toContain(`${DAY}/gone.csv@retracted`);

    // The aggregates equal a clean run over what is left.
    const clean = await testPipeline('retract-clean');
    await clean.put(`${DAY}/stays.csv`, csv(row({ user_id: '3', credit_usage: '1.25' })));
    await clean.put(`${NEXT}/other.csv`, csv(row({ user_id: '4', timestamp: '2025-04-24T08:00:00Z' })));
    await clean.materialize();
    const left = await snapshot(p);
    const expected = await snapshot(clean);
    for (const table of ['daily_aggregates', 'user_aggregates', 'region_aggregates', 'currency_aggregates']) {
      expect(left[table], table).toEqual(expected[table]);
    }

    // It stays out: plain runs and a forced reprocess leave it retracted.
    await p.materialize();
    await p.materialize({ range: { from: '2025-04-23', to: '2025-04-23' } });
    expect(
      await p.rows("SELECT count(*) AS n FROM billing_events WHERE source_key LIKE '%gone.csv'"),
    ).toEqual([{ n: 0 }]);
    expect(await p.rows(`SELECT status FROM billing_files WHERE source_key = '${DAY}/gone.csv'`)).toEqual([
      { status: 'retracted' },
    ]);

    // A new version of it loads again.
    await p.put(`${DAY}/gone.csv`, csv(row({ user_id: '9', credit_usage: '7' })));
    await p.materialize();
    expect(await p.rows("SELECT user_id FROM billing_events WHERE source_key LIKE '%gone.csv'")).toEqual([
      { user_id: 9 },
    ]);
  });

  it.skipIf(TEST_BACKEND !== 'duckdb')(
    'from the CLI: retract --key on S3 and retract --missing',
    async () => {
      const p = await testPipeline('retract-cli');
      const env = { ...p.env, BILLING_SOURCE: p.source, BILLING_HOME: path.join(p.home, 'state') };
      await seed(p);
      expect((await cli(env, 'materialize')).code).toBe(0);

      const unknown = await cli(env, 'retract', '--key', 'nope.csv');
      expect(unknown.code).toBe(2);
      expect(unknown.stderr).toMatch(/no file "nope\.csv" in billing_files/);
      expect((await cli(env, 'retract')).code).toBe(2);
      const none = await cli(env, 'retract', '--missing');
      expect([none.code, none.stdout]).toEqual([0, 'no missing files to retract\n']);

      const result = await cli(env, 'retract', '--key', `${NEXT}/other.csv`);
      expect(result.code).toBe(0);
      expect(result.stderr).toContain(`retracting ${NEXT}/other.csv (loaded, day 2025-04-24, 1 event(s))`);
      expect(result.stdout).toMatch(/^run \S+ success: 1 file\(s\) retracted\n$/);
      expect(await p.rows('SELECT CAST(day AS VARCHAR) AS day FROM daily_aggregates ORDER BY 1')).toEqual([
        { day: '2025-04-23' },
      ]);
      const runs = await cli(env, 'runs', '--format', 'json');
      expect(runs.stdout).toContain('"retract"');
      const again = await cli(env, 'retract', '--key', `${NEXT}/other.csv`);
      expect(again.stderr).toContain('is already retracted');

      // A key without a day was never loaded: nothing to retract, nothing breaks.
      await p.put('year=2025/month=02/day=30/x.csv', csv(row()));
      await cli(env, 'materialize');
      const skipped = await cli(env, 'retract', '--key', 'year=2025/month=02/day=30/x.csv');
      expect([skipped.code, skipped.stdout]).toEqual([0, 'nothing to retract\n']);
      expect(skipped.stderr).toContain('was never loaded (no day in its key)');
    },
  );
});
