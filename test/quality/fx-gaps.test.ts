import { writeFile } from 'node:fs/promises';
import path from 'node:path';
import { describe, expect, it } from 'vitest';
import { csv, row, type TestPipeline, testPipeline } from '../support/pipeline.js';
import { seed } from '../web/support.js';
import { cli, cliEnv, latestResults, runEvents, statusOf } from './support.js';

const FROM = '2025-03-01';
const TO = '2025-03-05';
/** GBP has rates from this day on only: earlier GBP events cannot be normalized. */
const GBP_FROM = '2025-03-04';
const RATES = { EUR: '1.0850000000', JPY: '0.0066500000', GBP: '1.2700000000' };

/** The reporting-currency amount of each event, computed here from the known rates, not by the pipeline. */
const EXPECTED_NORMALIZED = `round(credit_usage * CASE currency WHEN 'USD' THEN CAST(1 AS DECIMAL(20,10))
    WHEN 'EUR' THEN CAST(${RATES.EUR} AS DECIMAL(20,10)) WHEN 'JPY' THEN CAST(${RATES.JPY} AS DECIMAL(20,10))
    WHEN 'GBP' THEN CAST(${RATES.GBP} AS DECIMAL(20,10)) END, 6)`;
const MISSING_RATE = `(currency = 'GBP' AND event_date < DATE '${GBP_FROM}')`;

async function gapPipeline(name: string): Promise<TestPipeline> {
  const p = await testPipeline(name, { fx: null });
  const file = path.join(p.home, 'rates.csv');
  await writeFile(
    file,
    `date,currency,rate\n2000-01-01,EUR,${RATES.EUR}\n2000-01-01,JPY,${RATES.JPY}\n${GBP_FROM},GBP,${RATES.GBP}\n`,
  );
  p.env.BILLING_FX_SOURCE = file;
  return p;
}

const text = (v: unknown) => (v === null || v === undefined ? null : String(v));

describe('a gap in the FX rates', () => {
  it('holds back only the normalized figures that need the missing rate; everything else materializes', async () => {
    const p = await gapPipeline('fx-gap');
    await seed(p, { from: FROM, to: TO, rowsPerDay: 150, dirtyRate: 0, filesPerDay: 1 });
    const run = await p.materialize();
    // The check fails at error severity, so the run says it failed its checks ...
    expect(run.status).toBe('failed');
    // ... but nothing was withheld or skipped.
    for (const [asset, status] of Object.entries(statusOf(run))) expect(status, asset).toBe('success');

    // Per event day, independently of the aggregates: counts, raw totals and expected normalized sums.
    const expected = await p.rows(`SELECT CAST(event_date AS VARCHAR) AS day, count(*) AS event_count,
        count(*) FILTER (WHERE success) AS success_count, count(DISTINCT user_id) AS unique_users,
        CAST(sum(credit_usage) AS VARCHAR) AS total, CAST(sum(${EXPECTED_NORMALIZED}) AS VARCHAR) AS normalized,
        count(*) FILTER (WHERE ${MISSING_RATE}) AS missing
      FROM billing_events GROUP BY event_date ORDER BY event_date`);
    const daily = await p.rows(`SELECT CAST(day AS VARCHAR) AS day, event_count, success_count, unique_users,
        CAST(total_credit_usage AS VARCHAR) AS total, CAST(total_normalized_credit_usage AS VARCHAR) AS normalized,
        unnormalized_event_count AS missing
      FROM daily_aggregates ORDER BY day`);
    expect(daily.map((d) => d.day)).toEqual(expected.map((e) => e.day));
    const gapDays = expected.filter((e) => Number(e.missing) > 0).map((e) => e.day);
    expect(gapDays.length).toBeGreaterThanOrEqual(3);
    expect(expected.some((e) => Number(e.missing) === 0)).toBe(true);
    expect(daily).toEqual(
      expected.map((e) => ({
        ...e,
        // NULL exactly where some event lacks a rate; the exact sum everywhere else.
        normalized: Number(e.missing) > 0 ? null : e.normalized,
      })),
    );

    // Per region: the same rule per group.
    const regions = await p.rows(`SELECT r.region, r.event_count = e.n AS counts_match,
        CAST(r.total_normalized_credit_usage AS VARCHAR) AS normalized, e.missing, CAST(e.normalized AS VARCHAR) AS expected
      FROM region_aggregates r JOIN (SELECT region, count(*) AS n, count(*) FILTER (WHERE ${MISSING_RATE}) AS missing,
          sum(${EXPECTED_NORMALIZED}) AS normalized FROM billing_events GROUP BY region) e
        ON r.region IS NOT DISTINCT FROM e.region`);
    expect(regions.length).toBeGreaterThan(1);
    for (const r of regions) {
      expect(r.counts_match, String(r.region)).toBe(true);
      expect(r.normalized, String(r.region)).toBe(Number(r.missing) > 0 ? null : text(r.expected));
    }

    // Per currency: complete, in each currency's own units; only GBP's normalized total is unknown.
    const currencies =
      await p.rows(`SELECT c.currency, c.event_count, CAST(c.total_credit_usage AS VARCHAR) AS total,
        c.total_normalized_credit_usage IS NULL AS unknown, e.n, CAST(e.total AS VARCHAR) AS expected_total
      FROM currency_aggregates c JOIN (SELECT currency, count(*) AS n, sum(credit_usage) AS total
        FROM billing_events GROUP BY currency) e USING (currency) ORDER BY c.currency`);
    expect(currencies.map((c) => [c.currency, c.unknown])).toEqual([
      ['EUR', false],
      ['GBP', true],
      ['JPY', false],
      ['USD', false],
    ]);
    for (const c of currencies) {
      expect(c.event_count).toBe(c.n);
      expect(c.total).toBe(c.expected_total);
    }

    // Each failing partition's result names its currency with the right count ...
    const byPartition =
      await p.rows(`SELECT CAST(make_date(year, month, day) AS VARCHAR) AS partition, count(*) AS n
      FROM billing_events WHERE ${MISSING_RATE} GROUP BY 1 ORDER BY 1`);
    const results = (await latestResults(p, 'billing_events', 'fx_rate_available')).filter((r) => !r.passed);
    expect(results.map((r) => [r.partition, r.severity, r.observed])).toEqual(
      byPartition.map((b) => [b.partition, 'error', String(b.n)]),
    );
    for (const [i, r] of results.entries()) {
      expect(r.message).toMatch(
        new RegExp(
          `^${byPartition[i]?.n} event\\(s\\) cannot be normalized to USD: GBP ×${byPartition[i]?.n} `,
        ),
      );
      expect(r.message).toContain(`add those rates to the FX file ${p.env.BILLING_FX_SOURCE}`);
    }
    // ... and the run's error names every affected day with its count, not just the first.
    const perDay = await p.rows(`SELECT CAST(event_date AS VARCHAR) AS day, count(*) AS n FROM billing_events
      WHERE ${MISSING_RATE} GROUP BY event_date ORDER BY event_date`);
    const total = perDay.reduce((n, d) => n + Number(d.n), 0);
    const consecutive = perDay.every(
      (d, i) => i === 0 || Date.parse(String(d.day)) - Date.parse(String(perDay[i - 1]?.day)) === 86_400_000,
    );
    expect(consecutive).toBe(true);
    expect(run.error).toContain(
      `${total} event(s) cannot be normalized to USD: GBP on ${perDay[0]?.day}..${perDay.at(-1)?.day} ×${total}`,
    );
    expect(run.error).not.toContain('named by');
  });
});

