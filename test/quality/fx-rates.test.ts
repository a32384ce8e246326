import { writeFile } from 'node:fs/promises';
import path from 'node:path';
import { describe, expect, it } from 'vitest';
import { csv, row, type TestPipeline, testPipeline } from '../support/pipeline.js';
import { latestResults, statusOf, verdicts } from './support.js';

const key = (day: string, name = 'a.csv') => {
  const [y, m, d] = day.split('-');
  return `year=${y}/month=${m}/day=${d}/${name}`;
};
const at = (day: string, overrides: Partial<Record<string, string>>) =>
  row({ timestamp: `${day}T12:00:00Z`, ...overrides });

/** A pipeline whose FX file (a local path) the test rewrites between runs. */
async function withRates(name: string, rates: string) {
  const p = await testPipeline(name);
  const file = path.join(p.home, 'rates.csv');
  await writeFile(file, rates);
  p.env.BILLING_FX_SOURCE = file;
  return Object.assign(p, { setRates: (text: string) => writeFile(file, text) });
}

const amounts = async (p: TestPipeline) =>
  (
    await p.rows(
      'SELECT CAST(event_date AS VARCHAR) AS day, currency, normalized_credit_usage AS n FROM billing_events ORDER BY event_date, currency, source_line',
    )
  ).map((r) => `${r.day} ${r.currency} ${r.n}`);

const dailyNormalized = async (p: TestPipeline) =>
  (
    await p.rows(
      'SELECT CAST(day AS VARCHAR) AS day, total_normalized_credit_usage AS n FROM daily_aggregates ORDER BY day',
    )
  ).map((r) => `${r.day} ${r.n}`);

describe('rate selection', () => {
  it("uses the latest rate dated on or before the event's UTC date; the reporting currency needs no row", async () => {
    const p = await withRates(
      'fx-asof',
      'date,currency,rate\n2025-04-20,EUR,1.1\n2025-04-23,EUR,1.2\n2025-04-25,EUR,1.3\n',
    );
    await p.put(key('2025-04-22'), csv(at('2025-04-22', { currency: 'EUR', credit_usage: '10' })));
    await p.put(
      key('2025-04-24'),
      csv(
        at('2025-04-23', { currency: 'EUR', credit_usage: '10' }),
        at('2025-04-24', { currency: 'EUR', credit_usage: '10' }),
        // 23:30 at UTC-2 is 01:30 UTC on the 25th: the UTC date decides the rate.
        row({ timestamp: '2025-04-24T23:30:00-02:00', currency: 'EUR', credit_usage: '10' }),
        at('2025-04-24', { currency: 'USD', credit_usage: '10' }),
      ),
    );
    expect((await p.materialize()).status).toBe('success');
    expect(await amounts(p)).toEqual([
      '2025-04-22 EUR 11.000000',
      '2025-04-23 EUR 12.000000',
      '2025-04-24 EUR 12.000000',
      '2025-04-24 USD 10.000000',
      '2025-04-25 EUR 13.000000',
    ]);
    expect(
      await p.rows('SELECT reporting_currency, total_normalized_credit_usage FROM billing_insights'),
    ).toEqual([{ reporting_currency: 'USD', total_normalized_credit_usage: '58.000000' }]);
  });

  it('normalizes to another reporting currency, and switching it renormalizes everything', async () => {
    const p = await withRates('fx-reporting', 'date,currency,rate\n2025-04-01,USD,0.9\n2025-04-01,EUR,1.0\n');
    p.env.BILLING_REPORTING_CURRENCY = 'EUR';
    await p.put(
      key('2025-04-23'),
      csv(row({ currency: 'EUR', credit_usage: '10' }), row({ currency: 'USD', credit_usage: '10' })),
    );
    expect((await p.materialize()).status).toBe('success');
    expect(await amounts(p)).toEqual(['2025-04-23 EUR 10.000000', '2025-04-23 USD 9.000000']);

    p.env.BILLING_REPORTING_CURRENCY = 'USD';
    await p.setRates('date,currency,rate\n2025-04-01,EUR,1.25\n');
    expect((await p.materialize()).status).toBe('success');
    expect(await amounts(p)).toEqual(['2025-04-23 EUR 12.500000', '2025-04-23 USD 10.000000']);
    expect(await dailyNormalized(p)).toEqual(['2025-04-23 22.500000']);
  });
});

