import { writeFile } from 'node:fs/promises';
import path from 'node:path';
import type { Browser, Page } from 'playwright-core';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { money } from '../../src/billing/insights-report.js';
import { tmpDir } from '../support/tmp.js';
import {
  buildWebUi,
  chromiumAvailable,
  launchBrowser,
  screenshot,
  serveApp,
  type TestServer,
} from './e2e-support.js';
import { type ApiHarness, apiHarness } from './support.js';

/**
 * The dashboard's money in real Chromium on multi-currency data: with known rates every figure is in
 * USD and labelled; without an FX source the per-currency figures and counts show, USD figures read
 * "unknown" and a banner says what to set. Expected figures are computed by SQL on the warehouse.
 */

/** The rates test/support/pipeline.ts writes (TEST_FX_RATES), applied here independently of the pipeline. */
const INDEPENDENT_USD = `CASE currency WHEN 'USD' THEN credit_usage
  WHEN 'EUR' THEN round(credit_usage * CAST('1.0850000000' AS DECIMAL(20,10)), 6)
  WHEN 'GBP' THEN round(credit_usage * CAST('1.2700000000' AS DECIMAL(20,10)), 6)
  WHEN 'JPY' THEN round(credit_usage * CAST('0.0066500000' AS DECIMAL(20,10)), 6) END`;

const nf = (n: unknown) => new Intl.NumberFormat('en').format(Number(n));

/** A bar chart's ranking as the page states it (its list for screen readers, in bar order). */
async function ranking(page: Page, chart: string): Promise<string[]> {
  const items = page.getByRole('list', { name: `${chart} ranking` }).locator('li');
  await items.first().waitFor({ state: 'attached' });
  return items.allTextContents();
}

/** A table's body cells, row by row. */
async function tableCells(page: Page, name: string): Promise<string[][]> {
  const rows = page.getByRole('table', { name }).locator('tbody tr');
  await rows.first().waitFor();
  const out: string[][] = [];
  for (const row of await rows.all()) out.push(await row.locator('td').allTextContents());
  return out;
}