describe('no FX source configured', () => {
  it('loads and aggregates multi-currency data, leaves normalized figures NULL and says so, without failing', async () => {
    // The embedded CLI (with a PostgreSQL URL it would queue the run for workers).
    const p = await testPipeline('fx-none', { fx: null, backend: 'duckdb' });
    await seed(p, { from: FROM, to: TO, rowsPerDay: 100, dirtyRate: 0, filesPerDay: 1 });
    const result = await cli(cliEnv(p), 'materialize');
    expect(result.code).toBe(0);
    expect(result.stdout).toMatch(/^run \S+ success, \d+ row\(s\) loaded/);
    const counts = await p.rows(
      "SELECT currency, count(*) AS n FROM billing_events WHERE currency <> 'USD' GROUP BY currency ORDER BY currency",
    );
    expect(counts.map((c) => c.currency)).toEqual(['EUR', 'GBP', 'JPY']);
    const list = counts.map((c) => `${c.currency} ×${c.n}`).join(', ');
    const notice = `3 currencies have no FX rates to USD (${list})`;
    expect(result.stderr).toContain(`notice: ${notice}`);
    expect(result.stderr).toContain('set BILLING_FX_SOURCE (or fx_source in billing-pipeline.yaml)');
    expect(result.stderr).not.toContain('named by');
    expect(result.stderr).not.toContain('error:');

    // The run's log carries the notice; the check is a warn notice, not an error.
    const [latest] = await p.rows('SELECT run_id, status FROM runs ORDER BY created_at DESC LIMIT 1');
    expect(latest?.status).toBe('success');
    const events = await runEvents(p, String(latest?.run_id));
    expect(events.some((e) => String(e.message).includes(notice))).toBe(true);
    const results = await latestResults(p, 'billing_events', 'fx_rate_available');
    expect(new Set(results.map((r) => r.severity))).toEqual(new Set(['warn']));
    expect(results.find((r) => !r.passed)?.message).toContain('no FX source is configured');

    // Everything is there in original currencies; normalized totals are NULL wherever a non-USD event is.
    expect(
      await p.rows(`SELECT currency, event_count = n AS complete, total_normalized_credit_usage IS NULL AS unknown
        FROM currency_aggregates JOIN (SELECT currency, count(*) AS n FROM billing_events GROUP BY currency) e
        USING (currency) ORDER BY currency`),
    ).toEqual([
      { currency: 'EUR', complete: true, unknown: true },
      { currency: 'GBP', complete: true, unknown: true },
      { currency: 'JPY', complete: true, unknown: true },
      { currency: 'USD', complete: true, unknown: false },
    ]);
    const days = await p.rows(`SELECT d.day, d.total_normalized_credit_usage IS NULL AS unknown,
        d.event_count = e.n AS counted, e.foreign > 0 AS has_foreign
      FROM daily_aggregates d JOIN (SELECT event_date, count(*) AS n, count(*) FILTER (WHERE currency <> 'USD') AS foreign
        FROM billing_events GROUP BY event_date) e ON e.event_date = d.day`);
    expect(days.length).toBeGreaterThanOrEqual(5);
    for (const d of days) expect([d.unknown, d.counted], String(d.day)).toEqual([d.has_foreign, true]);
  });

  it('works as before on single-currency data: no notice, normalized amounts known', async () => {
    // The embedded CLI (with a PostgreSQL URL it would queue the run for workers).
    const p = await testPipeline('fx-none-usd', { fx: null, backend: 'duckdb' });
    await p.put('year=2025/month=03/day=01/a.csv', csv(row({ timestamp: '2025-03-01T10:00:00Z' })));
    const result = await cli(cliEnv(p), 'materialize');
    expect(result.code).toBe(0);
    expect(result.stderr).not.toContain('notice:');
    expect(await p.rows('SELECT total_normalized_credit_usage AS n FROM daily_aggregates')).toEqual([
      { n: '1.500000' },
    ]);
  });
});

