import { describe, expect, it } from 'vitest';
import { listAlerts } from '../../src/alerts/alert-store.js';
import { setRuleEnabled } from '../../src/alerts/rule-overrides.js';
import { runGraph } from '../quality/support.js';
import { csv, row, testPipeline } from '../support/pipeline.js';
import { postgresAvailable } from '../support/postgres.js';
import { alertsConfig, evaluate, outbox, writeBudgetStatus } from './evaluate-support.js';

const day = (d: string, overrides: Partial<Record<string, string>> = {}) =>
  row({ timestamp: `2025-04-${d}T10:00:00Z`, ...overrides });
const key = (d: string) => `year=2025/month=04/day=${d}/a.csv`;
const keys = (rows: { dedupe_key: string }[]) => rows.map((r) => r.dedupe_key).sort();

describe.skipIf(!postgresAvailable())('alert evaluation on PostgreSQL', () => {
  it('runs every rule on a real PostgreSQL warehouse, idempotently', async () => {
    const p = await testPipeline('alerts-pg', { backend: 'postgres' });
    await p.put(key('22'), csv(day('22')));
    await p.put(key('23'), csv(day('23', { user_id: '3' }), day('23', { user_id: '4', currency: '' })));
    const failed = await runGraph(p);
    expect(failed.status).toBe('failed');
    const config = await alertsConfig({
      channels: [{ name: 'ops', type: 'webhook', url: 'http://127.0.0.1:9/x' }],
    });
    const now = new Date('2025-04-26T12:00:00Z');
    const runtime = await p.open();
    try {
      const w = runtime.warehouse;
      expect(w.dialect).toBe('postgres');
      await writeBudgetStatus(w, [{ budgetId: 'platform', spend: '850', forecast: '1100' }]);
      const first = await evaluate(w, {
        config,
        now,
        runId: failed.runId,
        budgets: [{ id: 'platform', thresholds: [50, 80, 100] }],
      });
      expect(keys(first.fired)).toEqual([
        'budget_threshold|budget:platform|2026-12|50',
        'budget_threshold|budget:platform|2026-12|80',
        'check_failed|check:billing_events/fx_rate_available|2025-04-23|',
        'check_failed|check:billing_events/not_null|2025-04-23|',
        'forecast_overrun|budget:platform|2026-12|',
        // 25 is the latest due day at 2025-04-26 12:00 with 6 h grace; 23's file arrived (held back, not missing).
        'freshness|source|2025-04-24|',
        'freshness|source|2025-04-25|',
        'run_failed|trigger:test|-|',
      ]);
      expect(
        await evaluate(w, { config, now, budgets: [{ id: 'platform', thresholds: [50, 80, 100] }] }),
      ).toEqual({
        fired: [],
        resolved: [],
      });
      expect((await outbox(w)).length).toBe(8);
      await setRuleEnabled(w, 'freshness', false);
      const off = await evaluate(w, {
        config,
        now,
        budgets: [{ id: 'platform', thresholds: [50, 80, 100] }],
      });
      expect(keys(off.resolved)).toEqual(['freshness|source|2025-04-24|', 'freshness|source|2025-04-25|']);
      expect(off.fired).toEqual([]);
      expect((await listAlerts(w, 'open')).length).toBe(6);

      // Two processes evaluating at once (two pool connections): the alerts lock lets one decide.
      await writeBudgetStatus(w, [{ budgetId: 'platform', spend: '1000', forecast: '1100' }]);
      const both = await Promise.all([
        evaluate(w, { config, now, budgets: [{ id: 'platform', thresholds: [50, 80, 100] }] }),
        evaluate(w, { config, now, budgets: [{ id: 'platform', thresholds: [50, 80, 100] }] }),
      ]);
      expect(both.flatMap((r) => keys(r.fired))).toEqual(['budget_threshold|budget:platform|2026-12|100']);
      expect(
        await w.all(
          "SELECT count(*) AS n FROM alerts WHERE dedupe_key LIKE 'budget_threshold|%|100' AND state = 'open'",
        ),
      ).toEqual([{ n: 1 }]);
    } finally {
      await runtime.close();
    }
  });
});
