import { writeFile } from 'node:fs/promises';
import path from 'node:path';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import type {
  Breakdown,
  Daily,
  FxCoverage,
  LineageDay,
  SourceRows,
  Summary,
} from '../../src/server/api-types.js';
import { tmpDir } from '../support/tmp.js';
import { type ApiHarness, apiHarness } from './support.js';

/**
 * The API on multi-currency data without rates: unknown USD figures are null (never a partial sum,
 * never zero), counts and per-currency totals still answer, and /api/insights/fx says which days
 * and currencies lack rates and what to set. Expectations come from billing_events directly.
 */

const MISSING = `SELECT CAST(event_date AS VARCHAR) AS day, currency, count(*) AS events
  FROM billing_events WHERE normalized_credit_usage IS NULL GROUP BY event_date, currency ORDER BY 1, 2`;

describe('without an FX source', () => {
  let h: ApiHarness;
  beforeAll(async () => {
    h = await apiHarness('api-no-fx', {
      from: '2025-05-01',
      to: '2025-05-03',
      rowsPerDay: 300,
      fx: null,
      allowFailedRun: true,
    });
  });
  afterAll(() => h?.close());

  it('lists the currencies without rates per day and names the setting', async () => {
    const fx = (await h.get<FxCoverage>('/api/insights/fx')).body;
    const missing = await h.runtime.warehouse.all(MISSING);
    expect(missing.length).toBeGreaterThan(0);
    expect(fx).toMatchObject({
      reporting_currency: 'USD',
      source_configured: false,
      source: null,
      setting: {
        variable: 'BILLING_FX_SOURCE',
        config_key: 'fx_source',
        config_file: 'billing-pipeline.yaml',
      },
    });
    expect(fx.missing).toEqual(missing);
    expect(fx.unnormalized_events).toBe(missing.reduce((n, m) => n + Number(m.events), 0));
    expect(fx.currencies.map((c) => c.currency)).toEqual([...new Set(missing.map((m) => m.currency))].sort());
    expect(fx.currencies.map((c) => c.currency)).not.toContain('USD');
  });

  it('answers USD figures as null, and counts and per-currency totals as usual', async () => {
    const s = (await h.get<Summary>('/api/insights/summary')).body;
    const [events] = await h.runtime.warehouse.all(
      'SELECT count(*) AS n, count(*) - count(normalized_credit_usage) AS unknown FROM billing_events',
    );
    expect(s.event_count).toBe(events?.n);
    expect(s.unnormalized_events).toBe(events?.unknown);
    expect(s.spend).toEqual({ amount: null, currency: 'USD' });
    expect(s.avg_daily_spend.amount).toBeNull();
    expect(s.avg_spend_per_event.amount).toBeNull();
    const perCurrency = await h.runtime.warehouse.all(
      `SELECT currency, count(*) AS n, sum(credit_usage) AS original, sum(normalized_credit_usage) AS usd,
         count(*) - count(normalized_credit_usage) AS unknown
       FROM billing_events GROUP BY currency ORDER BY n DESC, currency`,
    );
    expect(s.by_currency).toEqual(
      perCurrency.map((r) => ({
        currency: r.currency,
        event_count: r.n,
        original: { amount: r.original, currency: r.currency },
        // USD needs no rate; the others are unknown, not zero.
        spend: { amount: r.currency === 'USD' ? r.usd : null, currency: 'USD' },
        unnormalized_events: r.unknown,
      })),
    );

    const days = (await h.get<Daily>('/api/insights/daily')).body.days;
    const perDay = await h.runtime.warehouse.all(
      `SELECT CAST(event_date AS VARCHAR) AS day, count(*) AS n, count(*) - count(normalized_credit_usage) AS unknown
       FROM billing_events GROUP BY event_date ORDER BY 1`,
    );
    expect(days.map((d) => [d.day, d.event_count, d.unnormalized_events, d.spend.amount])).toEqual(
      perDay.map((d) => [d.day, d.n, d.unknown, null]),
    );

    const regions = (await h.get<Breakdown>('/api/insights/breakdown/region')).body.rows;
    const perRegion = await h.runtime.warehouse.all(
      `SELECT region, sum(normalized_credit_usage) AS usd, count(*) - count(normalized_credit_usage) AS unknown
       FROM billing_events GROUP BY region`,
    );
    expect(regions.length).toBe(perRegion.length);
    for (const r of regions) {
      const expected = perRegion.find((p) => p.region === r.key);
      expect(r.spend.amount, String(r.key)).toBe(expected?.unknown === 0 ? expected.usd : null);
      expect(r.share_of_spend).toBeNull();
    }
    // Unknown spend never ranks; the order falls back to events.
    const unknown = regions.filter((r) => r.spend.amount === null).map((r) => r.event_count);
    expect(unknown.length).toBeGreaterThan(0);
    expect(unknown).toEqual([...unknown].sort((a, b) => b - a));
    expect(regions.slice(-unknown.length).every((r) => r.spend.amount === null)).toBe(true);
  });

  it('answers every insights, lineage and data route without a 500', async () => {
    for (const url of [
      '/api/insights/summary',
      '/api/insights/summary?from=2025-05-02&to=2025-05-02',
      '/api/insights/summary?currency=EUR',
      '/api/insights/daily',
      '/api/insights/daily?region=eu-west-1',
      ...['region', 'service_tier', 'operation_type', 'resource_type', 'currency', 'user_id'].flatMap((d) => [
        `/api/insights/breakdown/${d}`,
        `/api/insights/breakdown/${d}?from=2025-05-01&order=events`,
      ]),
      '/api/insights/options',
      '/api/insights/report',
      '/api/insights/fx',
      '/api/lineage/day?day=2025-05-01',
      '/api/lineage/rows?day=2025-05-01&currency=EUR',
      '/api/data/files',
      '/api/data/rejected-rows',
    ]) {
      expect((await h.get(url)).status, url).toBe(200);
    }
  });

  it('drills down with null USD amounts and exact per-currency totals', async () => {
    const day = (await h.get<LineageDay>('/api/lineage/day?day=2025-05-02')).body;
    expect(day.totals.spend.amount).toBeNull();
    expect(day.totals.unnormalized_events).toBeGreaterThan(0);
    const perCurrency = await h.runtime.warehouse.all(
      `SELECT currency, sum(credit_usage) AS original FROM billing_events
       WHERE event_date = DATE '2025-05-02' GROUP BY currency ORDER BY currency`,
    );
    expect(day.totals.by_currency.map((c) => [c.currency, c.original])).toEqual(
      perCurrency.map((r) => [r.currency, { amount: r.original, currency: r.currency }]),
    );
    const file = day.files[0]?.source_key ?? '';
    const rows = (
      await h.get<SourceRows>(`/api/lineage/rows?day=2025-05-02&source_key=${encodeURIComponent(file)}`)
    ).body.rows;
    for (const r of rows) {
      expect(r.spend).toEqual({ amount: r.currency === 'USD' ? r.credit_usage : null, currency: 'USD' });
    }
  });
});

