import { writeFile } from 'node:fs/promises';
import path from 'node:path';
import { afterAll, afterEach, beforeAll, describe, expect, it, vi } from 'vitest';
import { fromMicros, toMicros } from '../../src/billing/budgets/decimal.js';
import { forecastPeriod } from '../../src/billing/budgets/forecast.js';
import { type InvoicePreview, invoicePreview } from '../../src/billing/invoice/invoice-preview.js';
import type { Runtime } from '../../src/runtime.js';
import { type App, createApp } from '../../src/server/app.js';
import { startServe } from '../automation/daemon-support.js';
import { cli } from '../support/cli.js';
import { csv, row, type TestPipeline, testPipeline } from '../support/pipeline.js';
import { tmpDir } from '../support/tmp.js';
import { inProcessLauncher, seed } from '../web/support.js';

/**
 * The invoice preview on generated data in four currencies, with a JPY rate gap (no JPY rate before
 * 2025-05-05, a new one from 2025-05-09) and bad rows: every line must reconcile exactly with an
 * independent query on billing_events. Data runs 2025-04-20..2025-05-12: April is closed, May open.
 */

const FX = [
  'date,currency,rate',
  '2000-01-01,EUR,1.0850000000',
  '2000-01-01,GBP,1.2700000000',
  '2025-05-05,JPY,0.0066500000',
  '2025-05-09,JPY,0.0067000000',
].join('\n');

/** A hand-made user billed in three currencies, with a JPY event inside the gap and a bad row. */
const MIXED_USER = '4242';
const mixed = (day: string, overrides: Partial<Record<string, string>>) =>
  row({ user_id: MIXED_USER, timestamp: `${day}T12:00:00Z`, invoice_id: 'INV-4242', ...overrides });

/** Per user and line, straight from billing_events: the sum, the known count, the count. */
const EXPECTED_LINES = `SELECT CAST(user_id AS VARCHAR) AS user_id, service_tier, resource_type, operation_type,
    count(*) AS events, count(normalized_credit_usage) AS known,
    CAST(sum(normalized_credit_usage) AS VARCHAR) AS known_sum
  FROM billing_events WHERE event_date BETWEEN DATE '2025-05-01' AND DATE '2025-05-31'
  GROUP BY ALL ORDER BY ALL`;
const EXPECTED_ORIGINALS = `SELECT CAST(user_id AS VARCHAR) AS user_id, service_tier, resource_type, operation_type, currency,
    CAST(sum(credit_usage) AS VARCHAR) AS amount
  FROM billing_events WHERE event_date BETWEEN DATE '2025-05-01' AND DATE '2025-05-31'
  GROUP BY ALL ORDER BY ALL`;
const EXPECTED_TOTALS = `SELECT CAST(user_id AS VARCHAR) AS user_id, count(*) AS events,
    count(*) - count(normalized_credit_usage) AS unknown, CAST(sum(normalized_credit_usage) AS VARCHAR) AS known_sum
  FROM billing_events WHERE event_date BETWEEN DATE '2025-05-01' AND DATE '2025-05-31'
  GROUP BY ALL ORDER BY ALL`;

const same = (a: string | null | undefined, b: string | null | undefined) =>
  a === null || a === undefined || b === null || b === undefined ? a === b : toMicros(a) === toMicros(b);

let pipeline: TestPipeline;
let home: string;

beforeAll(async () => {
  const fxDir = await tmpDir('invoice-fx');
  const fxPath = path.join(fxDir, 'rates.csv');
  await writeFile(fxPath, `${FX}\n`);
  pipeline = await testPipeline('invoice', { fx: fxPath });
  home = path.join(pipeline.home, 'state');
  await seed(pipeline, {
    from: '2025-04-20',
    to: '2025-05-12',
    rowsPerDay: 150,
    dirtyRate: 0.03,
    filesPerDay: 1,
  });
  await pipeline.put(
    'year=2025/month=05/day=03/manual.csv',
    csv(
      mixed('2025-05-03', { currency: 'USD', credit_usage: '10.250000', service_tier: 'premium' }),
      mixed('2025-05-03', { currency: 'EUR', credit_usage: '3.333333', service_tier: 'premium' }),
      mixed('2025-05-03', { currency: 'JPY', credit_usage: '1500', service_tier: 'standard' }),
      mixed('2025-05-03', { credit_usage: 'not-a-number' }),
    ),
  );
  await pipeline.put(
    'year=2025/month=05/day=10/manual.csv',
    csv(
      mixed('2025-05-10', { currency: 'JPY', credit_usage: '2000', service_tier: 'premium' }),
      mixed('2025-05-10', { currency: 'EUR', credit_usage: '1.000001', service_tier: 'premium' }),
    ),
  );
  // The JPY gap fails the fx_rate_available check, and with it the run; the data loads all the same.
  const summary = await pipeline.materialize();
  expect(['success', 'failed']).toContain(summary.status);
});

