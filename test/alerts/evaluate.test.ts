import path from 'node:path';
import { afterEach, describe, expect, it } from 'vitest';
import { getAlert, listAlerts, recentAttempts } from '../../src/alerts/alert-store.js';
import type { AlertRule } from '../../src/alerts/alert-types.js';
import { effectiveRules, setRuleEnabled } from '../../src/alerts/rule-overrides.js';
import { CheckStore } from '../../src/orchestrator/check-runner.js';
import { LEDGER_SCHEMA } from '../../src/orchestrator/ledger-sql.js';
import { openWarehouse } from '../../src/warehouse/create-warehouse.js';
import type { Warehouse } from '../../src/warehouse/warehouse.js';
import { tmpDir } from '../support/tmp.js';
import { alertsConfig, evaluate, outbox, writeBudgetStatus } from './evaluate-support.js';

let open: Warehouse[] = [];
afterEach(async () => {
  for (const w of open) await w.close();
  open = [];
});

async function warehouse(): Promise<Warehouse> {
  const w = await openWarehouse({ path: path.join(await tmpDir('alerts-eval'), 'w.duckdb'), threads: 2 });
  open.push(w);
  return w;
}

const NOW = new Date('2026-12-20T08:00:00Z');
const budgets = [{ id: 'platform', name: 'Platform spend', thresholds: [50, 80, 100] }];
const keys = (rows: { dedupe_key: string }[]) => rows.map((r) => r.dedupe_key).sort();