describe('with an FX file that lacks some days', () => {
  let h: ApiHarness;
  beforeAll(async () => {
    // EUR rates start on 2025-05-03: EUR events of 05-01 and 05-02 have no rate.
    const fx = path.join(await tmpDir('fx-partial'), 'fx.csv');
    await writeFile(
      fx,
      'date,currency,rate\n2025-05-03,EUR,1.0850000000\n2000-01-01,GBP,1.2700000000\n2000-01-01,JPY,0.0066500000\n',
    );
    h = await apiHarness('api-fx-partial', {
      from: '2025-05-01',
      to: '2025-05-04',
      rowsPerDay: 300,
      fx,
      allowFailedRun: true,
    });
  });
  afterAll(() => h?.close());

  it('flags exactly the days without a rate; the other days keep their USD figures', async () => {
    const fx = (await h.get<FxCoverage>('/api/insights/fx')).body;
    expect(fx.source_configured).toBe(true);
    expect(fx.missing.map((m) => [m.day, m.currency])).toEqual([
      ['2025-05-01', 'EUR'],
      ['2025-05-02', 'EUR'],
    ]);
    expect(fx.missing).toEqual(await h.runtime.warehouse.all(MISSING));

    const days = (await h.get<Daily>('/api/insights/daily')).body.days;
    const perDay = await h.runtime.warehouse.all(
      `SELECT CAST(event_date AS VARCHAR) AS day, count(*) AS n, sum(normalized_credit_usage) AS usd,
         count(*) - count(normalized_credit_usage) AS unknown
       FROM billing_events GROUP BY event_date ORDER BY 1`,
    );
    expect(days.map((d) => [d.day, d.event_count, d.spend.amount])).toEqual(
      perDay.map((d) => [d.day, d.n, d.unknown === 0 ? d.usd : null]),
    );
    expect(days.filter((d) => d.spend.amount === null).map((d) => d.day)).toEqual([
      '2025-05-01',
      '2025-05-02',
    ]);

    expect((await h.get<Summary>('/api/insights/summary')).body.spend.amount).toBeNull();
    const ranged = (await h.get<Summary>('/api/insights/summary?from=2025-05-03&to=2025-05-04')).body;
    const [known] = await h.runtime.warehouse.all(
      "SELECT sum(normalized_credit_usage) AS usd FROM billing_events WHERE event_date >= DATE '2025-05-03'",
    );
    expect(ranged.spend).toEqual({ amount: known?.usd, currency: 'USD' });
    expect(ranged.unnormalized_events).toBe(0);
  });
});