describe('invoice preview (query and API)', () => {
  let runtime: Runtime;
  let app: App;
  beforeAll(async () => {
    runtime = await pipeline.open();
    app = createApp({ runtime, launcher: inProcessLauncher(runtime) });
  });
  afterAll(() => runtime?.close());

  const preview = (user: string, month: string) =>
    invoicePreview(runtime.warehouse, { user, month }, { reportingCurrency: 'USD' });

  it('reconciles every line of every user with billing_events, exactly', async () => {
    const [lines, originals, totals] = await Promise.all([
      runtime.warehouse.all<Record<string, string | number | null>>(EXPECTED_LINES),
      runtime.warehouse.all<Record<string, string | null>>(EXPECTED_ORIGINALS),
      runtime.warehouse.all<{ user_id: string; events: number; unknown: number; known_sum: string | null }>(
        EXPECTED_TOTALS,
      ),
    ]);
    expect(totals.length).toBeGreaterThan(20);
    let complete = 0;
    let incomplete = 0;
    for (const t of totals) {
      const p = await preview(t.user_id, '2025-05');
      const expectedLines = lines.filter((l) => l.user_id === t.user_id);
      expect(p.lines.map((l) => [l.serviceTier, l.resourceType, l.operationType, l.events])).toEqual(
        expectedLines.map((l) => [l.service_tier, l.resource_type, l.operation_type, l.events]),
      );
      for (const [i, line] of p.lines.entries()) {
        const e = expectedLines[i];
        const unknown = Number(e?.events) - Number(e?.known);
        expect(line.unnormalizedEvents).toBe(unknown);
        // A line with an event without rate is unknown, never the smaller sum of the rest.
        if (unknown > 0) expect(line.amount).toBeNull();
        else expect(same(line.amount, e?.known_sum as string), `${t.user_id} line ${i}`).toBe(true);
        const expectedOriginal = originals
          .filter(
            (o) =>
              o.user_id === t.user_id &&
              o.service_tier === line.serviceTier &&
              o.resource_type === line.resourceType &&
              o.operation_type === line.operationType,
          )
          .map((o) => [o.currency, o.amount]);
        expect(line.original.map((o) => [o.currency, o.amount])).toEqual(
          expectedOriginal.map(([c, a]) => [c, fromMicros(toMicros(a ?? ''))]),
        );
      }
      expect(p.lines.reduce((n, l) => n + l.events, 0)).toBe(t.events);
      expect(p.total.unknownEvents).toBe(t.unknown);
      expect(p.total.complete).toBe(t.unknown === 0);
      if (t.unknown === 0) {
        complete += 1;
        const lineSum = p.lines.reduce((m, l) => m + toMicros(l.amount ?? 'x'), 0n);
        expect(fromMicros(lineSum)).toBe(p.total.amount);
        expect(same(p.total.amount, t.known_sum ?? '0')).toBe(true);
      } else {
        incomplete += 1;
        expect(p.total.amount).toBeNull();
        expect(p.warnings.join('\n')).toMatch(/no USD amount \(no FX rate\)/);
      }
    }
    // The data must exercise both sides, or the checks above prove little.
    expect(complete).toBeGreaterThan(0);
    expect(incomplete).toBeGreaterThan(0);
  });

  it('lists the rates applied, warns about the gap, and forecasts the open month', async () => {
    const p = await preview(MIXED_USER, '2025-05');
    expect(p.asOf).toBe('2025-05-12');
    expect(p.currency).toBe('USD');
    expect(p.lines).toEqual([
      {
        serviceTier: 'premium',
        resourceType: 'vm',
        operationType: 'compute',
        events: 4,
        // 10.25 USD + round(3.333333 × 1.085, 6) + round(1.000001 × 1.085, 6) + 2000 JPY × 0.0067 (rate of 05-09)
        amount: '28.351667',
        unnormalizedEvents: 0,
        original: [
          { currency: 'EUR', amount: '4.333334' },
          { currency: 'JPY', amount: '2000.000000' },
          { currency: 'USD', amount: '10.250000' },
        ],
      },
      {
        serviceTier: 'standard',
        resourceType: 'vm',
        operationType: 'compute',
        events: 1,
        amount: null,
        unnormalizedEvents: 1,
        original: [{ currency: 'JPY', amount: '1500.000000' }],
      },
    ]);
    expect(p.total).toEqual({ amount: null, unknownEvents: 1, complete: false });
    expect(p.rates).toEqual([
      { currency: 'EUR', rateDate: '2000-01-01', rate: '1.0850000000' },
      { currency: 'JPY', rateDate: '2025-05-09', rate: '0.0067000000' },
    ]);
    expect(p.warnings.join('\n')).toMatch(/no FX rate for JPY on 1 day\(s\) from 2025-05-03/);
    // Unknown days are estimated by the forecast, never taken as zero: its total is B's forecast of the
    // user's daily series with 2025-05-03 unknown.
    const days = await runtime.warehouse.all<{ day: string; amount: string | null }>(
      `SELECT CAST(day AS VARCHAR) AS day, CAST(total_normalized_credit_usage AS VARCHAR) AS amount
       FROM user_daily_aggregates WHERE user_id = ${MIXED_USER} ORDER BY day`,
    );
    expect(days).toEqual([
      { day: '2025-05-03', amount: null },
      { day: '2025-05-10', amount: expect.any(String) },
    ]);
    const expected = forecastPeriod({
      history: days,
      periodStart: '2025-05-01',
      periodEnd: '2025-05-31',
      asOf: '2025-05-12',
    });
    expect(expected.unknownDays).toEqual(['2025-05-03']);
    expect(p.forecast).toEqual({ total: expected.total, low: expected.low, high: expected.high });
  });

  it('has no forecast for a closed month, and no lines (with a warning) for an unknown user', async () => {
    const april = await preview(MIXED_USER, '2025-04');
    expect(april).toMatchObject({ lines: [], forecast: null, asOf: '2025-04-30' });
    expect(april.warnings).toEqual(['user 4242 has no events in 2025-04']);
    const [busiest] = await runtime.warehouse.all<{ user_id: string }>(
      `SELECT CAST(user_id AS VARCHAR) AS user_id FROM billing_events WHERE event_date < DATE '2025-05-01'
       GROUP BY user_id ORDER BY count(*) DESC, user_id LIMIT 1`,
    );
    const closed = await preview(busiest?.user_id ?? '', '2025-04');
    expect(closed.lines.length).toBeGreaterThan(0);
    expect(closed.forecast).toBeNull();
    const nobody = await preview('77', '2025-05');
    expect(nobody).toMatchObject({
      lines: [],
      total: { amount: '0.000000', unknownEvents: 0, complete: true },
    });
    expect(nobody.warnings).toEqual(['user 77 has no events in 2025-05']);
    const future = await preview(MIXED_USER, '2026-01');
    expect(future).toMatchObject({ asOf: null, forecast: null, lines: [] });
  });

  it('answers GET /api/invoice-preview as JSON and as CSV with a total row', async () => {
    const direct = await preview(MIXED_USER, '2025-05');
    const res = await app.request(`/api/invoice-preview?user=${MIXED_USER}&month=2025-05`);
    expect(res.status).toBe(200);
    expect((await res.json()) as InvoicePreview).toEqual(direct);

    const csvRes = await app.request(`/api/invoice-preview?user=${MIXED_USER}&month=2025-05&format=csv`);
    expect(csvRes.status).toBe(200);
    expect(csvRes.headers.get('content-type')).toMatch(/^text\/csv/);
    expect(csvRes.headers.get('content-disposition')).toContain('invoice-preview-4242-2025-05.csv');
    expect((await csvRes.text()).split('\n')).toEqual([
      'row,user,month,service_tier,resource_type,operation_type,events,amount,currency,unnormalized_events,original_EUR,original_JPY,original_USD',
      'line,4242,2025-05,premium,vm,compute,4,28.351667,USD,0,4.333334,2000.000000,10.250000',
      'line,4242,2025-05,standard,vm,compute,1,,USD,1,,1500.000000,',
      'total,4242,2025-05,,,,5,,USD,1,4.333334,3500.000000,10.250000',
      '',
    ]);
  });

  it('refuses a bad user or month with 400 and says what is expected', async () => {
    for (const [query, pattern] of [
      ['user=abc&month=2025-05', /user "abc" is not a user id/],
      ['user=4242&month=2025-13', /month "2025-13" is not a month like 2026-11/],
      ['user=4242&month=May', /month "May" is not a month/],
      ['month=2025-05', /user is required/],
      ['user=4242', /month is required/],
    ] as const) {
      const res = await app.request(`/api/invoice-preview?${query}`);
      expect(res.status, query).toBe(400);
      const body = (await res.json()) as { error: { code: string; message: string } };
      expect(body.error.code).toBe('invalid_request');
      expect(body.error.message).toMatch(pattern);
    }
    expect((await app.request('/api/invoice-preview?user=1&month=2025-05&format=xml')).status).toBe(400);
  });
});

