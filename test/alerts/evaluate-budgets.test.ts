import { writeFile } from 'node:fs/promises';
import path from 'node:path';
import { describe, expect, it, onTestFinished } from 'vitest';
import { loadAlertsConfig } from '../../src/alerts/alert-config.js';
import { evaluateAlerts } from '../../src/alerts/evaluate.js';
import { csv, row, testPipeline } from '../support/pipeline.js';
import { tmpDir } from '../support/tmp.js';

const day = (d: string, credit: string) => row({ timestamp: `2025-04-${d}T10:00:00Z`, credit_usage: credit });
const key = (d: string) => `year=2025/month=04/day=${d}/a.csv`;

describe('budget alerts from the real budget_status asset', () => {
  it('fires 50/80/100 % exactly once over successive daily loads; a re-upload lowering spend resolves', async () => {
    const dir = await tmpDir('alerts-budgets');
    const budgetsFile = path.join(dir, 'budgets.yaml');
    await writeFile(
      budgetsFile,
      '- id: platform\n  scope: all\n  period: monthly\n  amount: 100\n  thresholds: [50, 80, 100]\n',
    );
    const alertsFile = path.join(dir, 'alerts.yaml');
    await writeFile(
      alertsFile,
      [
        'rules:',
        '  freshness: { enabled: false }',
        '  forecast_overrun: { enabled: false }',
        'channels:',
        '  - name: ops',
        '    type: webhook',
        '    url: http://127.0.0.1:9/hook',
        '',
      ].join('\n'),
    );
    const p = await testPipeline('alerts-budgets', {
      env: {
        BILLING_BUDGETS_CONFIG: budgetsFile,
        BILLING_ALERTS_CONFIG: alertsFile,
        // Decide only: this test is about what is decided, delivery has its own tests.
        BILLING_TEST_ALERT_HOLD_DELIVERY: '1',
      },
    });
    // One process for the whole test: opening the runtime per load would dominate its time.
    const runtime = await p.open();
    onTestFinished(() => runtime.close());
    const rows = (sql: string) => runtime.warehouse.all(sql);
    const openThresholds = async () =>
      (
        await rows(
          "SELECT threshold FROM alerts WHERE rule = 'budget_threshold' AND state = 'open' ORDER BY CAST(threshold AS INTEGER)",
        )
      ).map((r) => r.threshold);
    const firedEvents = async () =>
      (
        await rows(
          `SELECT a.threshold, o.kind FROM alert_outbox o JOIN alerts a ON a.alert_id = o.alert_id
           WHERE a.rule = 'budget_threshold' ORDER BY o.created_at, CAST(a.threshold AS INTEGER), o.kind`,
        )
      ).map((r) => `${r.kind}:${r.threshold}`);

    const load = async (d: string, credit: string) => {
      await p.put(key(d), csv(day(d, credit)));
      expect((await runtime.materialize({ trigger: 'test' })).status).toBe('success');
    };
    await load('01', '30');
    expect(await openThresholds()).toEqual([]);
    await load('02', '25');
    expect(await openThresholds()).toEqual(['50']);
    await load('03', '30');
    expect(await openThresholds()).toEqual(['50', '80']);
    await load('04', '20');
    expect(await openThresholds()).toEqual(['50', '80', '100']);
    expect(await rows("SELECT summary FROM alerts WHERE threshold = '100'")).toEqual([
      { summary: 'Budget platform passed 100 % (105.00 USD of 100.00 USD)' },
    ]);

    // Evaluating again (what the daemon's loop does) changes nothing: state changes fire, not evaluations.
    {
      const config = await loadAlertsConfig({ value: alertsFile, origin: 'BILLING_ALERTS_CONFIG' }, {});
      const again = await runtime.warehouse.transaction((tx) =>
        evaluateAlerts(tx, {
          config,
          now: new Date(),
          budgets: [{ id: 'platform', thresholds: [50, 80, 100] }],
          rules: ['budget_threshold'],
        }),
      );
      expect(again).toEqual({ fired: [], resolved: [] });
    }

    // A corrected file lowers the month to 90: 100 % resolves, 50 and 80 stay open.
    await load('04', '5');
    expect(await openThresholds()).toEqual(['50', '80']);
    expect(await firedEvents()).toEqual(['fired:50', 'fired:80', 'fired:100', 'resolved:100']);
  });
});
