import { writeFile } from 'node:fs/promises';
import path from 'node:path';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import type { Runtime } from '../../src/runtime.js';
import { type App, createApp } from '../../src/server/app.js';
import { csv, row, type TestPipeline, testPipeline } from '../support/pipeline.js';
import { tmpDir } from '../support/tmp.js';
import { inProcessLauncher } from '../web/support.js';
import { type Receiver, startReceiver } from './delivery-support.js';

/**
 * The alerts API on a warehouse where a run really failed (JPY events, an FX file without JPY: the
 * fx_rate_available error check fails the run), so run_failed and check_failed alerts were decided
 * by the evaluation after the run and delivered once: to `ops` (answers 200) and `flaky` (500, to
 * be retried a minute later). Expectations come from the alert tables.
 */

interface Listed {
  id: string;
  rule: string;
  scope: string;
  state: string;
  deliveries: { delivered: number; failed: number; pending: number };
}

let ok: Receiver;
let flaky: Receiver;
let pipeline: TestPipeline;
let runtime: Runtime;
let app: App;

async function request(method: string, url: string, body?: unknown) {
  const res = await app.request(url, {
    method,
    headers: body === undefined ? {} : { 'content-type': 'application/json' },
    body: body === undefined ? undefined : typeof body === 'string' ? body : JSON.stringify(body),
  });
  return {
    status: res.status,
    body: (await res.json()) as Record<string, unknown> & { error?: { message: string; details?: unknown } },
  };
}

beforeAll(async () => {
  ok = await startReceiver(() => 200);
  flaky = await startReceiver(() => 500);
  const dir = await tmpDir('alerts-api-config');
  const fxPath = path.join(dir, 'fx.csv');
  await writeFile(fxPath, 'date,currency,rate\n2000-01-01,EUR,1.0850000000\n');
  const alertsPath = path.join(dir, 'alerts.yaml');
  await writeFile(
    alertsPath,
    [
      'rules:',
      // The data is from 2025: judged against today, every later day's file would be "missing".
      '  freshness: { enabled: false }',
      'channels:',
      `  - { name: ops, type: webhook, url: "${ok.url}", secret_env: TEST_ALERT_SECRET }`,
      `  - { name: flaky, type: slack, url: "${flaky.url}" }`,
      'delivery: { max_attempts: 3, initial_delay_ms: 60000, max_delay_ms: 60000, timeout_ms: 2000 }',
      '',
    ].join('\n'),
  );
  pipeline = await testPipeline('alerts-api', {
    fx: fxPath,
    env: { BILLING_ALERTS_CONFIG: alertsPath, TEST_ALERT_SECRET: 's3cret' },
  });
  await pipeline.put(
    'year=2025/month=04/day=23/a.csv',
    csv(row({ user_id: '1' }), row({ user_id: '2', currency: 'JPY', credit_usage: '150' })),
  );
  runtime = await pipeline.open();
  const summary = await runtime.materialize({ trigger: 'test' });
  expect(summary.status).toBe('failed');
  app = createApp({ runtime, launcher: inProcessLauncher(runtime) });
});

afterAll(async () => {
  await runtime?.close();
  await ok?.close();
  await flaky?.close();
});