describe('missing rates', () => {
  it('fail fx_rate_available for the affected partitions, never a silent zero and without withholding them, until the rate arrives', async () => {
    const p = await withRates('fx-missing', 'date,currency,rate\n2025-04-20,EUR,1.1\n');
    await p.put(key('2025-04-22'), csv(at('2025-04-22', { currency: 'EUR', credit_usage: '10' })));
    await p.put(
      key('2025-04-23'),
      csv(
        row({ currency: 'EUR', credit_usage: '5' }),
        row({ currency: 'GBP', credit_usage: '2' }),
        row({ currency: 'GBP', credit_usage: '3' }),
      ),
    );
    await p.put(key('2025-04-19'), csv(at('2025-04-19', { currency: 'EUR', credit_usage: '1' })));
    const run = await p.materialize();
    expect(run.status).toBe('failed');
    expect(await verdicts(p, 'billing_events', 'fx_rate_available')).toEqual({
      '2025-04-19': false,
      '2025-04-22': true,
      '2025-04-23': false,
    });
    const file = p.env.BILLING_FX_SOURCE;
    const results = await latestResults(p, 'billing_events', 'fx_rate_available');
    expect(results.map((r) => [r.partition, r.severity, r.observed, r.message])).toEqual([
      [
        '2025-04-19',
        'error',
        '1',
        `1 event(s) cannot be normalized to USD: EUR ×1 (2025-04-19: no rate on or before); add those rates to the FX file ${file} (date,currency,rate)`,
      ],
      ['2025-04-22', 'error', '0', null],
      [
        '2025-04-23',
        'error',
        '2',
        `2 event(s) cannot be normalized to USD: GBP ×2 (2025-04-23: no rate on or before); add those rates to the FX file ${file} (date,currency,rate)`,
      ],
    ]);
    // The run's error counts every failing day, not only the first.
    expect(run.error).toContain(
      `check fx_rate_available (error) failed for 2025-04-19, 2025-04-23: 3 event(s) cannot be normalized to USD: EUR on 2025-04-19 ×1; GBP on 2025-04-23 ×2; add those rates to the FX file ${file} (date,currency,rate)`,
    );
    // The amounts are unknown (NULL) on the events; no aggregate counts them as zero, and the days
    // are not withheld: their counts and raw totals are there.
    expect(
      await p.rows('SELECT count(*) AS n FROM billing_events WHERE normalized_credit_usage IS NULL'),
    ).toEqual([{ n: 3 }]);
    expect(
      await p.rows(
        'SELECT CAST(day AS VARCHAR) AS day, event_count, total_credit_usage, total_normalized_credit_usage AS n, unnormalized_event_count AS missing FROM daily_aggregates ORDER BY day',
      ),
    ).toEqual([
      { day: '2025-04-19', event_count: 1, total_credit_usage: '1.000000', n: null, missing: 1 },
      { day: '2025-04-22', event_count: 1, total_credit_usage: '10.000000', n: '11.000000', missing: 0 },
      { day: '2025-04-23', event_count: 3, total_credit_usage: '10.000000', n: null, missing: 2 },
    ]);
    expect(await p.rows('SELECT total_events, total_normalized_credit_usage FROM billing_insights')).toEqual([
      { total_events: 5, total_normalized_credit_usage: null },
    ]);
    expect(Object.values(await verdicts(p, 'daily_aggregates', 'reconciliation')).every(Boolean)).toBe(true);

    // The rates arrive: the affected events are normalized, the partitions released.
    await p.setRates('date,currency,rate\n2025-04-01,EUR,1.0\n2025-04-20,EUR,1.1\n2025-04-23,GBP,1.5\n');
    const fixed = await p.materialize();
    expect(fixed.status).toBe('success');
    expect(Object.values(await verdicts(p, 'billing_events', 'fx_rate_available'))).toEqual([
      true,
      true,
      true,
    ]);
    expect(await dailyNormalized(p)).toEqual([
      '2025-04-19 1.000000',
      '2025-04-22 11.000000',
      '2025-04-23 13.000000',
    ]);
  });

  it('leaves the normalized total unknown (NULL), not smaller, when the check is switched off', async () => {
    const p = await testPipeline('fx-unknown', { fx: null });
    p.env.BILLING_CHECKS_FX_RATE_AVAILABLE_ENABLED = 'false';
    await p.put(
      key('2025-04-23'),
      csv(row({ credit_usage: '1' }), row({ currency: 'EUR', credit_usage: '2' })),
    );
    expect((await p.materialize()).status).toBe('success');
    expect(
      await p.rows('SELECT total_credit_usage, total_normalized_credit_usage FROM daily_aggregates'),
    ).toEqual([{ total_credit_usage: '3.000000', total_normalized_credit_usage: null }]);
    expect(await p.rows('SELECT total_normalized_credit_usage FROM billing_insights')).toEqual([
      { total_normalized_credit_usage: null },
    ]);
    // Reconciliation accepts an unknown total only when some event really lacks an amount.
    expect(await verdicts(p, 'daily_aggregates', 'reconciliation')).toEqual({ '2025-04-23': true });
  });
  it('reports a converted amount too large for DECIMAL(18,6) instead of clipping it', async () => {
    const p = await withRates('fx-too-large', 'date,currency,rate\n2025-04-01,EUR,1.1\n');
    await p.put(key('2025-04-23'), csv(row({ currency: 'EUR', credit_usage: '999999999999' })));
    expect((await p.materialize()).status).toBe('failed');
    const [result] = await latestResults(p, 'billing_events', 'fx_rate_available');
    expect(result?.message).toBe(
      '1 event(s) cannot be normalized to USD: EUR ×1 (2025-04-23: amount too large for DECIMAL(18,6) after conversion)',
    );
  });
});

