import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { money, renderInsights } from '../../src/billing/insights-report.js';
import { type ApiHarness, apiHarness } from './support.js';

/** The CLI's insights report (`billing-pipeline insights`) on multi-currency data, with and without rates. */
describe('insights report', () => {
  let rated: ApiHarness;
  let unrated: ApiHarness;
  beforeAll(async () => {
    rated = await apiHarness('report-rated', { from: '2025-05-01', to: '2025-05-03', rowsPerDay: 300 });
    unrated = await apiHarness('report-unrated', {
      from: '2025-05-01',
      to: '2025-05-03',
      rowsPerDay: 300,
      fx: null,
      allowFailedRun: true,
    });
  });
  afterAll(async () => {
    await rated?.close();
    await unrated?.close();
  });

  it('labels every amount with its currency and totals original amounts only per currency', async () => {
    const report = await renderInsights(rated.runtime.warehouse);
    const [usd] = await rated.runtime.warehouse.all(
      'SELECT sum(normalized_credit_usage) AS s FROM billing_events',
    );
    expect(report).toContain(`Spend            ${money(usd?.s)} USD (exact: ${usd?.s} USD)`);
    const perCurrency = await rated.runtime.warehouse.all(
      'SELECT currency, sum(credit_usage) AS s FROM billing_events GROUP BY currency',
    );
    expect(perCurrency.length).toBeGreaterThan(1);
    for (const c of perCurrency) expect(report).toContain(`${money(c.s)} ${c.currency}`);
    // The sum across currencies appears nowhere.
    const [mixed] = await rated.runtime.warehouse.all('SELECT sum(credit_usage) AS s FROM billing_events');
    expect(report).not.toContain(money(mixed?.s));
    expect(report).toMatch(/Most resource-intensive regions \(by spend in USD\)/);
  });

  it('says USD amounts are unknown and what to set when rates are missing', async () => {
    const report = await renderInsights(unrated.runtime.warehouse);
    expect(report).toMatch(/Spend\s+unknown/);
    expect(report).toMatch(/USD amounts are unknown: no FX rate for some (EUR|GBP|JPY)/);
    expect(report).toContain('Set BILLING_FX_SOURCE (or fx_source in billing-pipeline.yaml)');
    // A region whose spend is known has no share while another's is unknown: not 100% of a partial sum.
    const regions = await unrated.runtime.warehouse.all(
      'SELECT total_normalized_credit_usage AS spend, share_of_normalized_spend AS share FROM insights_top_regions',
    );
    expect(regions.some((r) => r.spend === null)).toBe(true);
    expect(regions.map((r) => r.share)).toEqual(regions.map(() => null));
  });

  it('says events are loaded when no day is aggregated, instead of "no events"', async () => {
    // Unit-level edge: the aggregates empty while billing_events holds rows (every day held back).
    await unrated.runtime.warehouse.exec('UPDATE billing_insights SET total_events = 0');
    const [events] = await unrated.runtime.warehouse.all('SELECT count(*) AS n FROM billing_events');
    const report = await renderInsights(unrated.runtime.warehouse);
    expect(report).not.toContain('No billing events loaded yet');
    expect(report).toContain(`${events?.n} billing events are loaded`);
    expect(report).toContain('billing-pipeline checks');
  });

  it('aligns every table header with its column, and names every column', async () => {
    const w = rated.runtime.warehouse;
    // Three days are too few to score; two listed anomalies stand in for the table's layout.
    await w.exec(`INSERT INTO insights_spend_anomalies VALUES
      ('user', '1042', DATE '2025-05-03', 1250.5, 10.25, 1.5, 9, 562.13, 'spike', 1240.25),
      ('region', 'eu-west-1', DATE '2025-05-03', 3.5, 250, 12, 14, -13.87, 'drop', -246.5)`);
    await w.exec('UPDATE billing_insights SET spend_anomalies = 2');
    const lines = (await renderInsights(w)).split('\n');
    const rules = lines.flatMap((l, i) => (/^-+( +-+)*$/.test(l) ? [i] : []));
    expect(rules.length).toBeGreaterThanOrEqual(7);
    for (const at of rules) {
      const rule = lines[at] ?? '';
      const header = lines[at - 1] ?? '';
      const spans = [...rule.matchAll(/-+/g)].map((m) => [m.index, m.index + m[0].length] as const);
      // Each header name sits inside its column's dashes, and none is empty.
      const names = [...header.matchAll(/\S+/g)].map((m) => [m.index, m.index + m[0].length] as const);
      expect({ header, columns: names.length }).toEqual({ header, columns: spans.length });
      names.forEach(([start, end], i) => {
        const [from, to] = spans[i] ?? [0, 0];
        expect({ header, column: i, inside: start >= from && end <= to }).toEqual({
          header,
          column: i,
          inside: true,
        });
      });
      // So does every cell of the table's rows.
      for (const row of lines.slice(at + 1)) {
        if (row.trim() === '') break;
        for (const [from, to] of spans) {
          expect({
            row,
            gapBefore: from === 0 || row.slice(from - 2, from) === '  ' || row.length <= from,
          }).toEqual({ row, gapBefore: true });
          expect(row.slice(to, to + 1).trim()).toBe('');
        }
      }
    }
    const at = lines.findIndex((l) => l.startsWith('Spend anomalies (2)'));
    expect(lines[at]).toContain('largest money at stake first');
    expect(lines[at + 1]).toMatch(/^day\s+who\s+change_USD\s+spend_USD\s+usual_USD\s+robust_z\s+direction$/);
    expect(lines[at + 3]).toMatch(
      /^2025-05-03\s+user 1042\s+\+1,240\.25\s+1,250\.50\s+10\.25\s+562\.13\s+spike$/,
    );
    expect(lines[at + 4]).toMatch(
      /^2025-05-03\s+region eu-west-1\s+-246\.50\s+3\.50\s+250\.00\s+-13\.87\s+drop$/,
    );
  });
});