describe('the stored rates', () => {
  const amounts = (p: TestPipeline) =>
    p.rows(
      'SELECT source_key, source_line, CAST(normalized_credit_usage AS VARCHAR) AS n FROM billing_events ORDER BY 1, 2',
    );

  it('stay, with the amounts made from them, when a run has no FX source; a new day uses them', async () => {
    const p = await testPipeline('fx-unset-keeps');
    await seed(p, { from: FROM, to: '2025-03-02', rowsPerDay: 50, dirtyRate: 0, filesPerDay: 1 });
    expect((await p.materialize()).status).toBe('success');
    const rates = await p.rows('SELECT * FROM fx_rates ORDER BY currency, date');
    expect(rates.length).toBe(3);
    const before = await amounts(p);
    const daily = await p.rows('SELECT * FROM daily_aggregates ORDER BY day');
    expect(daily.every((d) => d.total_normalized_credit_usage !== null)).toBe(true);

    // A shell without the variable.
    delete p.env.BILLING_FX_SOURCE;
    const run = await p.materialize();
    expect(run.status).toBe('success');
    expect(await p.rows('SELECT * FROM fx_rates ORDER BY currency, date')).toEqual(rates);
    expect(await amounts(p)).toEqual(before);
    expect(await p.rows('SELECT * FROM daily_aggregates ORDER BY day')).toEqual(daily);
    const events = await runEvents(p, run.runId);
    expect(events.map((e) => String(e.message))).toContain(
      `no FX source is configured (BILLING_FX_SOURCE (or fx_source in billing-pipeline.yaml)): keeping the 3 stored rate(s) from ${path.join(p.home, 'fx-rates.csv')}`,
    );

    await p.put(
      'year=2025/month=03/day=09/eur.csv',
      csv(row({ timestamp: '2025-03-09T10:00:00Z', currency: 'EUR', credit_usage: '10' })),
    );
    expect((await p.materialize()).status).toBe('success');
    expect(
      await p.rows(
        "SELECT total_normalized_credit_usage AS n FROM daily_aggregates WHERE day = DATE '2025-03-09'",
      ),
    ).toEqual([{ n: '10.850000' }]);
  });

  it('are replaced only by a configured file; an empty or invalid one is refused and they stay', async () => {
    const p = await testPipeline('fx-refused');
    await p.put(
      'year=2025/month=03/day=01/eur.csv',
      csv(row({ timestamp: '2025-03-01T10:00:00Z', currency: 'EUR', credit_usage: '10' })),
    );
    expect((await p.materialize()).status).toBe('success');
    const rates = await p.rows('SELECT * FROM fx_rates ORDER BY currency, date');
    const file = path.join(p.home, 'other.csv');
    p.env.BILLING_FX_SOURCE = file;
    for (const [body, reason] of [
      ['', /other\.csv is empty; expected a header date,currency,rate/],
      [
        'date,currency,rate\n2025-03-01,EUR,-1\n',
        /other\.csv was not loaded \(previous rates are kept\): line 2/,
      ],
    ] as const) {
      await writeFile(file, body);
      const run = await p.materialize();
      expect(run.status).toBe('failed');
      expect(statusOf(run)).toMatchObject({ fx_rates: 'failed', billing_events: 'skipped' });
      expect(run.error).toMatch(reason);
      expect(await p.rows('SELECT * FROM fx_rates ORDER BY currency, date')).toEqual(rates);
      expect(await p.rows('SELECT normalized_credit_usage AS n FROM billing_events')).toEqual([
        { n: '10.850000' },
      ]);
    }
    // A valid configured file does replace them.
    await writeFile(file, 'date,currency,rate\n2025-03-01,EUR,2\n');
    expect((await p.materialize()).status).toBe('success');
    expect(await p.rows('SELECT normalized_credit_usage AS n FROM billing_events')).toEqual([
      { n: '20.000000' },
    ]);
  });
});