describe('rate changes', () => {
  it('recompute exactly the affected partitions and their aggregates', async () => {
    const p = await withRates('fx-change', 'date,currency,rate\n2025-04-20,EUR,1.1\n2025-04-20,GBP,1.3\n');
    for (const day of ['2025-04-21', '2025-04-22', '2025-04-23']) {
      await p.put(
        key(day),
        csv(at(day, { currency: 'EUR', credit_usage: '10' }), at(day, { credit_usage: '1' })),
      );
    }
    expect((await p.materialize()).status).toBe('success');
    expect(await dailyNormalized(p)).toEqual([
      '2025-04-21 12.000000',
      '2025-04-22 12.000000',
      '2025-04-23 12.000000',
    ]);

    // A new EUR rate from the 22nd on: the 21st keeps its amounts.
    await p.setRates('date,currency,rate\n2025-04-20,EUR,1.1\n2025-04-22,EUR,1.2\n2025-04-20,GBP,1.3\n');
    const run = await p.materialize();
    expect(run.status).toBe('success');
    const events = run.assets.find((a) => a.asset === 'billing_events');
    expect(events?.result?.partitions.map((x) => [x.partition, x.metadata?.renormalizedEvents])).toEqual([
      ['2025-04-22', 1],
      ['2025-04-23', 1],
    ]);
    const daily = run.assets.find((a) => a.asset === 'daily_aggregates');
    expect(daily?.result?.partitions.map((x) => x.partition)).toEqual(['2025-04-22', '2025-04-23']);
    expect(await dailyNormalized(p)).toEqual([
      '2025-04-21 12.000000',
      '2025-04-22 13.000000',
      '2025-04-23 13.000000',
    ]);
    expect(await p.rows('SELECT total_normalized_credit_usage FROM billing_insights')).toEqual([
      { total_normalized_credit_usage: '38.000000' },
    ]);
    expect(
      await p.rows("SELECT total_normalized_credit_usage FROM currency_aggregates WHERE currency = 'EUR'"),
    ).toEqual([{ total_normalized_credit_usage: '35.000000' }]);
    expect(
      await p.rows(
        'SELECT currency, CAST(date AS VARCHAR) AS date, old_rate, new_rate FROM fx_rate_history WHERE currency IS NOT NULL ORDER BY change_id DESC LIMIT 1',
      ),
    ).toEqual([{ currency: 'EUR', date: '2025-04-22', old_rate: null, new_rate: '1.2000000000' }]);

    // A change no event depends on (GBP) rebuilds nothing.
    await p.setRates('date,currency,rate\n2025-04-20,EUR,1.1\n2025-04-22,EUR,1.2\n2025-04-20,GBP,1.4\n');
    const quiet = await p.materialize();
    expect(quiet.assets.find((a) => a.asset === 'daily_aggregates')?.result?.changed).toBe(false);

    // Removing the rate brings the old one back.
    await p.setRates('date,currency,rate\n2025-04-20,EUR,1.1\n');
    expect((await p.materialize()).status).toBe('success');
    expect(await dailyNormalized(p)).toEqual([
      '2025-04-21 12.000000',
      '2025-04-22 12.000000',
      '2025-04-23 12.000000',
    ]);
    expect(Object.values(await verdicts(p, 'daily_aggregates', 'reconciliation')).every(Boolean)).toBe(true);
  });

  it('re-normalize earlier files when a rate changes in the same run as a new file arrives', async () => {
    // A first load skips the re-normalization scan (every event is new, at today's rates); a run
    // that also holds earlier files' events must not.
    const p = await withRates('fx-change-and-file', 'date,currency,rate\n2025-04-20,EUR,1.1\n');
    await p.put(key('2025-04-21'), csv(at('2025-04-21', { currency: 'EUR', credit_usage: '10' })));
    expect((await p.materialize()).status).toBe('success');
    expect(await dailyNormalized(p)).toEqual(['2025-04-21 11.000000']);

    await p.setRates('date,currency,rate\n2025-04-20,EUR,1.2\n');
    await p.put(key('2025-04-22'), csv(at('2025-04-22', { currency: 'EUR', credit_usage: '10' })));
    const run = await p.materialize();
    expect(run.status).toBe('success');
    const events = run.assets.find((a) => a.asset === 'billing_events');
    expect(events?.result?.partitions.map((x) => [x.partition, x.metadata?.renormalizedEvents])).toEqual([
      ['2025-04-21', 1],
      ['2025-04-22', undefined],
    ]);
    expect(await dailyNormalized(p)).toEqual(['2025-04-21 12.000000', '2025-04-22 12.000000']);
  });

  it('keeps the previous rates when a new file is invalid, and says which line is wrong', async () => {
    const p = await withRates('fx-bad-file', 'date,currency,rate\n2025-04-20,EUR,1.1\n');
    await p.put(key('2025-04-23'), csv(row({ currency: 'EUR', credit_usage: '10' })));
    expect((await p.materialize()).status).toBe('success');
    await p.setRates('date,currency,rate\n2025-04-20,EUR,1.1\n2025-04-22,EUR,abc\n');
    const run = await p.materialize();
    expect(run.status).toBe('failed');
    expect(run.error).toMatch(
      /fx_rates: .*rates\.csv was not loaded \(previous rates are kept\): line 3: rate "abc"/,
    );
    expect(statusOf(run)).toMatchObject({ fx_rates: 'failed', billing_events: 'skipped' });
    expect(await p.rows('SELECT count(*) AS n, max(rate) AS rate FROM fx_rates')).toEqual([
      { n: 1, rate: '1.1000000000' },
    ]);
  });

  it('reads the rate file from S3', async () => {
    const p = await testPipeline('fx-s3', { fx: null });
    await p.put('fx/rates.csv', 'date,currency,rate\n2025-04-01,EUR,2\n');
    p.env.BILLING_FX_SOURCE = `${p.source}fx/rates.csv`;
    await p.put(key('2025-04-23'), csv(row({ currency: 'EUR', credit_usage: '1.25' })));
    expect((await p.materialize()).status).toBe('success');
    expect(await amounts(p)).toEqual(['2025-04-23 EUR 2.500000']);
  });
});
