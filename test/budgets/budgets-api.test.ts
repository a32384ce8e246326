import { writeFile } from 'node:fs/promises';
import path from 'node:path';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import type { Runtime } from '../../src/runtime.js';
import { type App, createApp } from '../../src/server/app.js';
import { cli } from '../support/cli.js';
import { type TestPipeline, testPipeline } from '../support/pipeline.js';
import { tmpDir } from '../support/tmp.js';
import { type InProcessLauncher, inProcessLauncher, seed } from '../web/support.js';

// biome-ignore lint/suspicious/noExplicitAny: response bodies are checked by the assertions themselves
type Json = Record<string, any>;

let pipeline: TestPipeline;
let runtime: Runtime;
let launcher: InProcessLauncher;
let app: App;

async function call(method: string, url: string, body?: unknown): Promise<{ status: number; body: Json }> {
  const res = await app.request(url, {
    method,
    headers: body === undefined ? {} : { 'content-type': 'application/json' },
    body: body === undefined ? undefined : JSON.stringify(body),
  });
  return { status: res.status, body: (await res.json()) as Json };
}

beforeAll(async () => {
  const dir = await tmpDir('budgets-api-config');
  const file = path.join(dir, 'budgets.yaml');
  await writeFile(
    file,
    [
      '# platform budgets',
      '- id: platform',
      '  scope: all',
      '  period: monthly',
      '  amount: 1000000',
      '',
    ].join('\n'),
  );
  pipeline = await testPipeline('budgets-api', { env: { BILLING_BUDGETS_CONFIG: file } });
  await seed(pipeline, {
    from: '2025-03-01',
    to: '2025-03-06',
    rowsPerDay: 60,
    dirtyRate: 0,
    filesPerDay: 1,
  });
  runtime = await pipeline.open();
  launcher = inProcessLauncher(runtime);
  const run = await runtime.materialize({ trigger: 'test' });
  expect(run.status).toBe('success');
  app = createApp({ runtime, launcher });
}, 60_000);

let closed = false;
afterAll(async () => {
  await launcher?.idle();
  if (!closed) await runtime?.close();
});

