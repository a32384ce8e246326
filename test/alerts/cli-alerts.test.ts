import { writeFile } from 'node:fs/promises';
import path from 'node:path';
import { afterAll, afterEach, beforeAll, describe, expect, it, vi } from 'vitest';
import { startServe } from '../automation/daemon-support.js';
import { cli } from '../support/cli.js';
import { csv, row, type TestPipeline, testPipeline } from '../support/pipeline.js';
import { tmpDir } from '../support/tmp.js';
import { type Receiver, startReceiver } from './delivery-support.js';

/**
 * `alerts list` and `alerts test` without a daemon, on a warehouse where a run failed (an FX file
 * without the JPY rate its events need): the run's evaluation opened run_failed and check_failed
 * alerts and delivered them once to `ops` (200) and `flaky` (500, retried a minute later).
 */

let ok: Receiver;
let flaky: Receiver;
let pipeline: TestPipeline;
let env: Record<string, string>;

const run = (...args: string[]) => cli(env, 'alerts', ...args);

beforeAll(async () => {
  ok = await startReceiver(() => 200);
  flaky = await startReceiver(() => 500);
  const dir = await tmpDir('alerts-cli-config');
  const fxPath = path.join(dir, 'fx.csv');
  await writeFile(fxPath, 'date,currency,rate\n2000-01-01,EUR,1.0850000000\n');
  const alertsPath = path.join(dir, 'alerts.yaml');
  await writeFile(
    alertsPath,
    [
      'rules:',
      '  freshness: { enabled: false }',
      'channels:',
      `  - { name: ops, type: webhook, url: "${ok.url}" }`,
      `  - { name: flaky, type: webhook, url: "${flaky.url}" }`,
      'delivery: { max_attempts: 3, initial_delay_ms: 60000, max_delay_ms: 60000, timeout_ms: 2000 }',
      '',
    ].join('\n'),
  );
  pipeline = await testPipeline('alerts-cli', { fx: fxPath, env: { BILLING_ALERTS_CONFIG: alertsPath } });
  env = { ...pipeline.env, BILLING_SOURCE: pipeline.source, BILLING_HOME: path.join(pipeline.home, 'state') };
  await pipeline.put(
    'year=2025/month=04/day=23/a.csv',
    csv(row({ user_id: '1' }), row({ user_id: '2', currency: 'JPY', credit_usage: '150' })),
  );
  const summary = await pipeline.materialize({ trigger: 'test' });
  expect(summary.status).toBe('failed');
});

afterAll(async () => {
  await ok?.close();
  await flaky?.close();
});

afterEach(() => {
  vi.restoreAllMocks();
});

