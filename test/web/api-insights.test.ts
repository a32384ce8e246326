import { afterAll, beforeAll, describe, expect, it } from 'vitest';
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

describe('insights, data and lineage API', () => {
  let h: ApiHarness;
  beforeAll(async () => {
    h = await apiHarness('api-insights', { from: '2025-05-01', to: '2025-05-07', rowsPerDay: 400 });
  });
  afterAll(() => h?.close());

  it('totals from the aggregates equal totals from the events, as exact decimal strings', async () => {
    const all = (await h.get<Row>('/api/insights/summary')).body;
    expect(all.source).toBe('aggregates');
    expect(all.total_credit_usage).toMatch(/^-?\d+\.\d{6}$/);
    const [events] = await h.runtime.warehouse.all(
      'SELECT sum(credit_usage) AS s, count(*) AS n FROM billing_events',
    );
    expect(all.total_credit_usage).toBe(events?.s);
    expect(all.event_count).toBe(events?.n);

    const days = (await h.get<{ days: Row[] }>('/api/insights/daily')).body.days;
    expect(micros(all.total_credit_usage)).toBe(total(days));
  });

  it('filters by date range and dimensions, and the breakdown agrees with the filtered totals', async () => {
    const ranged = (await h.get<Row>('/api/insights/summary?from=2025-05-02&to=2025-05-03')).body;
    expect(ranged).toMatchObject({
      source: 'aggregates',
      first_day: '2025-05-02',
      last_day: '2025-05-03',
      days: 2,
    });

    const regions = (
      await h.get<{ rows: Row[]; source: string }>(
        '/api/insights/breakdown/region?from=2025-05-02&to=2025-05-03',
      )
    ).body;
    expect(regions.source).toBe('events');
    expect(total(regions.rows)).toBe(micros(ranged.total_credit_usage));
    const top = regions.rows[0];
    const region = String(top?.key);

    const filtered = (
      await h.get<Row>(`/api/insights/summary?from=2025-05-02&to=2025-05-03&region=${region}`)
    ).body;
    expect(filtered.source).toBe('events');
    expect(filtered.total_credit_usage).toBe(top?.total_credit_usage);
    expect(filtered.event_count).toBe(top?.event_count);
    const series = (
      await h.get<{ days: Row[] }>(`/api/insights/daily?from=2025-05-02&to=2025-05-03&region=${region}`)
    ).body.days;
    expect(series.map((d) => d.day)).toEqual(['2025-05-02', '2025-05-03']);
    expect(total(series)).toBe(micros(filtered.total_credit_usage));
  });

  it('breaks down all time from the aggregate tables', async () => {
    const tiers = (await h.get<{ rows: Row[]; source: string }>('/api/insights/breakdown/service_tier')).body;
    expect(tiers.source).toBe('aggregates');
    const summary = (await h.get<Row>('/api/insights/summary')).body;
    expect(total(tiers.rows)).toBe(micros(summary.total_credit_usage));
    const users = (await h.get<{ rows: Row[] }>('/api/insights/breakdown/user_id?order=events&limit=5')).body
      .rows;
    expect(users).toHaveLength(5);
    expect(Number(users[0]?.event_count)).toBeGreaterThanOrEqual(Number(users[4]?.event_count));
    const options = (
      await h.get<{ values: Record<string, string[]>; first_day: string }>('/api/insights/options')
    ).body;
    expect(options.values.region?.length).toBeGreaterThan(1);
    expect(options.first_day <= '2025-05-01').toBe(true);
    const report = (await h.get<Record<string, Row[]>>('/api/insights/report')).body;
    expect(report.totals?.[0]?.total_credit_usage).toBe(summary.total_credit_usage);
  });

  it('drills from a filtered day figure to its files and down to source lines', async () => {
    const tier = (await h.get<{ values: Record<string, string[]> }>('/api/insights/options')).body.values
      .service_tier?.[0];
    const q = `day=2025-05-04&service_tier=${tier}`;
    const [cell] = (
      await h.get<{ days: Row[] }>(`/api/insights/daily?from=2025-05-04&to=2025-05-04&service_tier=${tier}`)
    ).body.days;
    const day = (await h.get<{ totals: Row; files: Row[]; materializations: Row[] }>(`/api/lineage/day?${q}`))
      .body;
    expect(day.totals.total_credit_usage).toBe(cell?.total_credit_usage);
    expect(total(day.files)).toBe(micros(cell?.total_credit_usage));
    expect(day.files.reduce((n, f) => n + Number(f.events), 0)).toBe(cell?.event_count);
    expect(day.materializations.length).toBeGreaterThan(0);

    const file = String(day.files[0]?.source_key);
    const rows = (
      await h.get<{ rows: Row[]; total: number }>(
        `/api/lineage/rows?${q}&source_key=${encodeURIComponent(file)}&limit=1000`,
      )
    ).body;
    expect(rows.total).toBe(day.files[0]?.events);
    expect(rows.rows.every((r) => r.source_key === file && r.service_tier === tier)).toBe(true);
    expect(total(rows.rows, 'credit_usage')).toBe(micros(day.files[0]?.total_credit_usage));
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
