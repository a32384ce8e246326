import path from 'node:path';
import type { Browser, Page } from 'playwright-core';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { loadConfig } from '../../src/config.js';
import { type Daemon, startDaemon } from '../../src/server/daemon.js';
import { type TestPipeline, testPipeline } from '../support/pipeline.js';
import { buildWebUi, chromiumAvailable, launchBrowser, screenshot, setTheme } from './e2e-support.js';
import { seed } from './support.js';

/**
 * The UI in real Chromium against the real daemon (`billing-pipeline dev`: run queue, sensors,
 * schedules, HTTP API) on demo-like data: 30 days of generated exports in a fresh bucket.
 */
describe.skipIf(!chromiumAvailable())('web UI end to end (Chromium + daemon)', () => {
  let pipeline: TestPipeline;
  let daemon: Daemon;
  let browser: Browser;
  let page: Page;
  const api = async <T>(p: string): Promise<T> => (await (await fetch(`${daemon.info.url}${p}`)).json()) as T;

  beforeAll(async () => {
    pipeline = await testPipeline('e2e-ui');
    await seed(pipeline, { from: '2025-04-01', to: '2025-04-30', rowsPerDay: 1500, dirtyRate: 0.003 });
    const first = await pipeline.materialize();
    expect(first.status).toBe('success');
    const config = loadConfig(
      { ...pipeline.env, BILLING_DUCKDB_THREADS: '2' },
      { source: pipeline.source, home: path.join(pipeline.home, 'state') },
    );
    daemon = await startDaemon({
      config,
      mode: 'dev',
      host: '127.0.0.1',
      port: 0,
      webRoot: await buildWebUi(),
      log: () => {},
    });
    browser = await launchBrowser();
    page = await browser.newPage({ viewport: { width: 1280, height: 800 } });
  }, 240_000);

  afterAll(async () => {
    await browser?.close();
    await daemon?.stop();
  });

  it('launches a materialization from an asset page and watches it finish', async () => {
    await page.goto(`${daemon.info.url}/assets/daily_aggregates`);
    await page.getByRole('button', { name: 'Materialize this asset', exact: true }).click();
    // Every materialize button first says what it will run.
    await page.getByRole('button', { name: 'Launch run of 1 asset(s)' }).click();
    await page.waitForURL(/\/runs\/[\w-]+$/);
    const runId = decodeURIComponent(page.url().split('/').pop() ?? '');
    // The page polls while the run is live; success shows without a reload.
    await page.locator('.page-head .badge', { hasText: 'success' }).waitFor({ timeout: 60_000 });
    await page.getByRole('table', { name: 'event log' }).getByText('asset_materialized').first().waitFor();
    // The configuration the run recorded (the daemon's), with the reporting currency it ran in.
    await page.getByText(/^Configuration \(\d+ settings\)$/).click();
    const config = page.getByLabel('run configuration');
    await config.getByText('reporting_currency', { exact: true }).waitFor();
    expect(await config.textContent()).toContain('USD');
    const detail = await api<{ run: { status: string; selection: string[] } }>(`/api/runs/${runId}`);
    expect(detail.run).toMatchObject({
      status: 'success',
      selection: ['daily_aggregates'],
      trigger: 'ui',
    });
    await screenshot(page, 'run');
  });

  it('selects days on the partition bar and materializes just those', async () => {
    await page.goto(`${daemon.info.url}/assets/billing_events?from=2025-04-10&to=2025-04-12`);
    await page.getByRole('button', { name: 'Materialize 2025-04-10 … 2025-04-12' }).click();
    await page.getByRole('button', { name: /^Launch run of \d+ asset/ }).click();
    await page.waitForURL(/\/runs\/[\w-]+$/);
    await page.locator('.page-head .badge', { hasText: 'success' }).waitFor({ timeout: 60_000 });
    const runId = decodeURIComponent(page.url().split('/').pop() ?? '');
    const detail = await api<{ run: { partition_from: string; partition_to: string; selection: string[] } }>(
      `/api/runs/${runId}`,
    );
    // The days are rebuilt from their files: billing_files hands them to billing_events again.
    expect(detail.run).toMatchObject({
      partition_from: '2025-04-10',
      partition_to: '2025-04-12',
      selection: expect.arrayContaining(['billing_files', 'billing_events']),
    });

    await page.goto(`${daemon.info.url}/assets/billing_events?from=2025-04-11&to=2025-04-11`);
    await page.getByRole('heading', { name: '2025-04-11' }).waitFor();
    await page.getByRole('table', { name: 'partition runs' }).getByText(runId).waitFor();
    await screenshot(page, 'asset');
  });

  it('toggles a sensor off and on', async () => {
    await page.goto(`${daemon.info.url}/automation`);
    const sensors = (await api<{ sensors: { name: string; enabled: boolean }[] }>('/api/sensors')).sensors;
    const sensor = sensors[0];
    if (!sensor) throw new Error('the daemon defines no sensor');
    expect(sensor.enabled).toBe(true);
    const toggle = page.getByRole('switch', { name: `stop ${sensor.name}` });
    await toggle.click();
    await page.getByRole('switch', { name: `start ${sensor.name}` }).waitFor();
    expect((await api<{ sensors: typeof sensors }>('/api/sensors')).sensors[0]?.enabled).toBe(false);
    await page.getByRole('switch', { name: `start ${sensor.name}` }).click();
    await page.getByRole('switch', { name: `stop ${sensor.name}` }).waitFor();
    expect((await api<{ sensors: typeof sensors }>('/api/sensors')).sensors[0]?.enabled).toBe(true);
    await page.getByRole('cell', { name: sensor.name, exact: true }).click();
    await page.getByRole('heading', { name: `Tick history: ${sensor.name}` }).waitFor();
    // The daemon ticked the sensor when dev mode switched it on; wait for that row, not the skeleton.
    await page.getByRole('table', { name: 'ticks' }).locator('tbody .badge').first().waitFor();
    await screenshot(page, 'automation');
  });

  it('drills from a dashboard chart down to source rows', async () => {
    await page.goto(`${daemon.info.url}/insights`);
    const bars = page.locator('[data-chart="spend-volume"] .recharts-bar-rectangle');
    await bars.nth(10).waitFor();
    await screenshot(page, 'insights');
    await bars.nth(10).click();
    await page.waitForURL(/drill=day&day=\d{4}-\d{2}-\d{2}/);
    const day = new URL(page.url()).searchParams.get('day') ?? '';
    const files = page.getByRole('table', { name: 'files behind the day' });
    await files.locator('tbody tr').first().waitFor();
    const lineage = await api<{
      files: { source_key: string; events: number }[];
      totals: { events: number };
    }>(`/api/lineage/day?day=${day}`);
    expect(await files.locator('tbody tr').count()).toBe(lineage.files.length);
    expect(lineage.files.reduce((n, f) => n + f.events, 0)).toBe(lineage.totals.events);

    await files.locator('tbody tr').first().click();
    const rows = page.getByRole('table', { name: 'source rows' });
    await rows.locator('tbody tr').first().waitFor();
    const firstFile = lineage.files[0];
    await page.getByText(`of ${new Intl.NumberFormat('en').format(firstFile?.events ?? 0)}`).waitFor();
    const line = Number(await rows.locator('tbody tr').first().locator('td').first().textContent());
    expect(line).toBeGreaterThanOrEqual(2);
    await screenshot(page, 'drill-down');

    // A region bar becomes a filter; the drill-down then only shows that region's events.
    await page.goto(`${daemon.info.url}/insights`);
    await page.locator('[data-chart="regions"] .recharts-bar-rectangle').first().click();
    await page.waitForURL(/region=/);
    const region = new URL(page.url()).searchParams.get('region');
    await page.getByRole('button', { name: `Region: ${region} ✕` }).waitFor();
  });

  it('shows rejected rows and runs read-only SQL', async () => {
    await page.goto(`${daemon.info.url}/data`);
    await page.getByRole('table', { name: 'rejected rows' }).locator('tbody tr').first().waitFor();
    await screenshot(page, 'data');

    await page.goto(`${daemon.info.url}/sql`);
    await page
      .getByRole('textbox', { name: 'SQL query' })
      .fill('SELECT day, event_count, total_credit_usage FROM daily_aggregates ORDER BY day');
    await page.getByRole('button', { name: 'Run query' }).click();
    await page.getByRole('table', { name: 'query result' }).getByText('2025-04-15').waitFor();
    await screenshot(page, 'sql');
    await page.getByRole('textbox', { name: 'SQL query' }).fill("SELECT * FROM read_text('/etc/passwd')");
    await page.getByRole('button', { name: 'Run query' }).click();
    await page.getByRole('alert').waitFor();
  });

  it('renders every page in both themes', async () => {
    for (const theme of ['light', 'dark'] as const) {
      await page.goto(`${daemon.info.url}/assets`);
      await setTheme(page, theme);
      await page.locator('.asset-node').first().waitFor();
      await screenshot(page, `assets-${theme}`);
      await page.goto(`${daemon.info.url}/insights`);
      await page.locator('[data-chart="spend-volume"] .recharts-bar-rectangle').first().waitFor();
      await screenshot(page, `insights-${theme}`, { fullPage: true });
      await page.goto(`${daemon.info.url}/runs`);
      await page.getByRole('table', { name: 'runs' }).locator('tbody tr').first().waitFor();
      await screenshot(page, `runs-${theme}`);
    }
    const dark = await page.evaluate('document.documentElement.dataset.theme');
    expect(dark).toBe('dark');
  });
});