describe.skipIf(!chromiumAvailable())('dashboard currency (Chromium)', () => {
  let webRoot: string;
  let browser: Browser;
  let page: Page;
  beforeAll(async () => {
    webRoot = await buildWebUi();
    browser = await launchBrowser();
    page = await browser.newPage({ viewport: { width: 1280, height: 900 } });
  }, 240_000);
  afterAll(async () => {
    await browser?.close();
  });

  describe('with known rates', () => {
    let h: ApiHarness;
    let server: TestServer;
    beforeAll(async () => {
      h = await apiHarness('e2e-rated', { from: '2025-06-01', to: '2025-06-05', rowsPerDay: 500 });
      server = await serveApp(h.runtime, h.launcher, webRoot);
    }, 120_000);
    afterAll(async () => {
      // Leave the page first: its polling keeps connections open that the server waits for.
      await page?.goto('about:blank');
      await server?.stop();
      await h?.close();
    });

    it('shows the headline in USD, equal to the exact sum of the per-event amounts', async () => {
      const [sums] = await h.runtime.warehouse.all(
        `SELECT sum(${INDEPENDENT_USD}) AS independent, sum(normalized_credit_usage) AS stored,
           count(DISTINCT currency) AS currencies FROM billing_events`,
      );
      expect(sums?.currencies).toBe(4);
      expect(sums?.stored).toBe(sums?.independent);
      await page.goto(`${server.url}/insights`);
      const kpi = page.locator('.kpi', { hasText: 'Spend (USD)' });
      await kpi.locator('.note', { hasText: 'exact' }).waitFor();
      expect(await kpi.locator('.value').textContent()).toBe(`${money(sums?.independent)} USD`);
      expect(await kpi.locator('.note').textContent()).toBe(`exact ${sums?.independent} USD`);
      await screenshot(page, 'insights-currency');
    });

    it('ranks regions by USD spend, not by amounts in mixed currencies', async () => {
      const byUsd = await h.runtime.warehouse.all<{ region: string; usd: string; n: number }>(
        `SELECT region, sum(${INDEPENDENT_USD}) AS usd, count(*) AS n FROM billing_events GROUP BY region
         ORDER BY usd DESC, n DESC, region LIMIT 12`,
      );
      const byRaw = await h.runtime.warehouse.all<{ region: string }>(
        'SELECT region FROM billing_events GROUP BY region ORDER BY sum(credit_usage) DESC, region LIMIT 12',
      );
      // The data must tell the two rankings apart, or the test proves nothing.
      expect(byRaw.map((r) => r.region)).not.toEqual(byUsd.map((r) => r.region));
      await page.goto(`${server.url}/insights`);
      await page.getByRole('heading', { name: 'Spend by region (USD)' }).waitFor();
      expect(await ranking(page, 'regions')).toEqual(
        byUsd.map((r) => `${r.region}: ${money(r.usd)} USD, ${nf(r.n)} events`),
      );
      // The bars are drawn in that order, longest first.
      const bars = page.locator('[data-chart="regions"] .recharts-bar-rectangle path');
      const widths: number[] = [];
      for (const bar of await bars.all()) widths.push(Number(await bar.getAttribute('width')));
      expect(widths).toHaveLength(byUsd.length);
      expect(widths).toEqual([...widths].sort((a, b) => b - a));
    });

    it('shows each currency’s exact original total, labelled, and no sum across them', async () => {
      const perCurrency = await h.runtime.warehouse.all(
        `SELECT currency, count(*) AS n, sum(credit_usage) AS original, sum(${INDEPENDENT_USD}) AS usd
         FROM billing_events GROUP BY currency ORDER BY n DESC, currency`,
      );
      await page.goto(`${server.url}/insights`);
      const rows = await tableCells(page, 'spend by currency');
      expect(rows).toEqual(
        perCurrency.map((r) => [
          String(r.currency),
          nf(r.n),
          `${r.original} ${r.currency}`,
          `${money(r.usd)} USD`,
          '0',
        ]),
      );
      const [mixed] = await h.runtime.warehouse.all('SELECT sum(credit_usage) AS s FROM billing_events');
      expect(await page.locator('main').textContent()).not.toContain(money(mixed?.s));
      expect(await page.locator('[aria-label="FX rates notice"]').count()).toBe(0);
    });
  });

  describe('without an FX source', () => {
    let h: ApiHarness;
    let server: TestServer;
    beforeAll(async () => {
      h = await apiHarness('e2e-unrated', {
        from: '2025-06-01',
        to: '2025-06-03',
        rowsPerDay: 400,
        fx: null,
        allowFailedRun: true,
      });
      server = await serveApp(h.runtime, h.launcher, webRoot);
    }, 120_000);
    afterAll(async () => {
      // Leave the page first: its polling keeps connections open that the server waits for.
      await page?.goto('about:blank');
      await server?.stop();
      await h?.close();
    });

    it('shows per-currency figures, unknown USD figures and the notice with the setting', async () => {
      const unrated = await h.runtime.warehouse.all(
        'SELECT DISTINCT currency FROM billing_events WHERE normalized_credit_usage IS NULL',
      );
      expect(unrated.length).toBe(3);
      await page.goto(`${server.url}/insights`);
      const notice = page.locator('[aria-label="FX rates notice"]');
      await notice.waitFor();
      expect(await notice.locator('b').textContent()).toBe(
        `${unrated.length} currencies have no rates configured — set BILLING_FX_SOURCE (or fx_source in billing-pipeline.yaml)`,
      );
      const kpi = page.locator('.kpi', { hasText: 'Spend (USD)' });
      await kpi.locator('.value', { hasText: 'unknown' }).waitFor();
      const [events] = await h.runtime.warehouse.all('SELECT count(*) AS n FROM billing_events');
      await page
        .locator('.kpi', { hasText: 'Events' })
        .locator('.value', { hasText: nf(events?.n) })
        .waitFor();

      const perCurrency = await h.runtime.warehouse.all(
        `SELECT currency, count(*) AS n, sum(credit_usage) AS original, sum(normalized_credit_usage) AS usd,
           count(*) - count(normalized_credit_usage) AS unknown
         FROM billing_events GROUP BY currency ORDER BY n DESC, currency`,
      );
      const rows = await tableCells(page, 'spend by currency');
      expect(rows).toEqual(
        perCurrency.map((r) => [
          String(r.currency),
          nf(r.n),
          `${r.original} ${r.currency}`,
          r.currency === 'USD' ? `${money(r.usd)} USD` : 'unknown',
          nf(r.unknown),
        ]),
      );
      await screenshot(page, 'insights-no-fx');
    });

    it('flags a day missing a rate in the drill-down and still shows its counts', async () => {
      const [day] = await h.runtime.warehouse.all(
        `SELECT CAST(event_date AS VARCHAR) AS day, count(*) AS n, count(*) - count(normalized_credit_usage) AS unknown
         FROM billing_events WHERE event_date = DATE '2025-06-02' GROUP BY event_date`,
      );
      expect(Number(day?.unknown)).toBeGreaterThan(0);
      await page.goto(`${server.url}/insights?drill=days`);
      const row = page.getByRole('table', { name: 'days' }).locator('tbody tr', { hasText: '2025-06-02' });
      await row.waitFor();
      const cells = await row.locator('td').allTextContents();
      expect(cells.slice(0, 4)).toEqual(['2025-06-02', nf(day?.n), 'unknown', nf(day?.unknown)]);
    });

    it('shows the same notice on the page of an affected asset, and not on billing_files', async () => {
      await page.goto(`${server.url}/assets/daily_aggregates`);
      await page.locator('[aria-label="FX rates notice"]', { hasText: 'BILLING_FX_SOURCE' }).waitFor();
      await page.goto(`${server.url}/assets/billing_files`);
      await page.locator('.page-head').getByText('billing_files').waitFor();
      await page.locator('dl.kv').waitFor();
      expect(await page.locator('[aria-label="FX rates notice"]').count()).toBe(0);
    });
  });

  describe('with an FX file that lacks some days', () => {
    let h: ApiHarness;
    let server: TestServer;
    let fx: string;
    beforeAll(async () => {
      // EUR rates start on 2025-06-03: EUR events of 06-01 and 06-02 have no rate.
      fx = path.join(await tmpDir('e2e-fx-partial'), 'fx.csv');
      await writeFile(
        fx,
        'date,currency,rate\n2025-06-03,EUR,1.0850000000\n2000-01-01,GBP,1.2700000000\n2000-01-01,JPY,0.0066500000\n',
      );
      h = await apiHarness('e2e-fx-partial', {
        from: '2025-06-01',
        to: '2025-06-04',
        rowsPerDay: 300,
        fx,
        allowFailedRun: true,
      });
      server = await serveApp(h.runtime, h.launcher, webRoot);
    }, 120_000);
    afterAll(async () => {
      await page?.goto('about:blank');
      await server?.stop();
      await h?.close();
    });

    it('names the days and currencies without rates, and keeps the other days in USD', async () => {
      const missing = await h.runtime.warehouse.all(
        `SELECT CAST(event_date AS VARCHAR) AS day, currency, count(*) AS n FROM billing_events
         WHERE normalized_credit_usage IS NULL GROUP BY event_date, currency ORDER BY 1, 2`,
      );
      expect(missing.map((m) => [m.day, m.currency])).toEqual([
        ['2025-06-01', 'EUR'],
        ['2025-06-02', 'EUR'],
      ]);
      await page.goto(`${server.url}/insights?drill=days`);
      const notice = page.locator('[aria-label="FX rates notice"]');
      await notice.waitFor();
      expect(await notice.locator('b').textContent()).toBe(
        `FX rates missing for 1 currency on 2 days — add them to ${fx}`,
      );
      expect(
        await notice.getByRole('list', { name: 'days without rates' }).locator('li').allTextContents(),
      ).toEqual(missing.map((m) => `${m.day} ${m.currency}: ${nf(m.n)} events`));
      const [known] = await h.runtime.warehouse.all(
        `SELECT count(*) AS n, sum(normalized_credit_usage) AS usd FROM billing_events WHERE event_date = DATE '2025-06-03'`,
      );
      const days = page.getByRole('table', { name: 'days' });
      const cells = await days.locator('tbody tr', { hasText: '2025-06-03' }).locator('td').allTextContents();
      expect(cells.slice(0, 4)).toEqual(['2025-06-03', nf(known?.n), `${known?.usd} USD`, '0']);
      const flagged = await days
        .locator('tbody tr', { hasText: '2025-06-01' })
        .locator('td')
        .allTextContents();
      expect(flagged[2]).toBe('unknown');
      expect(await page.locator('[aria-label="days with unknown spend"]').textContent()).toBe(
        '2 days have unknown USD spend (events without an FX rate; drawn as gaps): 2025-06-01, 2025-06-02',
      );
    });
  });
});