describe('billing-pipeline invoice-preview', () => {
  afterEach(() => {
    vi.restoreAllMocks();
  });
  const run = (...args: string[]) => cli(pipeline.env, 'invoice-preview', '--home', home, ...args);

  it('prints the JSON the API returns, and CSV', async () => {
    const json = await run('--user', MIXED_USER, '--month', '2025-05', '--format', 'json');
    expect(json.code).toBe(0);
    const body = JSON.parse(json.stdout) as InvoicePreview;
    expect(body.lines.map((l) => l.amount)).toEqual(['28.351667', null]);
    expect(body.total.complete).toBe(false);
    expect(json.stderr).toMatch(/warning: no FX rate for JPY/);
    const asCsv = await run('--user', MIXED_USER, '--month', '2025-05', '--format', 'csv');
    expect(asCsv.code).toBe(0);
    expect(asCsv.stdout.split('\n')[3]).toBe('total,4242,2025-05,,,,5,,USD,1,4.333334,3500.000000,10.250000');
  });

  it('prints an aligned table with the total, forecast band and rates', async () => {
    const table = await run('--user', MIXED_USER, '--month', '2025-05');
    expect(table.code).toBe(0);
    const lines = table.stdout.split('\n');
    expect(lines[0]).toBe('Invoice preview: user 4242, 2025-05 (data to 2025-05-12)');
    const header = lines[2] ?? '';
    expect(header).toMatch(/^service tier\s+resource type\s+operation\s+events\s+amount \(USD\)/);
    const premium = lines.find((l) => l.startsWith('premium')) ?? '';
    expect(premium).toMatch(/28\.351667 USD/);
    // Amounts end in the same column: right-aligned.
    const standard = lines.find((l) => l.startsWith('standard')) ?? '';
    expect(standard.indexOf('unknown') + 'unknown'.length).toBe(premium.indexOf('USD') + 3);
    expect(table.stdout).toMatch(/^Total: {4}unknown USD \(1 of 5 events have no FX rate\)$/m);
    expect(table.stdout).toMatch(/^Forecast: [\d,.]+ USD \[[\d,.]+–[\d,.]+ USD\] for the whole month$/m);
    expect(table.stdout).toContain(
      '1 EUR = 1.0850000000 USD (rate of 2000-01-01); 1 JPY = 0.0067000000 USD (rate of 2025-05-09)',
    );
    expect(table.stdout).toMatch(/^warning: no FX rate for JPY/m);
  });

  it('exits 2 on bad flags, naming the flag', async () => {
    const bad = await run('--user', 'x1', '--month', '2025-05');
    expect(bad.code).toBe(2);
    expect(bad.stderr).toMatch(/--user: user "x1" is not a user id/);
    const month = await run('--user', '1', '--month', '2025-5');
    expect(month.code).toBe(2);
    expect(month.stderr).toMatch(/--month: month "2025-5" is not a month/);
    const format = await run('--user', '1', '--month', '2025-05', '--format', 'xml');
    expect(format.code).toBe(2);
    expect(format.stderr).toMatch(/--format must be one of table, csv, json/);
  });
});

describe('billing-pipeline invoice-preview with a daemon running', () => {
  it('reads through the daemon and prints what the API of the daemon answers', async () => {
    const daemon = await startServe({ ...pipeline.env, BILLING_SOURCE: pipeline.source, BILLING_HOME: home });
    try {
      const viaCli = await cli(
        pipeline.env,
        'invoice-preview',
        '--home',
        home,
        '--user',
        MIXED_USER,
        '--month',
        '2025-05',
        '--format',
        'json',
      );
      expect(viaCli.code, viaCli.stderr).toBe(0);
      const viaApi = await daemon.api<InvoicePreview>(
        'GET',
        `/api/invoice-preview?user=${MIXED_USER}&month=2025-05`,
      );
      expect(JSON.parse(viaCli.stdout)).toEqual(viaApi);
      expect(viaApi.lines.map((l) => l.amount)).toEqual(['28.351667', null]);
    } finally {
      await daemon.stop();
    }
  });
});
