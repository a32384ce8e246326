import { describe, expect, it } from 'vitest';
import type { CheckOutcome } from '../../src/orchestrator/asset-check.js';
import { csv, row, type TestPipeline, testPipeline } from '../support/pipeline.js';
import { runGraph, statusOf, verdicts } from './support.js';

const DAY_22 = 'year=2025/month=04/day=22/a.csv';
const DAY_23 = 'year=2025/month=04/day=23/a.csv';

/** Two days; the 23rd's total needs 19 significant digits, beyond what a DOUBLE can tell apart. */
async function twoDays(name: string): Promise<TestPipeline> {
  const p = await testPipeline(name);
  await p.put(DAY_22, csv(row({ timestamp: '2025-04-22T10:00:00Z', credit_usage: '3' })));
  await p.put(
    DAY_23,
    csv(
      row({ user_id: '1', credit_usage: '999999999999.999999' }),
      row({ user_id: '2', credit_usage: '0.000001' }),
      row({ user_id: '2', credit_usage: '2.5', currency: 'EUR' }),
    ),
  );
  return p;
}

/** Evaluates one check of `asset` directly, as the runner would after writing `partitions`. */
async function evaluate(
  p: TestPipeline,
  asset: string,
  check: string,
  partitions: string[],
): Promise<CheckOutcome[]> {
  const runtime = await p.open();
  try {
    const definition = runtime.graph.get(asset).checks?.find((c) => c.name === check);
    if (!definition) throw new Error(`${asset} has no check ${check}`);
    return await definition.evaluate({
      runId: 'manual',
      asset,
      warehouse: runtime.warehouse,
      partitions,
      changed: true,
      failing: [],
      blockedUpstream: [],
      signal: new AbortController().signal,
    });
  } finally {
    await runtime.close();
  }
}

async function exec(p: TestPipeline, sql: string): Promise<void> {
  const runtime = await p.open();
  try {
    await runtime.warehouse.exec(sql);
  } finally {
    await runtime.close();
  }
}

describe('reconciliation', () => {
  it('catches a corrupted daily aggregate to the last decimal digit', async () => {
    const p = await twoDays('reconcile-direct');
    expect((await p.materialize()).status).toBe('success');
    const days = ['2025-04-22', '2025-04-23'];
    expect((await evaluate(p, 'daily_aggregates', 'reconciliation', days)).map((o) => o.passed)).toEqual([
      true,
      true,
    ]);

    await exec(
      p,
      "UPDATE daily_aggregates SET total_credit_usage = total_credit_usage + 0.000001 WHERE day = '2025-04-23'",
    );
    const [ok, bad] = await evaluate(p, 'daily_aggregates', 'reconciliation', days);
    // One billed currency: its raw sum is an amount in it.
    expect(ok).toMatchObject({
      partition: '2025-04-22',
      passed: true,
      observed: '1 events / 3.000000 USD / 3.000000 USD',
    });
    expect(bad).toMatchObject({
      partition: '2025-04-23',
      passed: false,
      observed:
        '3 events / 1000000000002.500001 (raw sum over EUR+USD: a checksum, not an amount) / 1000000000002.712500 USD',
      threshold:
        '3 events / 1000000000002.500000 (raw sum over EUR+USD: a checksum, not an amount) / 1000000000002.712500 USD',
      message:
        'credit total 1000000000002.500001 (raw sum over EUR+USD: a checksum, not an amount) in daily_aggregates, 1000000000002.500000 (raw sum over EUR+USD: a checksum, not an amount) in billing_events',
    });

    await exec(
      p,
      "UPDATE daily_aggregates SET total_credit_usage = total_credit_usage - 0.000001, event_count = 2, total_normalized_credit_usage = total_normalized_credit_usage - 0.000001 WHERE day = '2025-04-23'",
    );
    const [, counts] = await evaluate(p, 'daily_aggregates', 'reconciliation', days);
    expect(counts?.message).toBe(
      'event count 2 in daily_aggregates, 3 in billing_events; normalized total 1000000000002.712499 USD in daily_aggregates, 1000000000002.712500 USD in billing_events',
    );
  });

  it('blocks the insights in a real run when an aggregate comes out wrong, until it is rebuilt', async () => {
    const p = await twoDays('reconcile-run');
    // Simulates a bug in the aggregation: one day's normalized total is off by a millionth.
    const run = await runGraph(p, {
      after: {
        daily_aggregates: (w) =>
          w.exec(
            "UPDATE daily_aggregates SET total_normalized_credit_usage = total_normalized_credit_usage + 0.000001 WHERE day = '2025-04-23'",
          ),
      },
    });
    expect(run.status).toBe('failed');
    expect(run.error).toContain(
      'daily_aggregates: check reconciliation (error) failed for 2025-04-23: normalized total 1000000000002.712501 USD in daily_aggregates, 1000000000002.712500 USD in billing_events',
    );
    expect(statusOf(run)).toMatchObject({ daily_aggregates: 'success', billing_insights: 'skipped' });
    expect(run.assets.find((a) => a.asset === 'billing_insights')?.error).toBe(
      'held back by failed error checks: daily_aggregates partition(s) 2025-04-23 (failed reconciliation)',
    );
    // The wrong row stays wrong, so the check keeps failing on later runs...
    expect((await p.materialize()).status).toBe('failed');
    // ...until the day is rebuilt from billing_events.
    const rebuilt = await p.materialize({ range: { from: '2025-04-23', to: '2025-04-23' } });
    expect(rebuilt.status).toBe('success');
    expect(await verdicts(p, 'daily_aggregates', 'reconciliation')).toEqual({
      '2025-04-22': true,
      '2025-04-23': true,
    });
    expect(await p.rows('SELECT total_events, total_normalized_credit_usage FROM billing_insights')).toEqual([
      { total_events: 4, total_normalized_credit_usage: '1000000000005.712500' },
    ]);
  });

  it('checks whole-table aggregates over the table when they change', async () => {
    const p = await twoDays('reconcile-table');
    expect((await p.materialize()).status).toBe('success');
    expect(await verdicts(p, 'user_aggregates', 'reconciliation')).toEqual({ '(asset)': true });
    // Corrupt user 1 behind the pipeline's back; a new file for user 2 makes the table change.
    await exec(p, 'UPDATE user_aggregates SET event_count = event_count + 1 WHERE user_id = 1');
    await p.put(
      'year=2025/month=04/day=24/a.csv',
      csv(row({ user_id: '2', timestamp: '2025-04-24T10:00:00Z' })),
    );
    const run = await p.materialize();
    expect(run.status).toBe('failed');
    expect(run.error).toContain(
      'user_aggregates: check reconciliation (error) failed: event count 6 in user_aggregates, 5 in billing_events',
    );
    expect(statusOf(run).billing_insights).toBe('skipped');
  });
});

