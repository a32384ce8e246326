import { join } from 'node:path';
import { describe, expect, it } from 'vitest';
import { type TestPipeline, testPipeline } from '../support/pipeline.js';
import { postgresAvailable } from '../support/postgres.js';
import { tmpDir } from '../support/tmp.js';
import { FX_V1, FX_V2, ingestSnapshotOf, seedFirstInput, seedSecondInput, writeFx } from './ingest-tables.js';

/**
 * The ingest assets only. Each asset succeeds; the run itself fails on purpose, as the input has
 * events without a rate and fx_rate_available is an error check.
 */
async function ingest(p: TestPipeline): Promise<void> {
  const summary = await p.materialize({ selection: ['billing_events'], withUpstream: true });
  expect(summary.assets.map((a) => [a.asset, a.status])).toEqual([
    ['billing_files', 'success'],
    ['fx_rates', 'success'],
    ['billing_events', 'success'],
  ]);
}

describe.skipIf(!postgresAvailable())('the ingest on DuckDB and on PostgreSQL', () => {
  it('fills every ingest table with the same rows, through first loads, replacements and FX changes', async () => {
    // One FX file for both, so fx_state.source is the same path.
    const fx = join(await tmpDir('backends-fx'), 'rates.csv');
    await writeFx(fx, FX_V1);
    const duck = await testPipeline('backends-duckdb', { backend: 'duckdb', fx });
    const pg = await testPipeline('backends-postgres', { backend: 'postgres', source: duck.source, fx });
    const pgRuntime = await pg.open();
    expect(pgRuntime.warehouse.dialect).toBe('postgres');
    await pgRuntime.close();

    await seedFirstInput(duck);
    for (const p of [duck, pg]) await ingest(p);
    const first = await ingestSnapshotOf(duck);
    // The input exercises what it should: rejected rows and files, amounts with and without rates.
    expect(first.rows.rejected_files?.length).toBe(1);
    expect(first.rows.rejected_rows?.length).toBeGreaterThan(10);
    const events = first.rows.billing_events ?? [];
    expect(events.length).toBeGreaterThan(1000);
    expect(new Set(events.map((e) => e.currency))).toEqual(new Set(['USD', 'EUR', 'GBP', 'JPY', 'CHF']));
    expect(events.filter((e) => e.normalized_credit_usage === null).length).toBeGreaterThan(0);
    expect(
      events.filter((e) => e.currency === 'EUR' && e.normalized_credit_usage !== null).length,
    ).toBeGreaterThan(0);
    expect(await ingestSnapshotOf(pg)).toEqual(first);

    // A corrected re-upload, a new day, a fixed rejected file and a new FX version: replacement,
    // re-normalization and the change log on both.
    await seedSecondInput(duck);
    await writeFx(fx, FX_V2);
    for (const p of [duck, pg]) await ingest(p);
    const second = await ingestSnapshotOf(duck);
    expect(second.rows.billing_events).not.toEqual(first.rows.billing_events);
    expect(second.rows.fx_rate_history?.length).toBeGreaterThan(first.rows.fx_rate_history?.length ?? 0);
    expect(await ingestSnapshotOf(pg)).toEqual(second);
  });
});
