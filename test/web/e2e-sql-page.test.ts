import { readFile } from 'node:fs/promises';
import type { Browser, Page } from 'playwright-core';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import type { Daemon } from '../../src/server/daemon.js';
import { testPipeline } from '../support/pipeline.js';
import { chromiumAvailable, launchBrowser, serveTestPipeline } from './e2e-support.js';

/**
 * The SQL page in Chromium against a real daemon: its POST passes the cross-site guard, its CSV
 * download is safe to open in a spreadsheet, and an error clears the previous result.
 */
describe.skipIf(!chromiumAvailable())('SQL page', () => {
  let daemon: Daemon;
  let browser: Browser;
  let page: Page;

  beforeAll(async () => {
    const pipeline = await testPipeline('e2e-sql-page');
    daemon = await serveTestPipeline(pipeline);
    browser = await launchBrowser();
    page = await browser.newPage({ acceptDownloads: true });
  }, 240_000);

  afterAll(async () => {
    await browser?.close();
    await daemon?.stop();
  });

  const runQuery = async (sql: string) => {
    await page.getByRole('textbox', { name: 'SQL query' }).fill(sql);
    await page.getByRole('button', { name: 'Run query' }).click();
  };

  it('downloads formula-safe CSV and clears the result after an error', async () => {
    await page.goto(`${daemon.info.url}/sql`);
    await runQuery(
      `SELECT '=HYPERLINK("http://evil.example")' AS f, '@SUM(A1)' AS a, '-2+3' AS m, CAST('-1.5' AS DECIMAL(18,6)) AS amount, 7 AS n`,
    );
    await page.getByRole('table', { name: 'query result' }).getByText('@SUM(A1)').waitFor();
    const [download] = await Promise.all([
      page.waitForEvent('download'),
      page.getByRole('button', { name: 'Download CSV' }).click(),
    ]);
    const file = await download.path();
    const csv = await readFile(file, 'utf8');
    expect(csv).toBe(`f,a,m,amount,n\n"'=HYPERLINK(""http://evil.example"")",'@SUM(A1),'-2+3,-1.500000,7\n`);

    await runQuery('SELECT * FROM no_such_table');
    await page.getByRole('alert').waitFor();
    expect(await page.getByRole('button', { name: 'Download CSV' }).count()).toBe(0);
    expect(await page.getByRole('table', { name: 'query result' }).count()).toBe(0);
  }, 60_000);
});
