import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import type { Breakdown, Daily, LineageDay, SourceRows, Summary } from '../../src/server/api-types.js';
import { type ApiHarness, apiHarness } from './support.js';

type Row = Record<string, string | number | null>;

/** Exact decimal addition on strings (6 fraction digits), so the test never trusts floats either. */
const micros = (value: unknown) => {
  const [int = '0', frac = ''] = String(value).replace('-', '').split('.');
  const n = BigInt(int) * 1_000_000n + BigInt(`${frac}000000`.slice(0, 6));
  return String(value).startsWith('-') ? -n : n;
};
const total = (rows: Row[], column = 'total_credit_usage') =>
  rows.reduce((n, r) => n + micros(r[column]), 0n);
/** The exact sum of `Money` amounts, all of which must be known and in `currency`. */
const spendOf = (items: { spend: { amount: string | null; currency: string } }[], currency = 'USD') =>
  items.reduce((n, i) => {
    expect(i.spend.currency).toBe(currency);
    expect(i.spend.amount).not.toBeNull();
    return n + micros(i.spend.amount);
  }, 0n);

describe('insights, data and lineage API', () => {
  let h: ApiHarness;
  beforeAll(async () => {
    h = await apiHarness('api-insights', { from: '2025-05-01', to: '2025-05-07', rowsPerDay: 400 });
  });
  afterAll(() => h?.close());

  it('totals from the aggregates equal totals from the events, in USD as exact decimal strings', async () => {
    const all = (await h.get<Summary>('/api/insights/summary')).body;
    expect(all.source).toBe('aggregates');
    expect(all.currency).toBe('USD');
    expect(all.spend).toEqual({ amount: expect.stringMatching(/^-?\d+\.\d{6}$/), currency: 'USD' });
    const [events] = await h.runtime.warehouse.all(
      'SELECT sum(normalized_credit_usage) AS s, count(*) AS n, count(DISTINCT currency) AS currencies FROM billing_events',
    );
    expect(events?.currencies).toBeGreaterThan(1);
    expect(all.spend.amount).toBe(events?.s);
    expect(all.event_count).toBe(events?.n);
    expect(all.unnormalized_events).toBe(0);

    const days = (await h.get<Daily>('/api/insights/daily')).body;
    expect(days.currency).toBe('USD');
    expect(micros(all.spend.amount)).toBe(spendOf(days.days));

    // Per currency: each currency's own exact total, labelled with its code; never one sum of them.
    const perCurrency = await h.runtime.warehouse.all(
      'SELECT currency, count(*) AS n, sum(credit_usage) AS original, sum(normalized_credit_usage) AS usd FROM billing_events GROUP BY currency ORDER BY n DESC, currency',
    );
    expect(all.by_currency).toEqual(
      perCurrency.map((r) => ({
        currency: r.currency,
        event_count: r.n,
        original: { amount: r.original, currency: r.currency },
        spend: { amount: r.usd, currency: 'USD' },
        unnormalized_events: 0,
      })),
    );
    expect(JSON.stringify(all)).not.toContain('total_credit_usage');
  });

  it('filters by date range and dimensions, and the breakdown agrees with the filtered totals', async () => {
    const ranged = (await h.get<Summary>('/api/insights/summary?from=2025-05-02&to=2025-05-03')).body;
    expect(ranged).toMatchObject({
      source: 'aggregates',
      first_day: '2025-05-02',
      last_day: '2025-05-03',
      days: 2,
    });

    const regions = (await h.get<Breakdown>('/api/insights/breakdown/region?from=2025-05-02&to=2025-05-03'))
      .body;
    expect(regions.source).toBe('events');
    expect(spendOf(regions.rows)).toBe(micros(ranged.spend.amount));
    // Ranked by spend in USD, with shares of the USD total.
    const usd = regions.rows.map((r) => micros(r.spend.amount));
    expect(usd).toEqual([...usd].sort((a, b) => (a < b ? 1 : a > b ? -1 : 0)));
    expect(regions.rows.reduce((n, r) => n + Number(r.share_of_spend), 0)).toBeCloseTo(1, 4);
    const top = regions.rows[0];
    const region = String(top?.key);

    const filtered = (
      await h.get<Summary>(`/api/insights/summary?from=2025-05-02&to=2025-05-03&region=${region}`)
    ).body;
    expect(filtered.source).toBe('events');
    expect(filtered.spend).toEqual(top?.spend);
    expect(filtered.event_count).toBe(top?.event_count);
    const series = (await h.get<Daily>(`/api/insights/daily?from=2025-05-02&to=2025-05-03&region=${region}`))
      .body.days;
    expect(series.map((d) => d.day)).toEqual(['2025-05-02', '2025-05-03']);
    expect(spendOf(series)).toBe(micros(filtered.spend.amount));
  });

  it('breaks down all time from the aggregate tables', async () => {
    const tiers = (await h.get<Breakdown>('/api/insights/breakdown/service_tier')).body;
    expect(tiers.source).toBe('aggregates');
    const summary = (await h.get<Summary>('/api/insights/summary')).body;
    expect(spendOf(tiers.rows)).toBe(micros(summary.spend.amount));
    // From the aggregates and from the events (a range covering everything): the same figures.
    const fromEvents = (
      await h.get<Breakdown>('/api/insights/breakdown/service_tier?from=2025-01-01&to=2025-12-31')
    ).body;
    expect(fromEvents.source).toBe('events');
    expect(fromEvents.rows.map((r) => [r.key, r.spend, r.avg_spend_per_event, r.share_of_spend])).toEqual(
      tiers.rows.map((r) => [r.key, r.spend, r.avg_spend_per_event, r.share_of_spend]),
    );
    const currencies = (await h.get<Breakdown>('/api/insights/breakdown/currency')).body.rows;
    expect(currencies.map((r) => r.original?.currency)).toEqual(currencies.map((r) => r.key));
    expect(tiers.rows.every((r) => r.original === null)).toBe(true);
    const users = (await h.get<Breakdown>('/api/insights/breakdown/user_id?order=events&limit=5')).body.rows;
    expect(users).toHaveLength(5);
    expect(Number(users[0]?.event_count)).toBeGreaterThanOrEqual(Number(users[4]?.event_count));
    const options = (
      await h.get<{ values: Record<string, string[]>; first_day: string }>('/api/insights/options')
    ).body;
    expect(options.values.region?.length).toBeGreaterThan(1);
    expect(options.first_day <= '2025-05-01').toBe(true);
    const report = (await h.get<Record<string, Row[]>>('/api/insights/report')).body;
    expect(report.totals?.[0]).toMatchObject({
      reporting_currency: 'USD',
      total_normalized_credit_usage: summary.spend.amount,
    });
    expect(report.totals?.[0]).not.toHaveProperty('total_credit_usage');
    expect(report.currency_totals?.map((r) => [r.currency, r.total_credit_usage])).toEqual(
      summary.by_currency.map((c) => [c.currency, c.original.amount]),
    );
  });

  it('drills from a filtered day figure to its files and down to source lines', async () => {
    const tier = (await h.get<{ values: Record<string, string[]> }>('/api/insights/options')).body.values
      .service_tier?.[0];
    const q = `day=2025-05-04&service_tier=${tier}`;
    const [cell] = (
      await h.get<Daily>(`/api/insights/daily?from=2025-05-04&to=2025-05-04&service_tier=${tier}`)
    ).body.days;
    const day = (await h.get<LineageDay>(`/api/lineage/day?${q}`)).body;
    expect(day.currency).toBe('USD');
    expect(day.totals.spend).toEqual(cell?.spend);
    expect(spendOf(day.files)).toBe(micros(cell?.spend.amount));
    expect(spendOf(day.totals.by_currency)).toBe(micros(cell?.spend.amount));
    expect(day.files.reduce((n, f) => n + f.events, 0)).toBe(cell?.event_count);
    expect(day.materializations.length).toBeGreaterThan(0);

    const first = day.files[0];
    const file = String(first?.source_key);
    const rows = (
      await h.get<SourceRows>(`/api/lineage/rows?${q}&source_key=${encodeURIComponent(file)}&limit=1000`)
    ).body;
    expect(rows.total).toBe(first?.events);
    expect(rows.rows.every((r) => r.source_key === file && r.service_tier === tier)).toBe(true);
    expect(spendOf(rows.rows)).toBe(micros(first?.spend.amount));
    // A file's rows in their own currencies add up to the file's per-currency totals.
    for (const c of first?.by_currency ?? []) {
      const own = rows.rows.filter((r) => r.currency === c.currency);
      expect(c.original.currency).toBe(c.currency);
      expect(total(own as unknown as Row[], 'credit_usage')).toBe(micros(c.original.amount));
    }
    expect(Number(rows.rows[0]?.source_line)).toBeGreaterThanOrEqual(2);
  });

  it('lists rejected rows by reason and the file inventory', async () => {
    const reasons = (await h.get<{ reasons: Row[] }>('/api/data/rejected-reasons')).body.reasons;
    expect(reasons.length).toBeGreaterThan(0);
    const category = String(reasons[0]?.category);
    const page = (
      await h.get<{ rows: Row[]; total: number }>(
        `/api/data/rejected-rows?category=${encodeURIComponent(category)}&limit=3`,
      )
    ).body;
    expect(page.total).toBe(reasons[0]?.rows);
    expect(page.rows.length).toBe(Math.min(3, page.total));
    expect(page.rows[0]).toMatchObject({ category, source_key: expect.stringContaining('2025-05') });
    const files = (await h.get<{ files: Row[]; total: number }>('/api/data/files?day=2025-05-02')).body;
    expect(files.total).toBe(2);
    expect(files.files.every((f) => f.status === 'loaded')).toBe(true);
    expect((await h.get<{ files: Row[] }>('/api/data/rejected-files')).body.files).toEqual([]);
  });

  it('rejects bad filters with a JSON 400', async () => {
    for (const url of [
      '/api/insights/summary?from=2025-13-01',
      '/api/insights/breakdown/planet',
      '/api/insights/summary?user_id=abc',
      '/api/insights/breakdown/region?order=random',
      '/api/lineage/day',
      '/api/lineage/rows?day=2025-05-01&limit=100000',
      '/api/data/files?status=weird',
    ]) {
      const res = await h.get<{ error: { code: string } }>(url);
      expect(res.status, url).toBe(400);
      expect(res.body.error.code, url).toBe('invalid_request');
    }
  });
});
