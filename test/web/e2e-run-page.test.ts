import type { Browser, Page } from 'playwright-core';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { describeRun } from '../../src/orchestrator/run-executor.js';
import type { ApiRun } from '../../src/server/api-types.js';
import { buildWebUi, chromiumAvailable, launchBrowser, serveApp, type TestServer } from './e2e-support.js';
import { type ApiHarness, apiHarness } from './support.js';

/**
 * The run page in real Chromium: the figures it shows from a run's metadata are in one labelled
 * currency, and a run that has not started (the API's `started_at: null`) reads as queued.
 */
describe.skipIf(!chromiumAvailable())('run page (Chromium)', () => {
  let h: ApiHarness;
  let server: TestServer;
  let browser: Browser;
  let page: Page;
  beforeAll(async () => {
    const webRoot = await buildWebUi();
    h = await apiHarness('e2e-run-page', { from: '2025-06-01', to: '2025-06-02', rowsPerDay: 150 });
    server = await serveApp(h.runtime, h.launcher, webRoot);
    browser = await launchBrowser();
    page = await browser.newPage({ viewport: { width: 1280, height: 900 } });
  }, 240_000);
  afterAll(async () => {
    // Leave the page first: its polling keeps connections open that the server waits for.
    await page?.goto('about:blank');
    await browser?.close();
    await server?.stop();
    await h?.close();
  });

  it("shows billing_insights' spend with its currency, and no sum across currencies", async () => {
    const { runs } = (await h.get<{ runs: ApiRun[] }>('/api/runs')).body;
    const runId = runs[0]?.run_id ?? '';
    const [sums] = await h.runtime.warehouse.all<{ usd: string; raw: string; currencies: number }>(
      `SELECT sum(normalized_credit_usage) AS usd, sum(credit_usage) AS raw,
         count(DISTINCT currency) AS currencies FROM billing_events`,
    );
    expect(sums?.currencies).toBeGreaterThan(1);
    await page.goto(`${server.url}/runs/${encodeURIComponent(runId)}`);
    const log = page.getByRole('table', { name: 'event log' });
    const insights = log.locator('tbody tr', { hasText: 'billing_insights' }).filter({ hasText: 'spend' });
    await insights.first().waitFor();
    const text = (await insights.allTextContents()).join('\n');
    expect(text).toContain(`spend ${sums?.usd} USD`);
    expect(text).toMatch(/originalTotals EUR: \d+\.\d+/);
    const page_ = (await page.locator('body').textContent()) ?? '';
    expect(page_).not.toContain(String(sums?.raw));
  });

  it('shows a run that has not started as queued, its assets waiting', async () => {
    const runId = await h.runtime.ledger.createRun(
      describeRun(h.runtime.graph, { trigger: 'test', selection: ['daily_aggregates'] }),
      'queued',
    );
    const detail = (await h.get<{ run: ApiRun }>(`/api/runs/${runId}`)).body;
    expect(detail.run.started_at).toBeNull();
    await page.goto(`${server.url}/runs/${encodeURIComponent(runId)}`);
    await page.locator('.page-head .badge', { hasText: 'queued' }).waitFor();
    const started = page
      .locator('dl.kv dt', { hasText: 'Started' })
      .locator('xpath=following-sibling::dd[1]');
    expect(await started.textContent()).toBe('queued, not started yet');
    const body = (await page.locator('body').textContent()) ?? '';
    expect(body).toContain('waiting');
    expect(body).not.toContain('NaN');
    expect(body).not.toContain('Invalid Date');
  });
});
