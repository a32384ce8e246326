import { writeFile } from 'node:fs/promises';
import path from 'node:path';
import { describe, expect, it } from 'vitest';
import { latestDueDay } from '../../src/billing/checks/file-checks.js';
import { addDays } from '../../src/orchestrator/days.js';
import { csv, HEADER, row, testPipeline } from '../support/pipeline.js';
import { latestResults, runGraph, verdicts } from './support.js';

const key = (day: string, name = 'a.csv') => {
  const [y, m, d] = day.split('-');
  return `year=${y}/month=${m}/day=${d}/${name}`;
};
const rows = (n: number, overrides: (i: number) => Partial<Record<string, string>> = () => ({})) =>
  Array.from({ length: n }, (_, i) => row({ user_id: String(i + 1), ...overrides(i) }));

describe('accepted values', () => {
  it('fails values outside the default lists and follows lists configured by YAML and env', async () => {
    const p = await testPipeline('accepted-values');
    await p.put(key('2025-04-22'), csv(row(), row({ region: 'eu-west-1', currency: 'GBP' })));
    await p.put(
      key('2025-04-23'),
      csv(
        row({ region: 'mars-1', service_tier: 'gold', operation_type: 'dance', resource_type: 'tape' }),
        row({ currency: 'GBP' }),
      ),
    );
    const first = await p.materialize();
    // accepted_values is `warn`: the run records and continues.
    expect(first.status).toBe('success');
    for (const column of ['region', 'service_tier', 'operation_type', 'resource_type']) {
      expect(await verdicts(p, 'billing_events', `accepted_values_${column}`)).toEqual({
        '2025-04-22': true,
        '2025-04-23': false,
      });
    }
    expect(await verdicts(p, 'billing_events', 'accepted_values_currency')).toEqual({
      '2025-04-22': true,
      '2025-04-23': true,
    });
    const [, region] = await latestResults(p, 'billing_events', 'accepted_values_region');
    expect(region).toMatchObject({ severity: 'warn', observed: '1', threshold: '0' });
    expect(region?.message).toMatch(/1 event\(s\) with region outside the accepted list, e\.g\. "mars-1"/);
    expect(await p.rows("SELECT count(*) AS n FROM daily_aggregates WHERE day = '2025-04-23'")).toEqual([
      { n: 1 },
    ]);

    // A YAML file widens the region list; a variable narrows the currencies. Failing partitions are
    // evaluated again on the next run, so the configuration change shows without new data.
    const yaml = path.join(p.home, 'checks.yaml');
    await writeFile(yaml, 'checks:\n  accepted_values:\n    columns:\n      region: [us-east-1, mars-1]\n');
    p.env.BILLING_CHECKS_CONFIG = yaml;
    p.env.BILLING_CHECKS_ACCEPTED_VALUES_COLUMNS_CURRENCY = 'USD, EUR';
    await p.put(key('2025-04-24'), csv(row({ currency: 'GBP' })));
    await p.materialize();
    expect(await verdicts(p, 'billing_events', 'accepted_values_region')).toEqual({
      '2025-04-22': true,
      '2025-04-23': true,
      '2025-04-24': true,
    });
    // The other lists keep their defaults.
    expect((await verdicts(p, 'billing_events', 'accepted_values_service_tier'))['2025-04-23']).toBe(false);
    expect((await verdicts(p, 'billing_events', 'accepted_values_currency'))['2025-04-24']).toBe(false);
  });
});

