import type { Browser } from 'playwright-core';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import type { Runtime } from '../../src/runtime.js';
import { testPipeline } from '../support/pipeline.js';
import {
  buildWebUi,
  chromiumAvailable,
  launchBrowser,
  screenshot,
  serveApp,
  type TestServer,
} from './e2e-support.js';
import { inProcessLauncher } from './support.js';

const DAYS = 100_000;
const FIRST = '1750-01-01';

/**
 * 100,000 daily partitions written straight into the ledger (no one has 274 years of billing
 * files): every 9,973rd day's file failed, every 4,999th has a new version waiting (stale), every
 * 7,919th was never materialized (missing).
 */
const SEED = [
  `INSERT INTO runs (run_id, status, trigger, selection, full_refresh, created_at, started_at, finished_at)
    VALUES ('seed-run', 'success', 'test', ['billing_files', 'billing_events'], false, utc_now(), utc_now(), utc_now())`,
  `INSERT INTO billing_files (source_key, partition, size, version, status, needs_load, first_seen_at, last_seen_at,
      loaded_version, loaded_run_id, row_count)
    SELECT 'day-' || i || '.csv', DATE '${FIRST}' + CAST(i AS INTEGER), 100, 'v1',
      CASE WHEN i % 9973 = 9972 THEN 'failed' ELSE 'loaded' END, i % 4999 = 4998, utc_now(), utc_now(), 'v1', 'seed-run', 10
    FROM range(${DAYS}) t(i)`,
  `INSERT INTO materializations (run_id, asset, partition, status, row_count, created_at)
    SELECT 'seed-run', 'billing_events', CAST(DATE '${FIRST}' + CAST(i AS INTEGER) AS VARCHAR), 'success', 10, utc_now()
    FROM range(${DAYS}) t(i) WHERE i % 7919 <> 7918`,
];

describe.skipIf(!chromiumAvailable())('partition bar at 100,000 partitions (Chromium)', () => {
  let runtime: Runtime;
  let server: TestServer;
  let browser: Browser;

  beforeAll(async () => {
    const pipeline = await testPipeline('e2e-100k');
    runtime = await pipeline.open();
    for (const statement of SEED) await runtime.warehouse.exec(statement);
    server = await serveApp(runtime, inProcessLauncher(runtime), await buildWebUi());
    browser = await launchBrowser();
  }, 180_000);

  afterAll(async () => {
    await browser?.close();
    await server?.stop();
    await runtime?.close();
  });

  it('renders every day on one canvas and stays interactive', async () => {
    const page = await browser.newPage({ viewport: { width: 1280, height: 800 } });
    await page.goto(`${server.url}/assets/billing_events`);
    const bar = page.locator(`.pbar[data-days="${DAYS}"] canvas`);
    await bar.waitFor({ timeout: 30_000 });
    const label = await bar.getAttribute('aria-label');
    expect(label).toContain('100,000 days from 1750-01-01');
    expect(label).toMatch(/10 failed/);
    expect(label).toMatch(/12 missing/);
    expect(label).toMatch(/20 stale/);

    // Drawn as pixels, not nodes: the whole page stays a few hundred elements.
    const nodes = Number(await page.evaluate('document.querySelectorAll("*").length'));
    expect(nodes).toBeLessThan(3000);
    // Failures are never averaged away: the drawn bar contains the failed colour.
    const redColumns = Number(
      await page.evaluate(`(() => {
        const c = document.querySelector('.pbar canvas');
        const ctx = c.getContext('2d');
        const data = ctx.getImageData(0, Math.floor(c.height / 2), c.width, 1).data;
        let red = 0;
        for (let i = 0; i < data.length; i += 4) if (data[i] > 180 && data[i + 1] < 90 && data[i + 2] < 100) red++;
        return red;
      })()`),
    );
    expect(redColumns).toBeGreaterThanOrEqual(10);

    // A click selects a day and opens it; the keyboard moves the selection.
    const box = await bar.boundingBox();
    if (!box) throw new Error('the partition bar has no box');
    await page.mouse.click(box.x + box.width / 2, box.y + box.height / 2);
    await page.waitForURL(/from=\d{4}-\d{2}-\d{2}/);
    const picked = new URL(page.url()).searchParams.get('from') ?? '';
    await page.getByRole('heading', { name: picked }).waitFor();
    await bar.focus();
    await page.keyboard.press('ArrowRight');
    await page.waitForURL((url) => (url.searchParams.get('from') ?? '') > picked);
    await page.keyboard.press('End');
    await page.waitForURL((url) => url.searchParams.get('from') === '2023-10-16');
    await page.getByRole('heading', { name: '2023-10-16' }).waitFor();
    await screenshot(page, 'partition-bar-100k');
    await page.close();
  });
});
