import { type AlertsConfig, loadAlertsConfig } from '../../src/alerts/alert-config.js';
import { setupAlertTables } from '../../src/alerts/alert-store.js';
import { type EvaluateOptions, evaluateAlerts } from '../../src/alerts/evaluate.js';
import { CREATE_BUDGET_STATUS } from '../../src/billing/budgets/budget-sql.js';
import type { Warehouse } from '../../src/warehouse/warehouse.js';
import { row, type TestPipeline } from '../support/pipeline.js';

/** Alert settings from an inline mapping, as `alerts:` of billing-pipeline.yaml would give them. */
export function alertsConfig(
  value: Record<string, unknown> = {},
  env: NodeJS.ProcessEnv = {},
): Promise<AlertsConfig> {
  return loadAlertsConfig({ value, origin: 'billing-pipeline.yaml:3' }, env);
}

/** One evaluation in its own transaction, as a run's commit would do it. */
export function evaluate(warehouse: Warehouse, options: EvaluateOptions) {
  return warehouse.transaction((tx) => evaluateAlerts(tx, options));
}

export interface StatusInput {
  budgetId: string;
  periodStart?: string;
  periodEnd?: string;
  amount?: string;
  spend: string;
  forecast?: string | null;
  unknownDays?: number;
  isCurrent?: boolean;
}

/** Replaces budget_status with these rows (what the budget_status asset writes), share and state derived. */
export async function writeBudgetStatus(warehouse: Warehouse, rows: readonly StatusInput[]): Promise<void> {
  await warehouse.transaction(async (tx) => {
    await tx.exec(CREATE_BUDGET_STATUS);
    await tx.exec('DELETE FROM budget_status');
    for (const r of rows) {
      const amount = r.amount ?? '1000.000000';
      await tx.exec(
        `INSERT INTO budget_status (budget_id, period_start, period_end, currency, amount, spend_to_date, as_of,
           known_days, unknown_days, unnormalized_events, share_used, forecast, forecast_low, forecast_high,
           projected_overrun, state, is_current, computed_at, run_id)
         SELECT $1, CAST($2 AS DATE), CAST($3 AS DATE), 'USD', a, s, CAST($3 AS DATE), 20, $6, $7,
           CAST(round(s / a, 6) AS DECIMAL(12,6)), f, f, f, NULL,
           CASE WHEN s >= a THEN 'over' WHEN f > a THEN 'at_risk' ELSE 'ok' END, $8, utc_now(), 'run-test'
         FROM (SELECT CAST($4 AS DECIMAL(38,6)) AS a, CAST($5 AS DECIMAL(38,6)) AS s,
           CAST($9 AS DECIMAL(38,6)) AS f) v`,
        [
          r.budgetId,
          r.periodStart ?? '2026-12-01',
          r.periodEnd ?? '2026-12-31',
          amount,
          r.spend,
          r.unknownDays ?? 0,
          r.unknownDays ? 5 : 0,
          r.isCurrent ?? true,
          r.forecast ?? null,
        ],
      );
    }
  });
}

export async function setup(warehouse: Warehouse): Promise<void> {
  await setupAlertTables(warehouse);
}

export const outbox = (warehouse: Warehouse) =>
  warehouse.all<{ kind: string; channel: string; alert_id: string; payload: string; status: string }>(
    'SELECT kind, channel, alert_id, payload, status FROM alert_outbox ORDER BY created_at, kind, channel',
  );

/** One evaluation against the pipeline's warehouse, in a transaction of its own. */
export async function evaluateOn(p: TestPipeline, options: EvaluateOptions) {
  const runtime = await p.open();
  try {
    return await evaluate(runtime.warehouse, options);
  } finally {
    await runtime.close();
  }
}

/** A row on an April 2025 day, its file's key, and the dedupe keys of alert rows. */
export const day = (d: string, overrides: Partial<Record<string, string>> = {}) =>
  row({ timestamp: `2025-04-${d}T10:00:00Z`, ...overrides });
export const key = (d: string) => `year=2025/month=04/day=${d}/a.csv`;
export const keys = (rows: { dedupe_key: string }[]) => rows.map((r) => r.dedupe_key).sort();