describe('credit_usage range and refunds', () => {
  it('allows refunds up to the configured share and flags amounts outside the bounds', async () => {
    const p = await testPipeline('credit-range');
    p.env.BILLING_CHECKS_CREDIT_USAGE_RANGE_MAX = '100';
    // 1 refund in 50 events: exactly the default share of 0.02.
    await p.put(
      key('2025-04-22'),
      csv(...rows(50, (i) => ({ credit_usage: i === 0 ? '-2.5' : i === 1 ? '100' : '1' }))),
    );
    // 1 refund in 10 events.
    await p.put(key('2025-04-23'), csv(...rows(10, (i) => ({ credit_usage: i === 0 ? '-2.5' : '1' }))));
    await p.put(key('2025-04-24'), csv(row({ credit_usage: '100.000001' }), row({ credit_usage: '3' })));
    expect((await p.materialize()).status).toBe('success');
    const results = await latestResults(p, 'billing_events', 'credit_usage_range');
    expect(results.map((r) => [r.partition, r.passed])).toEqual([
      ['2025-04-22', true],
      ['2025-04-23', false],
      ['2025-04-24', false],
    ]);
    expect(results[0]).toMatchObject({
      observed: '0 out of range; refund share 0.0200',
      threshold: '[-1000000, 100]; refund share <= 0.02',
      message: null,
    });
    expect(results[1]?.message).toBe('1 refund(s) of 10 events, share 0.1000 > 0.02');
    expect(results[2]?.message).toBe(
      "1 amount(s) outside [-1000000, 100] in the event's own currency (min 3.000000 USD, max 100.000001 USD)",
    );
  });
});

describe('timestamp window', () => {
  it("counts and reports events outside the partition's day ± tolerance, boundaries included", async () => {
    const p = await testPipeline('timestamp-window');
    // The default tolerance is 3 h: [2025-04-22T21:00, 2025-04-24T03:00) belongs to 2025-04-23.
    await p.put(
      key('2025-04-23'),
      csv(row({ timestamp: '2025-04-22T21:00:00Z' }), row({ timestamp: '2025-04-24T02:59:59.999Z' })),
    );
    await p.put(
      key('2025-04-24'),
      csv(
        row({ timestamp: '2025-04-24T12:00:00Z' }),
        row({ timestamp: '2025-04-25T03:00:00Z' }),
        row({ timestamp: '2025-04-23T20:59:59Z' }),
      ),
    );
    await p.materialize();
    const results = await latestResults(p, 'billing_events', 'timestamp_window');
    expect(results.map((r) => [r.partition, r.passed, r.observed])).toEqual([
      ['2025-04-23', true, '0'],
      ['2025-04-24', false, '2'],
    ]);
    expect(results[1]?.message).toBe(
      '2 of 3 event(s) outside 2025-04-24 ± 3 h (timestamps 2025-04-23 20:59:59 .. 2025-04-25 03:00:00)',
    );
    // Late events are still loaded and counted on their own UTC day.
    expect(
      await p.rows('SELECT CAST(day AS VARCHAR) AS day, event_count FROM daily_aggregates ORDER BY day'),
    ).toEqual([
      { day: '2025-04-22', event_count: 1 },
      { day: '2025-04-23', event_count: 1 },
      { day: '2025-04-24', event_count: 2 },
      { day: '2025-04-25', event_count: 1 },
    ]);

    // A wider tolerance accepts them on the next evaluation.
    p.env.BILLING_CHECKS_TIMESTAMP_WINDOW_TOLERANCE_HOURS = '4';
    await p.materialize();
    expect(await verdicts(p, 'billing_events', 'timestamp_window')).toEqual({
      '2025-04-23': true,
      '2025-04-24': true,
    });
  });
});

describe('rejected-row rate', () => {
  it('holds each file to the threshold and counts a file rejected whole as 1', async () => {
    const p = await testPipeline('rejected-rate');
    const bad = row({ user_id: 'not-a-number' });
    await p.put(key('2025-04-22'), csv(...rows(19), bad)); // 1 of 20: exactly 0.05
    await p.put(key('2025-04-23'), csv(...rows(3), bad)); // 1 of 4
    await p.put(key('2025-04-23', 'b.csv'), csv(...rows(5)));
    await p.put(key('2025-04-24'), `${HEADER.replace(',currency', '')}\n${row()}\n`);
    expect((await p.materialize()).status).toBe('success');
    const results = await latestResults(p, 'billing_events', 'rejected_row_rate');
    expect(results.map((r) => [r.partition, r.passed, r.observed])).toEqual([
      ['2025-04-22', true, '0.0500'],
      ['2025-04-23', false, '0.2500'],
      ['2025-04-24', false, '1.0000'],
    ]);
    expect(results[1]?.message).toBe('year=2025/month=04/day=23/a.csv: 1 of 4 row(s) rejected');
    expect(results[2]?.message).toBe('year=2025/month=04/day=24/a.csv rejected whole');

    p.env.BILLING_CHECKS_REJECTED_ROW_RATE_MAX_RATE = '0.3';
    await p.materialize();
    expect(await verdicts(p, 'billing_events', 'rejected_row_rate')).toEqual({
      '2025-04-22': true,
      '2025-04-23': true,
      '2025-04-24': false,
    });
  });
});

