import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import type { ApiRun, ApiRunDetail } from '../../src/server/api-types.js';
import { type ApiHarness, apiHarness } from './support.js';

/** A decimal string as integer micros, so "12.5" and "12.500000" compare equal without floats. */
const micros = (value: unknown) => {
  const [int = '0', frac = ''] = String(value).replace('-', '').split('.');
  const n = BigInt(int) * 1_000_000n + BigInt(`${frac}000000`.slice(0, 6));
  return String(value).startsWith('-') ? -n : n;
};

/** Every string and number anywhere in a value (the run page shows metadata and event data as is). */
const figures = (value: unknown): (string | number)[] =>
  typeof value === 'string' || typeof value === 'number'
    ? [value]
    : value && typeof value === 'object'
      ? Object.values(value).flatMap(figures)
      : [];
const decimal = /^-?\d+(\.\d+)?$/;

async function runDetail(h: ApiHarness): Promise<ApiRunDetail> {
  const { runs } = (await h.get<{ runs: ApiRun[] }>('/api/runs')).body;
  const [run] = runs;
  expect(runs).toHaveLength(1);
  const detail = await h.get<ApiRunDetail>(`/api/runs/${run?.run_id}`);
  expect(detail.status).toBe(200);
  return detail.body;
}

/** What the run page reads of billing_insights: its asset row's metadata and its log's data. */
function insightsFigures(detail: ApiRunDetail) {
  const asset = detail.assets.find((a) => a.asset === 'billing_insights');
  expect(asset?.status).toBe('success');
  const logged = detail.events.filter((e) => e.asset === 'billing_insights' && e.data !== null);
  expect(logged.length).toBeGreaterThan(0);
  return { metadata: asset?.metadata ?? {}, logged };
}

/** No amount the run shows (assets' metadata, every event's data) is the cross-currency sum. */
async function expectNoCrossCurrencySum(h: ApiHarness, detail: ApiRunDetail) {
  const [raw] = await h.runtime.warehouse.all<{ raw: string; currencies: number }>(
    'SELECT sum(credit_usage) AS raw, count(DISTINCT currency) AS currencies FROM billing_events',
  );
  expect(raw?.currencies).toBeGreaterThan(1);
  const shown = figures({ assets: detail.assets, events: detail.events.map((e) => e.data) })
    .map(String)
    .filter((f) => decimal.test(f));
  expect(shown.length).toBeGreaterThan(10);
  expect(shown.filter((f) => micros(f) === micros(raw?.raw))).toEqual([]);
}

describe('the run detail on multi-currency data with rates', () => {
  let h: ApiHarness;
  beforeAll(async () => {
    h = await apiHarness('api-run-spend', { from: '2025-06-01', to: '2025-06-03', rowsPerDay: 150 });
  }, 120_000);
  afterAll(() => h?.close());

  it('records the spend in the reporting currency with its code, and originals per currency', async () => {
    const detail = await runDetail(h);
    const { metadata, logged } = insightsFigures(detail);
    const [normalized] = await h.runtime.warehouse.all<{ usd: string }>(
      'SELECT sum(normalized_credit_usage) AS usd FROM billing_events',
    );
    expect(metadata.spend).toEqual({ amount: expect.any(String), currency: 'USD' });
    expect(micros((metadata.spend as { amount: string }).amount)).toBe(micros(normalized?.usd));
    const perCurrency = await h.runtime.warehouse.all<{ currency: string; original: string }>(
      'SELECT currency, sum(credit_usage) AS original FROM billing_events GROUP BY currency ORDER BY currency',
    );
    const originals = metadata.originalTotals as Record<string, string>;
    expect(Object.keys(originals)).toEqual(perCurrency.map((r) => r.currency));
    for (const r of perCurrency) expect(micros(originals[r.currency])).toBe(micros(r.original));
    // The materialization event carries the same figures (the run page's event log shows them).
    expect(logged.some((e) => JSON.stringify(e.data?.spend) === JSON.stringify(metadata.spend))).toBe(true);
    expect(metadata).not.toHaveProperty('totalCreditUsage');
    await expectNoCrossCurrencySum(h, detail);
  });
});

describe('the run detail on multi-currency data without an FX source', () => {
  let h: ApiHarness;
  beforeAll(async () => {
    h = await apiHarness('api-run-spend-nofx', {
      from: '2025-06-01',
      to: '2025-06-02',
      rowsPerDay: 150,
      fx: null,
      allowFailedRun: true,
    });
  }, 120_000);
  afterAll(() => h?.close());

  it('records the spend as unknown, still labelled, never a sum across currencies', async () => {
    const detail = await runDetail(h);
    const { metadata } = insightsFigures(detail);
    expect(metadata.spend).toEqual({ amount: null, currency: 'USD' });
    const originals = metadata.originalTotals as Record<string, string>;
    expect(Object.keys(originals).length).toBeGreaterThan(1);
    await expectNoCrossCurrencySum(h, detail);
  });
});