describe('budget_threshold and forecast_overrun', () => {
  it('fires each threshold exactly once as spend crosses 50/80/100 %, resolves when spend drops', async () => {
    const w = await warehouse();
    const config = await alertsConfig({
      channels: [
        { name: 'ops', type: 'webhook', url: 'http://127.0.0.1:9/hook' },
        { name: 'runs-only', type: 'slack', url: 'http://127.0.0.1:9/slack', rules: ['run_failed'] },
      ],
    });
    const step = async (spend: string, forecast: string | null = null) => {
      await writeBudgetStatus(w, [{ budgetId: 'platform', spend, forecast }]);
      return evaluate(w, { config, now: NOW, budgets, runId: `run-${spend}` });
    };

    expect(await step('300')).toEqual({ fired: [], resolved: [] });

    const first = await step('550.5');
    expect(keys(first.fired)).toEqual(['budget_threshold|budget:platform|2026-12|50']);
    expect(first.fired[0]).toMatchObject({
      severity: 'warning',
      state: 'open',
      opened_run_id: 'run-550.5',
      summary: 'Budget platform passed 50 % (550.50 USD of 1,000.00 USD)',
    });
    expect(first.fired[0]?.details).toMatchObject({ currency: 'USD', spend_to_date: '550.500000' });
    // The same state again: nothing new.
    expect(await step('550.5')).toEqual({ fired: [], resolved: [] });

    // Both 80 and a forecast overrun; 50 stays open without firing again.
    const second = await step('850', '1200');
    expect(keys(second.fired)).toEqual([
      'budget_threshold|budget:platform|2026-12|80',
      'forecast_overrun|budget:platform|2026-12|',
    ]);
    expect(second.fired.find((a) => a.rule === 'forecast_overrun')?.summary).toBe(
      'Budget platform is forecast to reach 1,200.00 USD of 1,000.00 USD, band 1,200.00 USD to 1,200.00 USD',
    );

    // Over: 100 fires (error); the forecast alert resolves since the budget is no longer "at risk" but over.
    const third = await step('1000', '1300');
    expect(keys(third.fired)).toEqual(['budget_threshold|budget:platform|2026-12|100']);
    expect(third.fired[0]?.severity).toBe('error');
    expect(keys(third.resolved)).toEqual(['forecast_overrun|budget:platform|2026-12|']);
    expect(await step('1000', '1300')).toEqual({ fired: [], resolved: [] });

    // A re-upload lowers spend below 100 %: that alert resolves, 50 and 80 stay open.
    const lowered = await step('900', '950');
    expect(keys(lowered.resolved)).toEqual(['budget_threshold|budget:platform|2026-12|100']);
    expect(lowered.resolved[0]).toMatchObject({ state: 'resolved', resolved_run_id: 'run-900' });
    expect(lowered.fired).toEqual([]);

    const open = await listAlerts(w, 'open');
    expect(keys(open)).toEqual([
      'budget_threshold|budget:platform|2026-12|50',
      'budget_threshold|budget:platform|2026-12|80',
    ]);
    expect(open[0]?.deliveries).toEqual({ delivered: 0, failed: 0, pending: 1 });
    const all = await listAlerts(w, 'all');
    expect(all).toHaveLength(4);
    const counts = await w.all<{ n: number | string }>(
      "SELECT count(*) AS n FROM alerts WHERE state = 'open' GROUP BY dedupe_key HAVING count(*) > 1",
    );
    expect(counts).toEqual([]);

    // Only "ops" wants budget rules: one event per decision (4 fired + 2 resolved), none for runs-only.
    const events = await outbox(w);
    expect(events.map((e) => `${e.kind}:${e.channel}`)).toEqual([
      'fired:ops',
      'fired:ops',
      'fired:ops',
      'fired:ops',
      'resolved:ops',
      'resolved:ops',
    ]);
    expect(events.every((e) => e.status === 'pending')).toBe(true);
    const payload = JSON.parse(events[0]?.payload ?? '{}');
    expect(payload).toMatchObject({
      kind: 'fired',
      alert: {
        rule: 'budget_threshold',
        scope: 'budget:platform',
        period: '2026-12',
        threshold: '50',
        severity: 'warning',
        state: 'open',
        summary: 'Budget platform passed 50 % (550.50 USD of 1,000.00 USD)',
      },
    });
    expect(typeof payload.event_id).toBe('string');

    // The store's detail view: the alert with its events (oldest first) and attempts (newest first).
    const hundred = all.find((a) => a.threshold === '100');
    expect(hundred?.state).toBe('resolved');
    await w.exec(
      `INSERT INTO alert_deliveries (event_id, alert_id, channel, attempt, attempted_at, status, http_status, error, duration_ms, next_attempt_at)
       SELECT event_id, alert_id, channel, 1, TIMESTAMP '2026-12-20 08:00:01', 'failed', 503, 'HTTP 503', 12, TIMESTAMP '2026-12-20 08:00:02'
       FROM alert_outbox WHERE alert_id = $1 AND kind = 'fired'`,
      [hundred?.alert_id ?? ''],
    );
    const detail = await getAlert(w, hundred?.alert_id ?? '');
    expect(detail?.alert.details.resolution).toBe('condition cleared');
    expect(detail?.events.map((e) => `${e.kind}:${e.channel}:${e.status}:${e.attempts}`)).toEqual([
      'fired:ops:pending:0',
      'resolved:ops:pending:0',
    ]);
    expect(detail?.attempts).toEqual([
      expect.objectContaining({
        channel: 'ops',
        attempt: 1,
        status: 'failed',
        http_status: 503,
        duration_ms: 12,
      }),
    ]);
    expect((await recentAttempts(w, 5)).map((a) => a.alert_id)).toEqual([hundred?.alert_id]);
    expect(await getAlert(w, 'no-such-alert')).toBeNull();
  });

  it('says when spend is a lower bound, and records alerts without channels', async () => {
    const w = await warehouse();
    // Nothing evaluated yet: the store's reads answer empty instead of failing on missing tables.
    expect(await listAlerts(w, 'all')).toEqual([]);
    expect(await recentAttempts(w)).toEqual([]);
    const config = await alertsConfig();
    await writeBudgetStatus(w, [
      { budgetId: 'platform', spend: '812.25', unknownDays: 2 },
      {
        budgetId: 'platform',
        spend: '990',
        periodStart: '2026-11-01',
        periodEnd: '2026-11-30',
        isCurrent: false,
      },
      { budgetId: 'emea', spend: '120', amount: '100' },
    ]);
    // No budget list: API budgets' thresholds, the default for others (file budgets).
    const result = await evaluate(w, { config, now: NOW });
    expect(keys(result.fired)).toEqual([
      'budget_threshold|budget:emea|2026-12|100',
      'budget_threshold|budget:emea|2026-12|50',
      'budget_threshold|budget:emea|2026-12|80',
      'budget_threshold|budget:platform|2026-12|50',
      'budget_threshold|budget:platform|2026-12|80',
    ]);
    const platform80 = result.fired.find((a) => a.dedupe_key.endsWith('platform|2026-12|80'));
    expect(platform80?.summary).toBe(
      'Budget platform passed 80 % (812.25 USD of 1,000.00 USD) (at least: some days unknown)',
    );
    expect(platform80?.details).toMatchObject({ spend_is_lower_bound: true, unknown_days: 2 });
    expect(await outbox(w)).toEqual([]);
  });

  it('a UI override switches a rule off (its open alerts resolve silently) and back on (fires again)', async () => {
    const w = await warehouse();
    const config = await alertsConfig({
      rules: { forecast_overrun: { enabled: false } },
      channels: [{ name: 'ops', type: 'webhook', url: 'http://127.0.0.1:9/hook' }],
    });
    await writeBudgetStatus(w, [{ budgetId: 'platform', spend: '600', forecast: '1500' }]);
    const fired = await evaluate(w, { config, now: NOW, budgets });
    // forecast_overrun is off in the file.
    expect(keys(fired.fired)).toEqual(['budget_threshold|budget:platform|2026-12|50']);

    await setRuleEnabled(w, 'budget_threshold', false);
    await setRuleEnabled(w, 'forecast_overrun', true);
    const rules = await effectiveRules(w, config);
    expect(rules.map((r) => `${r.rule}:${r.enabled}:${r.source}`)).toEqual([
      'budget_threshold:false:ui',
      'forecast_overrun:true:ui',
      'spend_anomaly:true:default',
      'check_failed:true:default',
      'freshness:true:default',
      'run_failed:true:default',
    ]);
    const switched = await evaluate(w, { config, now: NOW, budgets });
    expect(keys(switched.resolved)).toEqual(['budget_threshold|budget:platform|2026-12|50']);
    expect(switched.resolved[0]?.details.resolution).toBe('rule disabled');
    expect(keys(switched.fired)).toEqual(['forecast_overrun|budget:platform|2026-12|']);
    // No "resolved" notification for a rule someone switched off.
    expect((await outbox(w)).map((e) => e.kind)).toEqual(['fired', 'fired']);
    expect(await evaluate(w, { config, now: NOW, budgets })).toEqual({ fired: [], resolved: [] });

    await setRuleEnabled(w, 'budget_threshold', true);
    const again = await evaluate(w, { config, now: NOW, budgets });
    expect(keys(again.fired)).toEqual(['budget_threshold|budget:platform|2026-12|50']);
  });

  it('judges only the rules asked for; send_resolved: false queues no resolved events', async () => {
    const w = await warehouse();
    const config = await alertsConfig({
      send_resolved: false,
      channels: [{ name: 'ops', type: 'webhook', url: 'http://127.0.0.1:9/hook' }],
    });
    await writeBudgetStatus(w, [{ budgetId: 'platform', spend: '600', forecast: '1500' }]);
    const only = await evaluate(w, { config, now: NOW, budgets, rules: ['forecast_overrun'] });
    expect(keys(only.fired)).toEqual(['forecast_overrun|budget:platform|2026-12|']);
    await writeBudgetStatus(w, [{ budgetId: 'platform', spend: '100', forecast: '200' }]);
    // budget_threshold is not judged: its (not yet opened) alert neither fires nor resolves anything else.
    const other = await evaluate(w, { config, now: NOW, budgets, rules: ['budget_threshold'] });
    expect(other).toEqual({ fired: [], resolved: [] });
    expect(keys(await listAlerts(w, 'open'))).toEqual(['forecast_overrun|budget:platform|2026-12|']);
    const cleared = await evaluate(w, { config, now: NOW, budgets, rules: ['forecast_overrun'] });
    expect(keys(cleared.resolved)).toEqual(['forecast_overrun|budget:platform|2026-12|']);
    expect((await outbox(w)).map((e) => e.kind)).toEqual(['fired']);
  });
});

