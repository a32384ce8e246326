import { readFile, writeFile } from 'node:fs/promises';
import { createServer, type Server } from 'node:http';
import type { AddressInfo } from 'node:net';
import path from 'node:path';
import type { Browser, Page } from 'playwright-core';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import type { Daemon } from '../../src/server/daemon.js';
import { csv, row, testPipeline } from '../support/pipeline.js';
import { tmpDir } from '../support/tmp.js';
import { chromiumAvailable, launchBrowser, serveTestPipeline } from './e2e-support.js';

/**
 * The Budgets, budget, Alerts and Invoice preview pages in Chromium against a real daemon (issue
 * 14). The data is written row by row, so every figure is known; the page's figures are compared
 * with SQL sums computed here, on the raw amounts and the test's own FX rate. A file budget passes
 * 80 % of its amount, and a local receiver that fails its first request gets the alert, so the
 * Alerts page has a failed and a delivered attempt to list.
 */

const DAYS = ['01', '02', '03', '04', '05', '06', '07', '08', '09', '10'].map((d) => `2025-04-${d}`);
/**
 * Per day 8, 10 or 12 × 2 USD (user 1001, 98 events in all) + 4 × 5 EUR = 21.70 USD (user 1042):
 * 196 + 217 = 413 USD in April, 82.6 % of the budget. The uneven days give the forecast a band.
 */
const AMOUNT = '500';

/** The rate of test/support/pipeline.ts (TEST_FX_RATES), applied here independently of the load. */
const INDEPENDENT_USD = `CASE currency WHEN 'USD' THEN credit_usage
  WHEN 'EUR' THEN round(credit_usage * CAST('1.0850000000' AS DECIMAL(20,10)), 6) END`;
const APRIL_SPEND = `SELECT CAST(sum(${INDEPENDENT_USD}) AS VARCHAR) AS total FROM billing_events
  WHERE event_date >= DATE '2025-04-01' AND event_date <= DATE '2025-04-30'`;
const USER_APRIL_SPEND = `SELECT CAST(sum(${INDEPENDENT_USD}) AS VARCHAR) AS total FROM billing_events
  WHERE user_id = 1042 AND event_date >= DATE '2025-04-01' AND event_date <= DATE '2025-04-30'`;

/** "417.000000" and "417.0" are the same amount: compare decimal strings without trailing zeros. */
const exact = (text: string | null | undefined) =>
  String(text ?? '')
    .replace(/\s*[A-Z]{3}$/, '')
    .replace(/(\.\d*?)0+$/, '$1')
    .replace(/\.$/, '');

function dayFile(day: string, index: number): string {
  const rows: string[] = [];
  for (let i = 0; i < 8 + (index % 3) * 2; i++) {
    rows.push(
      row({
        timestamp: `${day}T${String(8 + i).padStart(2, '0')}:00:00Z`,
        resource_id: `vm-${i}`,
        user_id: '1001',
        credit_usage: '2.000000',
        invoice_id: `INV-1001-${day}`,
      }),
    );
  }
  for (let i = 0; i < 4; i++) {
    rows.push(
      row({
        timestamp: `${day}T${String(12 + i).padStart(2, '0')}:30:00Z`,
        resource_id: `bucket-${i}`,
        user_id: '1042',
        credit_usage: '5.000000',
        currency: 'EUR',
        service_tier: 'premium',
        operation_type: 'storage',
        resource_type: 'bucket',
        invoice_id: `INV-1042-${day}`,
      }),
    );
  }
  return csv(...rows);
}

/** A webhook receiver on 127.0.0.1 that answers 503 to its first request and 200 after. */
function startReceiver(): Promise<{ url: string; requests: string[]; server: Server }> {
  const requests: string[] = [];
  const server = createServer((req, res) => {
    let body = '';
    req.on('data', (chunk: Buffer) => {
      body += chunk.toString('utf8');
    });
    req.on('end', () => {
      requests.push(body);
      res.writeHead(requests.length === 1 ? 503 : 200, { 'content-type': 'text/plain' });
      res.end(requests.length === 1 ? 'try later' : 'ok');
    });
  });
  return new Promise((resolve) => {
    server.listen(0, '127.0.0.1', () => {
      const { port } = server.address() as AddressInfo;
      resolve({ url: `http://127.0.0.1:${port}/hook`, requests, server });
    });
  });
}