describe('the budgets API', () => {
  it('lists file budgets with their current status, labelled with the currency', async () => {
    const { status, body } = await call('GET', '/api/budgets');
    expect(status).toBe(200);
    expect(body.currency).toBe('USD');
    const [platform] = body.budgets;
    expect(platform).toMatchObject({
      id: 'platform',
      origin: 'file',
      declaredAt: 'budgets.yaml:2',
      amount: '1000000',
    });
    expect(platform.status).toMatchObject({
      periodStart: '2025-03-01',
      periodEnd: '2025-03-31',
      currency: 'USD',
      asOf: '2025-03-06',
      isCurrent: true,
      state: 'ok',
    });
    const [total] = await runtime.warehouse.all<Json>(
      "SELECT CAST(sum(total_normalized_credit_usage) AS VARCHAR) AS s FROM daily_aggregates WHERE day >= DATE '2025-03-01'",
    );
    expect(platform.status.spendToDate).toBe(total?.s);
  });

  it('refuses a bad body with per-field details, and file budgets with 409', async () => {
    const bad = await call('POST', '/api/budgets', {
      id: 'Bad Id',
      scope: { planet: 'mars' },
      period: 'weekly',
      amount: '-3',
      thresholds: [80, 50],
    });
    expect(bad.status).toBe(400);
    expect(bad.body.error.code).toBe('invalid_budget');
    const paths = (bad.body.error.details as { path: string }[]).map((d) => d.path).sort();
    expect(paths).toEqual(['amount', 'id', 'period', 'scope', 'thresholds']);

    const clash = await call('POST', '/api/budgets', {
      id: 'platform',
      scope: 'all',
      period: 'monthly',
      amount: '5',
    });
    expect(clash.status).toBe(409);
    expect(clash.body.error).toMatchObject({ code: 'budget_in_file' });
    expect(clash.body.error.message).toContain('budgets.yaml:2; edit the file');
    expect(
      (await call('PUT', '/api/budgets/platform', { scope: 'all', period: 'monthly', amount: '5' })).status,
    ).toBe(409);
    expect((await call('DELETE', '/api/budgets/platform')).status).toBe(409);
    expect((await call('GET', '/api/budgets/nope')).status).toBe(404);
  });

  it('creates, updates and deletes an API budget; each write queues budget_status and the status follows', async () => {
    const body = {
      id: 'eu-tight',
      name: 'EU',
      scope: { region: 'eu-west-1' },
      period: 'monthly',
      amount: '10.5',
    };
    const created = await call('POST', '/api/budgets', body);
    expect(created.status).toBe(201);
    expect(created.body.budget).toMatchObject({
      id: 'eu-tight',
      origin: 'api',
      scope: { kind: 'region', value: 'eu-west-1' },
      thresholds: [50, 80, 100],
    });
    expect(typeof created.body.runId).toBe('string');
    expect((await call('POST', '/api/budgets', body)).status).toBe(409);
    await launcher.idle();

    const detail = await call('GET', '/api/budgets/eu-tight');
    expect(detail.status).toBe(200);
    const current = detail.body.periods.find((p: Json) => p.isCurrent);
    expect(current).toMatchObject({ periodStart: '2025-03-01', amount: '10.500000', currency: 'USD' });
    const [eu] = await runtime.warehouse.all<Json>(
      "SELECT CAST(sum(total_normalized_credit_usage) AS VARCHAR) AS s FROM region_daily_aggregates WHERE region = 'eu-west-1' AND day >= DATE '2025-03-01'",
    );
    expect(current.spendToDate).toBe(eu?.s ?? '0.000000');
    expect(detail.body.days.filter((d: Json) => d.kind === 'actual')).toHaveLength(6);
    expect(detail.body.days.filter((d: Json) => d.kind === 'forecast')).toHaveLength(25);

    // No new data: the edit alone recomputes the status.
    const updated = await call('PUT', '/api/budgets/eu-tight', { ...body, id: undefined, amount: '1000000' });
    expect(updated.status).toBe(200);
    await launcher.idle();
    const after = await call('GET', '/api/budgets/eu-tight');
    expect(after.body.periods.find((p: Json) => p.isCurrent)).toMatchObject({
      amount: '1000000.000000',
      state: 'ok',
    });

    expect((await call('DELETE', '/api/budgets/eu-tight')).status).toBe(200);
    await launcher.idle();
    expect((await call('GET', '/api/budgets/eu-tight')).status).toBe(404);
    expect(
      await runtime.warehouse.all<Json>("SELECT * FROM budget_status WHERE budget_id = 'eu-tight'"),
    ).toEqual([]);
    expect((await call('DELETE', '/api/budgets/eu-tight')).status).toBe(404);
  });

  it('billing-pipeline budgets lists file and API budgets with their status', async () => {
    const body = {
      id: 'cli-listed',
      scope: { service_tier: 'premium' },
      period: { from: '2025-03-01', to: '2025-03-10' },
      amount: '20',
    };
    expect((await call('POST', '/api/budgets', body)).status).toBe(201);
    await launcher.idle();
    await runtime.close();
    closed = true;
    const env = {
      ...pipeline.env,
      BILLING_SOURCE: pipeline.source,
      BILLING_HOME: path.join(pipeline.home, 'state'),
    };
    const listed = await cli(env, 'budgets', '--json');
    expect(listed.stderr).toBe('');
    expect(listed.code).toBe(0);
    expect((JSON.parse(listed.stdout) as Json).budgets.map((b: Json) => b.id)).toEqual([
      'platform',
      'cli-listed',
    ]);
    const table = await cli(env, 'budgets');
    expect(table.stdout).toMatch(/platform\s+all\s+2025-03-01\.\.2025-03-31\s+1,000,000\.00 USD/);
    expect(table.stdout).toMatch(/cli-listed\s+service_tier=premium\s+2025-03-01\.\.2025-03-10\s+20\.00 USD/);
  });
});
