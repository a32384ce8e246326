import { describe, expect, it } from 'vitest';
import { csv, row, testPipeline } from '../support/pipeline.js';
import { latestResults, runEvents, statusOf, verdicts } from './support.js';

const DAY_22 = 'year=2025/month=04/day=22/a.csv';
const DAY_23 = 'year=2025/month=04/day=23/a.csv';
const day22 = (overrides: Partial<Record<string, string>> = {}) =>
  row({ timestamp: '2025-04-22T10:00:00Z', ...overrides });

const dailyDays = async (p: Awaited<ReturnType<typeof testPipeline>>) =>
  (await p.rows('SELECT CAST(day AS VARCHAR) AS day, event_count FROM daily_aggregates ORDER BY day')).map(
    (r) => `${r.day}:${r.event_count}`,
  );

describe('error vs warn severity in a real run', () => {
  it('withholds a partition failing an error check from every downstream asset and says why; warn only records', async () => {
    const p = await testPipeline('blocking');
    // 2025-04-22 fails a warn check (unknown region); 2025-04-23 fails not_null (error).
    await p.put(DAY_22, csv(day22(), day22({ user_id: '2', region: 'mars-1' })));
    await p.put(DAY_23, csv(row({ user_id: '3' }), row({ user_id: '4', currency: '', credit_usage: '7' })));
    const run = await p.materialize();
    expect(run.status).toBe('failed');
    expect(run.error).toContain(
      'billing_events: check not_null (error) failed for 2025-04-23: NULL values: currency ×1',
    );
    // Nothing failed to run: the assets succeeded, built without the held-back partition.
    expect(statusOf(run)).toMatchObject({
      billing_events: 'success',
      daily_aggregates: 'success',
      user_aggregates: 'success',
      billing_insights: 'success',
    });
    expect(await verdicts(p, 'billing_events', 'not_null')).toEqual({
      '2025-04-22': true,
      '2025-04-23': false,
    });
    // A NULL currency has no rate either: both error checks name the partition (only not_null
    // withholds it; a missing rate leaves the normalized totals NULL instead).
    expect(await verdicts(p, 'billing_events', 'fx_rate_available')).toEqual({
      '2025-04-22': true,
      '2025-04-23': false,
    });
    expect(await dailyDays(p)).toEqual(['2025-04-22:2']);
    expect(await p.rows('SELECT user_id FROM user_aggregates ORDER BY user_id')).toEqual([
      { user_id: 1 },
      { user_id: 2 },
    ]);
    expect(await p.rows('SELECT total_events, total_credit_usage FROM billing_insights')).toEqual([
      { total_events: 2, total_credit_usage: '3.000000' },
    ]);
    // The aggregates reconcile against the events they were allowed to see.
    expect(await verdicts(p, 'daily_aggregates', 'reconciliation')).toEqual({
      '2025-04-22': true,
      '2025-04-23': true,
    });
    expect(Object.values(await verdicts(p, 'user_aggregates', 'reconciliation'))).toEqual([true]);

    const events = await runEvents(p, run.runId);
    const messages = (type: string) =>
      events.filter((e) => e.type === type).map((e) => `${e.level} ${e.message}`);
    expect(messages('partitions_withheld')).toContain(
      'warn daily_aggregates is built without billing_events partition(s) 2025-04-23 (failed not_null)',
    );
    const checkFailures = messages('check_failed');
    expect(checkFailures).toContain(
      'error billing_events: check not_null (error) failed for 2025-04-23: NULL values: currency ×1; withheld from downstream assets',
    );
    expect(checkFailures).toContain(
      'warn billing_events: check accepted_values_region (warn) failed for 2025-04-22: 1 event(s) with region outside the accepted list, e.g. "mars-1"',
    );

    // Fixing the file releases the partition on the next run.
    await p.put(DAY_23, csv(row({ user_id: '3' }), row({ user_id: '4', credit_usage: '7' })));
    const fixed = await p.materialize();
    expect(fixed.status).toBe('success');
    expect(fixed.error).toBeNull();
    expect(await verdicts(p, 'billing_events', 'not_null')).toEqual({
      '2025-04-22': true,
      '2025-04-23': true,
    });
    expect(await dailyDays(p)).toEqual(['2025-04-22:2', '2025-04-23:2']);
    expect(await p.rows('SELECT total_events, total_credit_usage FROM billing_insights')).toEqual([
      { total_events: 4, total_credit_usage: '11.500000' },
    ]);
  });

  it('makes severity configurable: raising a check to error holds data back, lowering it releases it', async () => {
    const p = await testPipeline('severity-config');
    p.env.BILLING_CHECKS_ACCEPTED_VALUES_SEVERITY = 'error';
    await p.put(DAY_22, csv(day22()));
    await p.put(DAY_23, csv(row({ region: 'mars-1' })));
    const strict = await p.materialize();
    expect(strict.status).toBe('failed');
    expect(strict.error).toMatch(/check accepted_values_region \(error\) failed for 2025-04-23/);
    expect(await dailyDays(p)).toEqual(['2025-04-22:1']);

    delete p.env.BILLING_CHECKS_ACCEPTED_VALUES_SEVERITY;
    const relaxed = await p.materialize();
    expect(relaxed.status).toBe('success');
    expect(await dailyDays(p)).toEqual(['2025-04-22:1', '2025-04-23:1']);
    const [, latest] = await latestResults(p, 'billing_events', 'accepted_values_region');
    expect(latest).toMatchObject({ partition: '2025-04-23', passed: false, severity: 'warn' });
  });

  it('holds back every downstream asset when a whole-asset error check fails', async () => {
    const p = await testPipeline('schema-block');
    await p.put(DAY_22, csv(day22()));
    expect((await p.materialize()).status).toBe('success');
    expect(await verdicts(p, 'billing_events', 'schema_conformance')).toEqual({ '(asset)': true });
    // Money stored as DOUBLE would lose digits: the contract rejects it.
    const runtime = await p.open();
    await runtime.warehouse.exec(
      'ALTER TABLE billing_events ALTER COLUMN normalized_credit_usage TYPE DOUBLE PRECISION',
    );
    await runtime.close();
    await p.put(DAY_23, csv(row()));
    const run = await p.materialize();
    expect(run.status).toBe('failed');
    expect(run.error).toContain(
      'billing_events: check schema_conformance (error) failed: normalized_credit_usage is DOUBLE, expected DECIMAL(18,6)',
    );
    const status = statusOf(run);
    expect(status.billing_events).toBe('success');
    for (const asset of ['daily_aggregates', 'user_aggregates', 'region_aggregates', 'billing_insights'])
      expect(status[asset]).toBe('skipped');
    const skipped = run.assets.find((a) => a.asset === 'daily_aggregates');
    expect(skipped?.error).toBe(
      'held back by failed error checks: billing_events (failed schema_conformance)',
    );
    expect(await dailyDays(p)).toEqual(['2025-04-22:1']);
  });
});