describe.skipIf(!chromiumAvailable())('budgets, alerts and invoice preview pages (Chromium)', () => {
  let daemon: Daemon;
  let browser: Browser;
  let page: Page;
  let url: string;
  let receiver: Awaited<ReturnType<typeof startReceiver>>;
  let aprilSpend: string;
  let userSpend: string;

  beforeAll(async () => {
    receiver = await startReceiver();
    const dir = await tmpDir('e2e-budgets-config');
    const budgets = path.join(dir, 'budgets.yaml');
    await writeFile(
      budgets,
      [
        '- id: platform-april',
        '  name: Platform April',
        '  scope: all',
        '  period: { from: 2025-04-01, to: 2025-04-30 }',
        `  amount: ${AMOUNT}`,
        '  thresholds: [50, 80, 100]',
        '',
      ].join('\n'),
    );
    const alerts = path.join(dir, 'alerts.yaml');
    await writeFile(
      alerts,
      [
        'channels:',
        '  - name: ops',
        '    type: webhook',
        `    url: ${receiver.url}`,
        '    rules: [budget_threshold]',
        'delivery: { max_attempts: 5, initial_delay_ms: 50, max_delay_ms: 200, timeout_ms: 2000 }',
        '',
      ].join('\n'),
    );
    const pipeline = await testPipeline('e2e-budgets', {
      env: { BILLING_BUDGETS_CONFIG: budgets, BILLING_ALERTS_CONFIG: alerts },
    });
    for (const [index, day] of DAYS.entries()) {
      const [y, m, d] = day.split('-');
      await pipeline.put(`year=${y}/month=${m}/day=${d}/events.csv`, dayFile(day, index));
    }
    const run = await pipeline.materialize();
    expect(run.status, run.error ?? '').toBe('success');
    aprilSpend = String((await pipeline.rows(APRIL_SPEND))[0]?.total);
    userSpend = String((await pipeline.rows(USER_APRIL_SPEND))[0]?.total);
    daemon = await serveTestPipeline(pipeline);
    url = daemon.info.url;
    browser = await launchBrowser();
    page = await browser.newPage({ viewport: { width: 1400, height: 900 }, acceptDownloads: true });
  }, 240_000);

  afterAll(async () => {
    await browser?.close();
    await daemon?.stop();
    await new Promise((done) => receiver?.server.close(done));
  });

  const budgetRow = (id: string) =>
    page
      .getByRole('table', { name: 'budgets' })
      .locator('tbody tr', { has: page.locator(`code:text-is("${id}")`) });

  it('lists the file budget with its exact spend in USD, share used and state', async () => {
    expect(exact(aprilSpend)).toBe('413');
    await page.goto(`${url}/budgets`);
    const spend = page.locator('[data-budget-spend="platform-april"] [title]').first();
    await spend.waitFor();
    expect(exact(await spend.getAttribute('title'))).toBe(exact(aprilSpend));
    expect(await spend.textContent()).toBe('413.00 USD');
    const cells = await budgetRow('platform-april').locator('td').allTextContents();
    const text = cells.join(' | ');
    expect(text).toContain('500.00 USD');
    expect(text).toContain('82.6%');
    expect(text).toMatch(/at risk|over budget|on track/);
    // A file budget is edited in its file: no Edit or Delete, but where it is declared.
    expect(text).toMatch(/declared in\s*budgets\.yaml:1/);
    expect(
      await budgetRow('platform-april')
        .getByRole('button', { name: /edit|delete/i })
        .count(),
    ).toBe(0);
  });

  it('draws the burn-down: actual spend, the forecast band to the period end, the budget line', async () => {
    await page.goto(`${url}/budgets/platform-april`);
    const chart = page.locator('[data-chart="burn-down"]');
    await chart.locator('.recharts-wrapper > svg.recharts-surface').waitFor();
    expect(await chart.getAttribute('data-days')).toBe('30');
    for (const series of [
      '.actual-line path.recharts-line-curve',
      '.forecast-line path.recharts-line-curve',
      '.forecast-band path.recharts-area-area',
    ]) {
      expect(await chart.locator(series).getAttribute('d'), series).toMatch(/^M[\d.]+/);
    }
    expect(await chart.locator('.budget-line').count()).toBeGreaterThan(0);
    expect(await chart.textContent()).toContain('budget 500.00 USD');
    const periods = page.getByRole('table', { name: 'budget periods' });
    expect(await periods.locator('tbody tr').first().textContent()).toContain('2025-04-01 – 2025-04-30');
  });

  it('shows the server’s message beside the amount, then creates and deletes a budget', async () => {
    await page.goto(`${url}/budgets`);
    await budgetRow('platform-april').waitFor();
    await page.getByRole('button', { name: 'New budget' }).click();
    const form = page.getByRole('form', { name: 'new budget' });
    await form.getByLabel('id', { exact: true }).fill('ui-budget');
    await form.getByLabel('amount').fill('12.1234567');
    await form.getByRole('button', { name: 'Create budget' }).click();
    const message = form.locator('[data-field="amount"]');
    await message.waitFor();
    // The message is the server's own: the same body straight to the API gets the same words.
    const res = await fetch(`${url}/api/budgets`, {
      method: 'POST',
      headers: { 'content-type': 'application/json', origin: url },
      body: JSON.stringify({
        id: 'ui-budget',
        scope: 'all',
        period: 'monthly',
        amount: '12.1234567',
        thresholds: [50, 80, 100],
      }),
    });
    expect(res.status).toBe(400);
    const body = (await res.json()) as {
      error: { code: string; details: { path: string; message: string }[] };
    };
    expect(body.error.code).toBe('invalid_budget');
    const serverMessage = body.error.details.find((d) => String(d.path).startsWith('amount'))?.message;
    expect(serverMessage).toBeTruthy();
    expect(await message.textContent()).toContain(serverMessage);

    await form.getByLabel('amount').fill('250');
    await form.getByRole('button', { name: 'Create budget' }).click();
    await form.waitFor({ state: 'detached' });
    const created = budgetRow('ui-budget');
    await created.waitFor();
    expect(await created.textContent()).toContain('250.00 USD');
    // An API budget can be edited: the form opens with its values, the id fixed.
    await created.getByRole('button', { name: 'edit ui-budget' }).click();
    const edit = page.getByRole('form', { name: 'edit budget ui-budget' });
    expect(await edit.getByLabel('id', { exact: true }).isDisabled()).toBe(true);
    expect(await edit.getByLabel('amount').inputValue()).toMatch(/^250(\.0+)?$/);
    await edit.getByLabel('amount').fill('300.5');
    await edit.getByRole('button', { name: 'Save budget' }).click();
    await edit.waitFor({ state: 'detached' });
    await created.getByText('300.50 USD').waitFor();
    await created.getByRole('button', { name: 'delete ui-budget' }).click();
    await created.getByRole('button', { name: 'Yes, delete' }).click();
    await created.waitFor({ state: 'detached' });
    expect(await budgetRow('platform-april').count()).toBe(1);
  });

  it('lists the threshold alert and its delivery attempts, the failed one and the delivered one', async () => {
    await page.goto(`${url}/alerts?state=all`);
    const alerts = page.getByRole('table', { name: 'alerts' });
    const alert = alerts
      .locator('tbody tr', { hasText: 'budget:platform-april' })
      .filter({ hasText: '80 %' });
    await alert.first().waitFor();
    expect(await alert.first().textContent()).toContain('Budget threshold crossed');
    await alert.first().click();
    const attempts = page.getByRole('table', { name: /^delivery attempts of / });
    // The daemon delivers from the outbox: the receiver refuses the first request, the retry lands.
    await attempts.locator('tbody tr', { hasText: 'delivered' }).first().waitFor({ timeout: 20_000 });
    const text = await attempts.locator('tbody').textContent();
    expect(text).toContain('ops');
    expect(receiver.requests.length).toBeGreaterThanOrEqual(2);
    const recent = page.getByRole('table', { name: 'recent delivery attempts' });
    const failed = recent.locator('tbody tr', { hasText: '503' });
    expect(await failed.count()).toBeGreaterThanOrEqual(1);
    expect(await failed.first().textContent()).toContain('failed');
    // The rules panel has a switch per rule and lists the channel by host.
    expect(await page.getByRole('switch', { name: /budget_threshold/ }).count()).toBe(1);
    const channels = await page.getByRole('list', { name: 'alert channels' }).textContent();
    expect(channels).toContain('127.0.0.1');
    expect(channels).toContain('unsigned');
    // The switch stores an override (PUT /api/alerts/rules/:rule); the panel says the UI set it.
    const freshness = page
      .getByRole('listitem')
      .filter({ has: page.getByRole('switch', { name: /freshness/ }) });
    await freshness.getByRole('switch').click();
    await freshness.getByRole('switch', { name: 'enable freshness' }).waitFor();
    expect(await freshness.textContent()).toContain('set by ui');
    await freshness.getByRole('switch').click();
    await freshness.getByRole('switch', { name: 'disable freshness' }).waitFor();
    const threshold = page
      .getByRole('listitem')
      .filter({ has: page.getByRole('switch', { name: /budget_threshold/ }) });
    await threshold.getByRole('button', { name: 'send test budget_threshold' }).click();
    await threshold.getByRole('status').getByText('Test queued: 1 event').waitFor();
  });

  it('shows the invoice preview total equal to the SQL sum, with its lines in USD', async () => {
    await page.goto(`${url}/invoices?user=1042&month=2025-04`);
    const total = page.locator('[data-invoice-total]');
    await total.waitFor();
    expect(exact(await total.getAttribute('data-invoice-total'))).toBe(exact(userSpend));
    expect(exact(userSpend)).toBe('217');
    expect(await total.textContent()).toBe('217.00 USD');
    const lines = page.getByRole('table', { name: 'invoice lines' });
    const line = await lines.locator('tbody tr').first().textContent();
    expect(line).toContain('premium');
    expect(line).toContain('217.00 USD');
    expect(line).toContain('200.00 EUR');
    expect(await page.getByRole('table', { name: 'rates used' }).textContent()).toContain('1.085');
    const [download] = await Promise.all([
      page.waitForEvent('download'),
      page.getByRole('button', { name: 'Download CSV' }).click(),
    ]);
    expect(download.suggestedFilename()).toBe('invoice-preview-1042-2025-04.csv');
    const exported = await readFile(await download.path(), 'utf8');
    expect(exported).toContain('premium');
    expect(exported).toContain(userSpend);
  });
});