describe('billing-pipeline alerts', () => {
  it('lists open alerts as a table with state, scope, period and delivery counts', async () => {
    const result = await run('list');
    expect(result.code).toBe(0);
    const [header, rule, ...rows] = result.stdout.trimEnd().split('\n');
    expect(header).toMatch(
      /^state\s+rule\s+scope\s+period\s+threshold\s+summary\s+opened\s+resolved\s+delivered\s+failed\s+pending$/,
    );
    expect(rule).toMatch(/^-+( +-+){10}$/);
    const runFailed = rows.find((r) => r.includes('run_failed')) ?? '';
    expect(runFailed).toMatch(/^open\s+run_failed\s+trigger:test\s+-\s+—\s+Run \S+ \(test\) failed/);
    // delivered 1 (ops), failed 0, pending 1 (flaky, retried later)
    expect(runFailed).toMatch(/\s1\s+0\s+1$/);
    expect(rows.some((r) => /^open\s+check_failed/.test(r))).toBe(true);
  });

  it('prints the API JSON with --json, and filters by state', async () => {
    const result = await run('list', '--json', '--state', 'all');
    expect(result.code).toBe(0);
    const { alerts } = JSON.parse(result.stdout) as {
      alerts: { id: string; rule: string; dedupeKey: string; deliveries: Record<string, number> }[];
    };
    const stored = await pipeline.rows(
      'SELECT alert_id, dedupe_key FROM alerts ORDER BY opened_at DESC, alert_id DESC',
    );
    expect(alerts.map((a) => [a.id, a.dedupeKey])).toEqual(stored.map((s) => [s.alert_id, s.dedupe_key]));
    expect(alerts.every((a) => a.deliveries.delivered === 1 && a.deliveries.pending === 1)).toBe(true);
    const resolved = await run('list', '--state', 'resolved');
    expect(resolved).toMatchObject({ code: 0, stdout: '(no resolved alerts)\n' });
    const bad = await run('list', '--state', 'closed');
    expect(bad.code).toBe(2);
    expect(bad.stderr).toMatch(/--state must be one of open, resolved, all; got "closed"/);
  });

  it('sends a test alert and prints the attempt: delivered exits 0, failed exits 1', async () => {
    const before = ok.requests.length;
    const good = await run('test', 'run_failed', '--channel', 'ops');
    expect(good.code).toBe(0);
    const match = /^ops: delivered HTTP 200 in \d+ ms \(event (\S+)\)$/m.exec(good.stdout);
    expect(match, good.stdout + good.stderr).not.toBeNull();
    expect(ok.requests.length).toBe(before + 1);
    const received = ok.requests.at(-1);
    expect(received?.headers['x-billing-alert-event']).toBe(match?.[1]);
    expect(JSON.parse(received?.body ?? '{}')).toMatchObject({ kind: 'test', alert: { rule: 'run_failed' } });

    const bad = await run('test', 'budget_threshold');
    expect(bad.code).toBe(1);
    expect(bad.stdout).toMatch(/^ops: delivered HTTP 200/m);
    expect(bad.stdout).toMatch(/^flaky: failed: HTTP 500: status 500, retry at \S+ \(event \S+\)$/m);
    const attempts = await pipeline.rows(
      "SELECT o.channel, d.status FROM alert_outbox o JOIN alert_deliveries d USING (event_id) WHERE o.kind = 'test'",
    );
    expect(attempts.map((a) => `${a.channel} ${a.status}`).sort()).toEqual([
      'flaky failed',
      'ops delivered',
      'ops delivered',
    ]);
  });

  it('exits 2 for an unknown rule or channel, naming the choices', async () => {
    const rule = await run('test', 'budget');
    expect(rule.code).toBe(2);
    expect(rule.stderr).toMatch(/no alert rule "budget"; the rules are budget_threshold, forecast_overrun, /);
    const channel = await run('test', 'run_failed', '--channel', 'pager');
    expect(channel.code).toBe(2);
    expect(channel.stderr).toMatch(/no alert channel "pager"; the channels are ops, flaky/);
  });

  it('says what to configure when no channel is set', async () => {
    const { BILLING_ALERTS_CONFIG: _, ...withoutAlerts } = env;
    const bare = await cli(withoutAlerts, 'alerts', 'test', 'run_failed');
    expect(bare.code).toBe(2);
    expect(bare.stderr).toContain('configure alerts.channels in billing-pipeline.yaml');
  });
});

describe('billing-pipeline alerts with a daemon running', () => {
  it('goes through the daemon: lists its alerts, queues the test there and prints its delivery', async () => {
    const daemon = await startServe(env);
    try {
      const listed = await run('list', '--json');
      expect(listed.code).toBe(0);
      const viaApi = await daemon.api<{ alerts: unknown[] }>('GET', '/api/alerts');
      expect(JSON.parse(listed.stdout)).toEqual(viaApi);
      const before = ok.requests.length;
      const result = await run('test', 'check_failed', '--channel', 'ops');
      expect(result.stderr).toMatch(/queued 1 test event\(s\) in the daemon at http:\/\/127\.0\.0\.1:\d+/);
      // The daemon's alert loop sends it; the command waits for that attempt and reports it.
      expect(result.stdout).toMatch(/^ops: delivered HTTP 200 in \d+ ms \(event \S+\)$/m);
      expect(result.code).toBe(0);
      expect(ok.requests.length).toBe(before + 1);
      expect(JSON.parse(ok.requests.at(-1)?.body ?? '{}')).toMatchObject({
        kind: 'test',
        alert: { rule: 'check_failed' },
      });
    } finally {
      await daemon.stop();
    }
  });
});
