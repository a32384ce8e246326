import type { Browser, Page } from 'playwright-core';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { AssetGraph } from '../../src/orchestrator/asset-graph.js';
import { describeRun, executeRun } from '../../src/orchestrator/run-executor.js';
import type { ApiRun } from '../../src/server/api-types.js';
import { buildWebUi, chromiumAvailable, launchBrowser, serveApp, type TestServer } from './e2e-support.js';
import { type ApiHarness, apiHarness } from './support.js';

/**
 * The run page in real Chromium: the figures it shows from a run's metadata are in one labelled
 * currency, and a run that has not started (the API's `started_at: null`) reads as queued. On a
 * failed run at 1440×900 the error comes first and the event log is readable and filterable.
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
    const insights = log.locator('tbody tr', { hasText: 'billing_insights' });
    await insights
      .getByRole('button', { name: /details/ })
      .first()
      .waitFor();
    // Details are collapsed; each row opens its own below it.
    for (const toggle of await insights.getByRole('button', { name: /details/ }).all()) await toggle.click();
    const text = (await log.locator('tr.details-row').allTextContents()).join('\n');
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

  describe('a failed run at 1440×900', () => {
    let wide: Page;
    let runId = '';
    beforeAll(async () => {
      // A step that throws, as a broken transform does: daily_aggregates fails, what is below it is skipped.
      const graph = new AssetGraph(
        h.runtime.graph.assets.map((a) =>
          a.name === 'daily_aggregates'
            ? {
                ...a,
                materialize: async () => {
                  throw new Error('cannot aggregate year=2025/month=06/day=02/events.csv: disk full');
                },
              }
            : a,
        ),
      );
      const summary = await executeRun({
        ...h.runtime,
        graph,
        request: { trigger: 'test', fullRefresh: true },
      });
      expect(summary.status).toBe('failed');
      runId = summary.runId;
      wide = await browser.newPage({ viewport: { width: 1440, height: 900 } });
      await wide.goto(`${server.url}/runs/${encodeURIComponent(runId)}`);
      await wide.getByRole('table', { name: 'event log' }).locator('tbody tr').first().waitFor();
    });
    afterAll(async () => {
      await wide?.goto('about:blank');
      await wide?.close();
    });

    it('puts the error first: the failing step and its message above everything else', async () => {
      const summary = wide.getByRole('alert', { name: 'error summary' });
      await summary.waitFor();
      expect(await summary.textContent()).toMatch(/Failed at step daily_aggregates/);
      expect(await summary.textContent()).toContain('disk full');
      const top = async (selector: string) =>
        (await wide.locator(selector).first().boundingBox())?.y ?? Number.POSITIVE_INFINITY;
      const y = await top('.error-summary');
      expect(y).toBeLessThan(await top('dl.kv'));
      expect(y).toBeLessThan(await top('.gantt'));
      expect(y).toBeLessThan(await top('table.event-log'));
      expect(y).toBeLessThan(900);
    });

    it('gives the message column the width and never breaks a word in the middle', async () => {
      const header = wide.locator('table.event-log th', { hasText: 'Message' });
      const width = (await header.boundingBox())?.width ?? 0;
      expect(width).toBeGreaterThanOrEqual(600);
      // Browser code as strings: the tests compile without the DOM library.
      const measured = (await wide.evaluate(`(() => {
        const cell = [...document.querySelectorAll('table.event-log td.message')]
          .find((td) => td.textContent.includes('billing_files'));
        const s = getComputedStyle(cell);
        // The word "billing_files" sits on one line: its range has a single client rect.
        let rects = 0;
        const walker = document.createTreeWalker(cell, NodeFilter.SHOW_TEXT);
        for (let node = walker.nextNode(); node; node = walker.nextNode()) {
          const at = node.textContent.indexOf('billing_files');
          if (at < 0) continue;
          const range = document.createRange();
          range.setStart(node, at);
          range.setEnd(node, at + 'billing_files'.length);
          rects = range.getClientRects().length;
          break;
        }
        // No inner scroll box: the log is as tall as its rows.
        const log = document.getElementById('event-log');
        const scrolls = log.scrollHeight > log.clientHeight + 1 || getComputedStyle(log).overflowY === 'auto';
        return { wordBreak: s.wordBreak, overflowWrap: s.overflowWrap, rects, scrolls };
      })()`)) as { wordBreak: string; overflowWrap: string; rects: number; scrolls: boolean };
      expect(measured.wordBreak).not.toBe('break-all');
      expect(measured.overflowWrap).not.toBe('anywhere');
      expect(measured.rects).toBe(1);
      expect(measured.scrolls).toBe(false);
    });

    it('filters the log by level, asset and event type, and links each step to its events', async () => {
      const rows = wide.locator('table.event-log tbody tr:not(.details-row)');
      const all = await rows.count();
      expect(all).toBeGreaterThan(5);
      await wide.getByLabel('filter by level').selectOption('error');
      await wide.waitForFunction(
        `document.querySelectorAll('table.event-log tbody tr:not(.details-row)').length < ${all}`,
      );
      const levels = await rows.locator('td:nth-child(2)').allTextContents();
      expect(levels.length).toBeGreaterThan(0);
      expect(levels.every((l) => l === 'error')).toBe(true);
      await wide.getByRole('button', { name: 'Clear filters' }).click();
      await wide.getByLabel('filter by event type').selectOption('asset_started');
      expect(await rows.count()).toBeLessThan(all);
      expect(new Set(await rows.locator('td:nth-child(3)').allTextContents())).toEqual(
        new Set(['asset_started']),
      );
      await wide.getByRole('button', { name: 'Clear filters' }).click();

      await wide.getByRole('button', { name: 'events of billing_files' }).click();
      expect(wide.url()).toContain('asset=billing_files');
      await wide.waitForFunction(
        `document.querySelectorAll('table.event-log tbody tr:not(.details-row)').length < ${all}`,
      );
      const assets = new Set(await rows.locator('td:nth-child(4)').allTextContents());
      expect(assets).toEqual(new Set(['billing_files']));
      expect(await wide.getByLabel('filter by asset').inputValue()).toBe('billing_files');
    });
  });

  it('keeps run ids, days and times on one line in the runs list at 1440 px', async () => {
    const wide = await browser.newPage({ viewport: { width: 1440, height: 900 } });
    try {
      await wide.goto(`${server.url}/runs`);
      const table = wide.getByRole('table', { name: 'runs' });
      await table.locator('tbody tr').first().waitFor();
      const lines = (await wide.evaluate(`(() => {
        const tr = document.querySelector('table[aria-label="runs"] tbody tr');
        return [...tr.querySelectorAll('td')].slice(0, 6).map((td) => {
          // The lines the cell's text sits on: one distinct bottom per line.
          const lines = new Set();
          const walker = document.createTreeWalker(td, NodeFilter.SHOW_TEXT);
          for (let node = walker.nextNode(); node; node = walker.nextNode()) {
            const range = document.createRange();
            range.selectNodeContents(node);
            for (const r of range.getClientRects()) lines.add(Math.round(r.bottom / 4));
          }
          return lines.size;
        });
      })()`)) as number[];
      // Run, status, trigger, assets, days, created: one line each, while the error column wraps.
      expect(lines).toEqual([1, 1, 1, 1, 1, 1]);
    } finally {
      await wide.goto('about:blank');
      await wide.close();
    }
  });
});