describe('freshness', () => {
  it('computes the latest due day from the expected-by time', () => {
    expect(latestDueDay(new Date('2025-04-24T07:00:00Z'), '06:00')).toBe('2025-04-23');
    expect(latestDueDay(new Date('2025-04-24T06:00:00Z'), '06:00')).toBe('2025-04-23');
    expect(latestDueDay(new Date('2025-04-24T05:59:59Z'), '06:00')).toBe('2025-04-22');
    expect(latestDueDay(new Date('2025-04-24T00:00:00Z'), '00:00')).toBe('2025-04-23');
  });

  it('fails a day whose files have not arrived by the expected time, and passes it once they do', async () => {
    const p = await testPipeline('freshness');
    await p.put(key('2025-04-21'), csv(row({ timestamp: '2025-04-21T10:00:00Z' })));
    await p.put(key('2025-04-23'), csv(row()));
    // At 05:59 on the 24th, the 23rd is not due yet; the 22nd is late.
    const early = await runGraph(p, { now: new Date('2025-04-24T05:59:00Z') });
    expect(early.status).toBe('success');
    expect(await verdicts(p, 'billing_files', 'freshness')).toEqual({
      '2025-04-21': true,
      '2025-04-22': false,
    });
    const [, late] = await latestResults(p, 'billing_files', 'freshness');
    expect(late).toMatchObject({
      severity: 'warn',
      observed: 'missing',
      threshold: 'by 2025-04-23T06:00Z',
      message: 'no file for 2025-04-22, expected by 2025-04-23 06:00 UTC',
    });
    expect(early.events.some((e) => e.type === 'check_failed' && e.level === 'warn')).toBe(true);

    await p.put(key('2025-04-22'), csv(row({ timestamp: '2025-04-22T10:00:00Z' })));
    await runGraph(p, { now: new Date('2025-04-24T06:00:00Z') });
    expect(await verdicts(p, 'billing_files', 'freshness')).toEqual({
      '2025-04-21': true,
      '2025-04-22': true,
      '2025-04-23': true,
    });
    // A week later nothing new arrived: only the lookback window (3 days) is reported.
    await runGraph(p, { now: new Date('2025-05-01T12:00:00Z') });
    const week = await verdicts(p, 'billing_files', 'freshness');
    expect(Object.entries(week).filter(([, passed]) => !passed)).toEqual([
      ['2025-04-28', false],
      ['2025-04-29', false],
      ['2025-04-30', false],
    ]);
  });
});

describe('volume anomaly', () => {
  it("flags a day whose event count is far outside the trailing window's range", async () => {
    const p = await testPipeline('volume-anomaly');
    const counts = [10, 11, 9, 10, 12, 10, 11, 9, 10];
    const first = '2025-04-01';
    for (const [i, n] of counts.entries()) {
      const day = addDays(first, i);
      await p.put(key(day), csv(...rows(n, () => ({ timestamp: `${day}T12:00:00Z` }))));
    }
    const spikeDay = addDays(first, counts.length);
    await p.put(key(spikeDay), csv(...rows(100, () => ({ timestamp: `${spikeDay}T12:00:00Z` }))));
    expect((await p.materialize()).status).toBe('success');
    const results = await latestResults(p, 'daily_aggregates', 'volume_anomaly');
    expect(results.filter((r) => !r.passed).map((r) => r.partition)).toEqual([spikeDay]);
    const spike = results.find((r) => r.partition === spikeDay);
    // Median 10, MAD 1 over the 9 days before: z = 90 / 1.4826.
    expect(spike?.message).toMatch(/^unusual events 100 \(median 10, z 60\.7\)/);
    // Too little history (fewer than 7 days) is never flagged, however large the jump.
    const young = results.find((r) => r.partition === addDays(first, 5));
    expect(young?.passed).toBe(true);
  });
});