describe('alerts API', () => {
  it('lists the open alerts with their delivery counts', async () => {
    const { status, body } = await request('GET', '/api/alerts');
    expect(status).toBe(200);
    const alerts = body.alerts as Listed[];
    const stored = await runtime.warehouse.all<{ alert_id: string; rule: string }>(
      "SELECT alert_id, rule FROM alerts WHERE state = 'open' ORDER BY opened_at DESC, alert_id DESC",
    );
    expect(alerts.map((a) => a.id)).toEqual(stored.map((s) => s.alert_id));
    expect(alerts.map((a) => a.rule)).toEqual(expect.arrayContaining(['run_failed', 'check_failed']));
    const runFailed = alerts.find((a) => a.rule === 'run_failed');
    expect(runFailed).toMatchObject({
      scope: 'trigger:test',
      state: 'open',
      severity: 'error',
      threshold: null,
    });
    for (const a of alerts) expect(a.deliveries, a.rule).toEqual({ delivered: 1, failed: 0, pending: 1 });
    expect(ok.requests.length).toBe(alerts.length);
    expect((await request('GET', '/api/alerts?state=resolved')).body.alerts).toEqual([]);
    expect(((await request('GET', '/api/alerts?state=all')).body.alerts as Listed[]).length).toBe(
      alerts.length,
    );
    expect((await request('GET', '/api/alerts?state=closed')).status).toBe(400);
  });

  it('shows one alert with its outbox events and attempts', async () => {
    const [first] = (await request('GET', '/api/alerts')).body.alerts as Listed[];
    const { status, body } = await request('GET', `/api/alerts/${first?.id}`);
    expect(status).toBe(200);
    expect(body.alert).toMatchObject({ id: first?.id, state: 'open', resolvedAt: null });
    const events = body.events as { channel: string; kind: string; status: string; attempts: number }[];
    expect(events.map((e) => [e.channel, e.kind, e.status, e.attempts]).sort()).toEqual([
      ['flaky', 'fired', 'pending', 1],
      ['ops', 'fired', 'delivered', 1],
    ]);
    const attempts = body.attempts as {
      channel: string;
      status: string;
      httpStatus: number;
      nextAttemptAt: string | null;
    }[];
    expect(attempts.map((a) => [a.channel, a.status, a.httpStatus]).sort()).toEqual([
      ['flaky', 'failed', 500],
      ['ops', 'delivered', 200],
    ]);
    expect(attempts.find((a) => a.channel === 'flaky')?.nextAttemptAt).toEqual(expect.any(String));
    const missing = await request('GET', '/api/alerts/no-such-alert');
    expect(missing.status).toBe(404);
    expect(missing.body.error?.message).toMatch(/no alert "no-such-alert"/);
  });

  it('lists the latest delivery attempts, newest first, with a limit', async () => {
    const all = (await request('GET', '/api/alerts/deliveries')).body.attempts as {
      eventId: string;
      attemptedAt: string;
    }[];
    const [count] = await runtime.warehouse.all<{ n: number }>('SELECT count(*) AS n FROM alert_deliveries');
    expect(all.length).toBe(count?.n);
    expect(all.map((a) => a.attemptedAt)).toEqual([...all.map((a) => a.attemptedAt)].sort().reverse());
    const two = (await request('GET', '/api/alerts/deliveries?limit=2')).body.attempts as unknown[];
    expect(two).toEqual(all.slice(0, 2));
    expect((await request('GET', '/api/alerts/deliveries?limit=0')).status).toBe(400);
  });

  it('lists the rules with their source and the channels without their URLs', async () => {
    const { body } = await request('GET', '/api/alerts/rules');
    const rules = body.rules as { rule: string; enabled: boolean; source: string; description: string }[];
    expect(rules.map((r) => r.rule)).toEqual([
      'budget_threshold',
      'forecast_overrun',
      'spend_anomaly',
      'check_failed',
      'freshness',
      'run_failed',
    ]);
    expect(rules.find((r) => r.rule === 'freshness')).toMatchObject({ enabled: false, source: 'file' });
    expect(rules.find((r) => r.rule === 'run_failed')).toMatchObject({ enabled: true, source: 'default' });
    for (const r of rules) expect(r.description.length).toBeGreaterThan(10);
    const host = new URL(ok.url).host;
    expect(body.channels).toEqual([
      { name: 'ops', type: 'webhook', host, signed: true },
      { name: 'flaky', type: 'slack', host: new URL(flaky.url).host, signed: false },
    ]);
    expect(JSON.stringify(body)).not.toContain('/hook');
  });

  it('switches a rule from the UI: persisted, source ui, and refuses unknown rules and bad bodies', async () => {
    const put = await request('PUT', '/api/alerts/rules/spend_anomaly', { enabled: false });
    expect(put.status).toBe(200);
    expect(put.body).toMatchObject({ rule: 'spend_anomaly', enabled: false, source: 'ui' });
    // The switch outlives the app and the process's connection: a fresh runtime reads it back.
    await runtime.close();
    runtime = await pipeline.open();
    app = createApp({ runtime, launcher: inProcessLauncher(runtime) });
    const rules = (await request('GET', '/api/alerts/rules')).body.rules as {
      rule: string;
      enabled: boolean;
      source: string;
    }[];
    expect(rules.find((r) => r.rule === 'spend_anomaly')).toMatchObject({ enabled: false, source: 'ui' });
    // Switching the file-disabled rule on from the UI wins over the file.
    const on = await request('PUT', '/api/alerts/rules/freshness', { enabled: true });
    expect(on.body).toMatchObject({ rule: 'freshness', enabled: true, source: 'ui' });
    await request('PUT', '/api/alerts/rules/freshness', { enabled: false });

    const unknown = await request('PUT', '/api/alerts/rules/budget_treshold', { enabled: true });
    expect(unknown.status).toBe(404);
    expect(unknown.body.error?.message).toMatch(
      /no alert rule "budget_treshold"; the rules are budget_threshold, /,
    );
    expect(unknown.body.error?.details).toEqual({ rules: expect.arrayContaining(['run_failed']) });
    for (const bad of [{ enabled: 'yes' }, {}, { enabled: true, extra: 1 }, 'not json']) {
      expect((await request('PUT', '/api/alerts/rules/run_failed', bad)).status, JSON.stringify(bad)).toBe(
        400,
      );
    }
  });

  it('queues test events per channel, or for one channel', async () => {
    const both = await request('POST', '/api/alerts/rules/run_failed/test');
    expect(both.status).toBe(200);
    const ids = both.body.eventIds as string[];
    expect(ids).toHaveLength(2);
    const queued = await runtime.warehouse.all<{ channel: string; kind: string; status: string }>(
      `SELECT channel, kind, status FROM alert_outbox WHERE event_id IN ('${ids.join("','")}') ORDER BY channel`,
    );
    expect(queued).toEqual([
      { channel: 'flaky', kind: 'test', status: 'pending' },
      { channel: 'ops', kind: 'test', status: 'pending' },
    ]);
    const one = await request('POST', '/api/alerts/rules/run_failed/test?channel=ops');
    expect(one.body.eventIds).toHaveLength(1);
    const nope = await request('POST', '/api/alerts/rules/run_failed/test?channel=pager');
    expect(nope.status).toBe(404);
    expect(nope.body.error?.message).toMatch(/no alert channel "pager"; the channels are ops, flaky/);
    expect((await request('POST', '/api/alerts/rules/no_such_rule/test')).status).toBe(404);
  });
});

describe('alerts API without channels or alert tables', () => {
  let bare: Runtime;
  let bareApp: App;
  beforeAll(async () => {
    bare = await (await testPipeline('alerts-api-bare', { fx: null })).open();
    bareApp = createApp({ runtime: bare, launcher: inProcessLauncher(bare) });
  });
  afterAll(() => bare?.close());

  it('answers empty lists and refuses a test alert with 409 naming the setting', async () => {
    expect(await (await bareApp.request('/api/alerts')).json()).toEqual({ alerts: [] });
    expect(await (await bareApp.request('/api/alerts/deliveries')).json()).toEqual({ attempts: [] });
    const rules = (await (await bareApp.request('/api/alerts/rules')).json()) as {
      rules: { source: string }[];
      channels: unknown[];
    };
    expect(rules.channels).toEqual([]);
    expect(rules.rules.every((r) => r.source === 'default')).toBe(true);
    const res = await bareApp.request('/api/alerts/rules/run_failed/test', { method: 'POST' });
    expect(res.status).toBe(409);
    const body = (await res.json()) as { error: { code: string; message: string } };
    expect(body.error.code).toBe('no_channels');
    expect(body.error.message).toContain('configure alerts.channels in billing-pipeline.yaml');
  });
});