describe('rules that keep what they cannot judge again', () => {
  it('run_failed: one alert per trigger; a trigger idle for 30 days keeps its alert until it succeeds', async () => {
    const w = await warehouse();
    for (const statement of LEDGER_SCHEMA) await w.exec(statement);
    const config = await alertsConfig();
    const rules: AlertRule[] = ['run_failed'];
    const run = (
      id: string,
      trigger: string,
      status: string,
      finished: string,
      error: string | null = null,
    ) =>
      w.exec(
        `INSERT INTO runs (run_id, status, trigger, selection, created_at, started_at, finished_at, error)
         VALUES ($1, $2, $3, ['billing_events'], CAST($4 AS TIMESTAMP), CAST($4 AS TIMESTAMP), CAST($4 AS TIMESTAMP), $5)`,
        [id, status, trigger, finished, error],
      );
    // Older than 30 days before the latest finish: history, not news.
    await run('r1', 'schedule:daily', 'failed', '2026-10-01 06:00:00', 'old failure');
    await run('r2', 'manual', 'success', '2026-12-01 06:00:00');
    expect(await evaluate(w, { config, now: NOW, rules })).toEqual({ fired: [], resolved: [] });

    await run('r3', 'schedule:daily', 'failed', '2026-11-25 06:00:00', 'source unreachable\nstack…');
    const fired = await evaluate(w, { config, now: NOW, rules, runId: 'r3' });
    expect(keys(fired.fired)).toEqual(['run_failed|trigger:schedule:daily|-|']);
    expect(fired.fired[0]?.summary).toBe('Run r3 (schedule:daily) failed: source unreachable');
    expect(fired.fired[0]?.details).toMatchObject({ run_id: 'r3', error: 'source unreachable\nstack…' });

    // A canceled run clears nothing; a later failure is the same outage.
    await run('r4', 'schedule:daily', 'canceled', '2026-11-26 06:00:00');
    await run('r5', 'schedule:daily', 'failed', '2026-11-27 06:00:00', 'again');
    expect(await evaluate(w, { config, now: NOW, rules })).toEqual({ fired: [], resolved: [] });

    // Other triggers keep running; schedule:daily drops out of the 30-day window, still failed.
    await run('r6', 'manual', 'success', '2027-01-10 06:00:00');
    expect(await evaluate(w, { config, now: NOW, rules })).toEqual({ fired: [], resolved: [] });
    await run('r7', 'schedule:daily', 'success', '2027-01-11 06:00:00');
    const resolved = await evaluate(w, { config, now: NOW, rules, runId: 'r7' });
    expect(keys(resolved.resolved)).toEqual(['run_failed|trigger:schedule:daily|-|']);
    expect(resolved.resolved[0]?.resolved_run_id).toBe('r7');
  });

  it('check_failed: a failing error check stays open however many results follow; warn checks never alert', async () => {
    const w = await warehouse();
    // Results go in as a run records them: check_failures is kept in the same transaction.
    const store = new CheckStore(w);
    await store.setup();
    const config = await alertsConfig();
    const rules: AlertRule[] = ['check_failed'];
    const result = (partition: string | null, check: string, severity: 'error' | 'warn', passed: boolean) =>
      store.record('run-1', [
        {
          asset: 'billing_events',
          partition,
          check,
          severity,
          passed,
          message: passed ? null : `${check} failed`,
        },
      ]);
    await result('2026-12-01', 'not_null', 'error', false);
    await result('2026-12-01', 'accepted_values_region', 'warn', false);
    await result(null, 'schema_conformance', 'error', false);
    const fired = await evaluate(w, { config, now: NOW, rules });
    expect(keys(fired.fired)).toEqual([
      'check_failed|check:billing_events/not_null|2026-12-01|',
      'check_failed|check:billing_events/schema_conformance|-|',
    ]);
    // Many newer passing results of other checks: the failing one was not re-evaluated, so it stays.
    await w.exec(
      `INSERT INTO check_results (asset, partition, check_name, severity, passed, run_id, evaluated_at)
       SELECT 'daily_aggregates', CAST(i AS VARCHAR), 'reconciliation', 'error', true, 'run-2', utc_now()
       FROM range(20000) t(i)`,
    );
    await result(null, 'schema_conformance', 'error', true);
    const later = await evaluate(w, { config, now: NOW, rules });
    expect(keys(later.resolved)).toEqual(['check_failed|check:billing_events/schema_conformance|-|']);
    expect(later.fired).toEqual([]);
    expect(keys(await listAlerts(w, 'open'))).toEqual([
      'check_failed|check:billing_events/not_null|2026-12-01|',
    ]);
  });
});
