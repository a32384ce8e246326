import type { Browser, Page } from 'playwright-core';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import type { AssetSummary } from '../../src/server/asset-schemas.js';
import { buildWebUi, chromiumAvailable, launchBrowser, serveApp, type TestServer } from './e2e-support.js';
import { type ApiHarness, apiHarness } from './support.js';

/**
 * The asset graph at 1440×900 in real Chromium: node labels are readable, and "Materialize stale"
 * says what it will run before it runs, then leaves nothing stale.
 */
describe.skipIf(!chromiumAvailable())('asset graph and "materialize stale" (Chromium)', () => {
  let h: ApiHarness;
  let server: TestServer;
  let browser: Browser;
  let page: Page;
  const notFresh = async () =>
    (await h.get<{ assets: AssetSummary[] }>('/api/assets')).body.assets
      .filter((a) => a.freshness !== 'fresh')
      .map((a) => a.name);

  beforeAll(async () => {
    const webRoot = await buildWebUi();
    h = await apiHarness('e2e-materialize', { from: '2025-06-01', to: '2025-06-03', rowsPerDay: 100 });
    // One day of daily_aggregates with what it reads: the "ran 4 assets and left 7 stale".
    await h.runtime.materialize({
      trigger: 'test',
      selection: ['daily_aggregates'],
      withUpstream: true,
      range: { from: '2025-06-02', to: '2025-06-02' },
    });
    server = await serveApp(h.runtime, h.launcher, webRoot);
    browser = await launchBrowser();
    page = await browser.newPage({ viewport: { width: 1440, height: 900 } });
  }, 240_000);
  afterAll(async () => {
    await page?.goto('about:blank');
    await browser?.close();
    await server?.stop();
    await h?.close();
  });

  it('renders node labels at 12 px or more (the graph is not shrunk to fit)', async () => {
    await page.goto(`${server.url}/assets`);
    const name = page.locator('.asset-node .name').first();
    await name.waitFor();
    // Browser code as a string: the tests compile without the DOM library.
    const rendered = (await page.evaluate(`(() => {
      const el = document.querySelector('.asset-node .name');
      const node = el.closest('.asset-node');
      const scale = node.getBoundingClientRect().width / node.offsetWidth;
      const range = document.createRange();
      range.selectNodeContents(el);
      return {
        font: Number.parseFloat(getComputedStyle(el).fontSize) * scale,
        height: range.getBoundingClientRect().height,
      };
    })()`)) as { font: number; height: number };
    expect(rendered.font).toBeGreaterThanOrEqual(12);
    expect(rendered.height).toBeGreaterThanOrEqual(11);
  });

  it('lists what "Materialize stale" will run, runs it, and leaves no asset stale', async () => {
    const stale = await notFresh();
    expect(stale.length).toBeGreaterThan(0);
    await page.goto(`${server.url}/assets`);
    const button = page.getByRole('button', { name: /^Materialize stale/ });
    await page.waitForFunction(
      `[...document.querySelectorAll('button')].some((b) => /Materialize stale \\(\\d+ stale\\)/.test(b.textContent))`,
    );
    expect(await button.textContent()).toContain(`(${stale.length} stale)`);
    await button.click();

    const dialog = page.getByRole('dialog', { name: 'confirm materialization' });
    await dialog.waitFor();
    const listed = await dialog
      .getByRole('table', { name: 'assets to materialize' })
      .locator('tbody td code')
      .allTextContents();
    for (const name of stale) expect(listed).toContain(name);
    expect(await dialog.textContent()).toMatch(/Runs \d+ asset\(s\), \d+ asset-partition\(s\)/);
    // Nothing has run yet: the confirmation only planned.
    expect(await notFresh()).toEqual(stale);

    await dialog.getByRole('button', { name: /^Launch run of \d+ asset/ }).click();
    await page.waitForURL(/\/runs\/[^/]+$/);
    await h.launcher.idle();
    await page.locator('.page-head .badge', { hasText: 'success' }).waitFor();
    expect(await notFresh()).toEqual([]);

    await page.goto(`${server.url}/assets`);
    await page.getByRole('button', { name: 'Materialize stale (0 stale)' }).waitFor();
    expect(await page.locator('.asset-node .badge', { hasText: /^stale$/ }).count()).toBe(0);
  });
});