describe('reconciliation at the cost of the new data', () => {
  it('compares only the event days a run rebuilt in the day-keyed whole-history aggregates', async () => {
    const p = await twoDays('reconcile-touched');
    expect((await p.materialize()).status).toBe('success');
    const latest = async (asset: string) =>
      (
        await p.rows(
          `SELECT passed, observed, message FROM check_results WHERE asset = '${asset}' AND check_name = 'reconciliation'
           ORDER BY result_id DESC LIMIT 1`,
        )
      )[0];
    // The first build is full: the whole table is compared.
    expect(await latest('user_daily_aggregates')).toMatchObject({ passed: true });
    expect(String((await latest('user_daily_aggregates'))?.observed)).toMatch(/^whole table: 4 events/);

    // A wrong row on the 22nd, then a run that touches only the 24th.
    await exec(p, "UPDATE user_daily_aggregates SET event_count = event_count + 1 WHERE day = '2025-04-22'");
    await p.put(
      'year=2025/month=04/day=24/a.csv',
      csv(row({ user_id: '2', timestamp: '2025-04-24T10:00:00Z' })),
    );
    expect((await p.materialize()).status).toBe('success');
    for (const asset of ['user_daily_aggregates', 'region_daily_aggregates']) {
      // Only the rebuilt day is read: the 22nd's events and rows are not (it was checked when built).
      expect(await latest(asset)).toEqual({
        passed: true,
        observed: '1 rebuilt day(s) checked: 2025-04-24',
        message: null,
      });
    }
    // A rebuild of the 22nd compares that day, finds the drift... and repairs it, as the rebuild
    // recomputes the day from billing_events.
    const forced = await p.materialize({ range: { from: '2025-04-22', to: '2025-04-22' } });
    expect(forced.status).toBe('success');
    expect(await latest('user_daily_aggregates')).toMatchObject({
      passed: true,
      observed: '1 rebuilt day(s) checked: 2025-04-22',
    });
    // A wrong row on a day the run rebuilds fails the check with that day named.
    await p.put(
      'year=2025/month=04/day=25/a.csv',
      csv(row({ user_id: '3', timestamp: '2025-04-25T10:00:00Z' })),
    );
    const run = await runGraph(p, {
      after: {
        user_daily_aggregates: (w) =>
          w.exec("UPDATE user_daily_aggregates SET event_count = 7 WHERE day = '2025-04-25'"),
      },
    });
    expect(run.status).toBe('failed');
    expect(run.error).toContain(
      'user_daily_aggregates: check reconciliation (error) failed: day 2025-04-25: event count 7 in user_daily_aggregates, 1 in billing_events',
    );
  });
});

describe('file row reconciliation', () => {
  it("passes when events = the file's data rows minus its rejected rows, and fails when a row goes missing", async () => {
    const p = await testPipeline('file-rows');
    await p.put(DAY_22, csv(row({ timestamp: '2025-04-22T10:00:00Z' }), row({ user_id: 'x' })));
    await p.put(DAY_23, csv(row(), row({ user_id: '2' }), row({ user_id: 'y' }), row({ user_id: '3' })));
    // Simulates a load that silently drops a row of one file.
    const run = await runGraph(p, {
      after: {
        billing_events: (w) =>
          w.exec(`DELETE FROM billing_events WHERE source_key = '${DAY_23}' AND source_line = 3`),
      },
    });
    expect(await verdicts(p, 'billing_events', 'file_row_reconciliation')).toEqual({
      '2025-04-22': true,
      '2025-04-23': false,
    });
    expect(run.status).toBe('failed');
    expect(run.error).toContain(
      `billing_events: check file_row_reconciliation (error) failed for 2025-04-23: ${DAY_23}: 2 event(s), expected 4 data row(s) - 1 rejected = 3`,
    );
    expect(await p.rows('SELECT CAST(day AS VARCHAR) AS day FROM daily_aggregates ORDER BY day')).toEqual([
      { day: '2025-04-22' },
    ]);
    // Reloading the file restores the row and releases the partition.
    await p.put(DAY_23, csv(row(), row({ user_id: '2' }), row({ user_id: 'y' }), row({ user_id: '3' }), ''));
    expect((await p.materialize()).status).toBe('success');
    expect(await p.rows("SELECT event_count FROM daily_aggregates WHERE day = '2025-04-23'")).toEqual([
      { event_count: 3 },
    ]);
  });
});
