import type { Budget } from '../billing/budgets/budget.js';
import type { SqlSession, Warehouse } from '../warehouse/warehouse.js';
import type { AlertsConfig } from './alert-config.js';
import { API_BUDGET_THRESHOLDS } from './alert-sql.js';
import { presentTables } from './alert-store.js';
import type { AlertRule } from './alert-types.js';
import { type DeliveryReport, deliverDue } from './deliver.js';
import { type EvaluateResult, evaluateAlerts } from './evaluate.js';
import type { BudgetThresholds } from './rules/rule.js';

/**
 * Where alerts are decided after a run, in the process that ran it. The budget rules decide inside
 * the very transaction that writes budget_status (`onBudgetStatus`); the rest (run_failed,
 * check_failed, freshness, spend_anomaly) once the run has finished, in one transaction of their
 * own. Evaluation is idempotent and derives everything from stored state, so a crash between a
 * run's commit and its evaluation only delays the alert to the next evaluation (a daemon's start
 * catches up).
 */

export interface AlertWiring {
  config: AlertsConfig;
  /** File budgets (their thresholds; API budgets' come from the `budgets` table). */
  fileBudgets: readonly Budget[];
  reportingCurrency: string;
  now?: () => Date;
}

const BUDGET_RULES: readonly AlertRule[] = ['budget_threshold', 'forecast_overrun'];

/**
 * File budgets first (a file budget wins an id clash, as in allBudgets), then API budgets. `tables`:
 * which tables exist, when the caller has already looked (evaluation does, once for all rules).
 */
export async function budgetThresholds(
  session: SqlSession,
  fileBudgets: readonly Budget[],
  tables?: ReadonlySet<string>,
): Promise<BudgetThresholds[]> {
  const out = new Map<string, BudgetThresholds>();
  if ((tables ?? (await presentTables(session, ['budgets']))).has('budgets')) {
    for (const row of await session.all<{ id: string; name: string | null; thresholds: string | null }>(
      API_BUDGET_THRESHOLDS,
    )) {
      const parsed: unknown = JSON.parse(row.thresholds ?? '[50, 80, 100]');
      const thresholds = Array.isArray(parsed)
        ? parsed.filter((t): t is number => typeof t === 'number')
        : [];
      out.set(row.id, { id: row.id, name: row.name ?? row.id, thresholds });
    }
  }
  for (const b of fileBudgets) out.set(b.id, { id: b.id, name: b.name, thresholds: b.thresholds });
  return [...out.values()];
}

/** Evaluates `rules` (default all) in `session`, the caller's transaction. */
export async function evaluateIn(
  session: SqlSession,
  wiring: AlertWiring,
  options: { runId?: string | null; rules?: readonly AlertRule[] } = {},
): Promise<EvaluateResult> {
  return evaluateAlerts(session, {
    config: wiring.config,
    now: (wiring.now ?? (() => new Date()))(),
    runId: options.runId ?? null,
    rules: options.rules,
    budgetsFrom: (tables) => budgetThresholds(session, wiring.fileBudgets, tables),
    reportingCurrency: wiring.reportingCurrency,
  });
}

/** The `onBudgetStatus` hook: the budget rules, decided with the budget_status rows they read. */
export function onBudgetStatus(wiring: AlertWiring) {
  return async (tx: SqlSession, info: { runId: string }): Promise<void> => {
    await evaluateIn(tx, wiring, { runId: info.runId, rules: BUDGET_RULES });
  };
}

export function evaluateAfterRun(
  warehouse: Warehouse,
  wiring: AlertWiring,
  runId: string | null,
): Promise<EvaluateResult> {
  return warehouse.transaction((tx) => evaluateIn(tx, wiring, { runId }));
}

/**
 * A process without a daemon (the CLI's materialize): after the run's evaluation, one bounded
 * delivery pass, one attempt per due event. What fails stays pending with its next attempt
 * scheduled, for the daemon or the next run to retry.
 */
export async function evaluateAndDeliverOnce(
  warehouse: Warehouse,
  wiring: AlertWiring,
  runId: string,
  options: { holdDelivery?: boolean } = {},
): Promise<{ evaluation: EvaluateResult; delivery: DeliveryReport | null }> {
  const evaluation = await evaluateAfterRun(warehouse, wiring, runId);
  if (options.holdDelivery || wiring.config.channels.length === 0) return { evaluation, delivery: null };
  const delivery = await deliverDue(warehouse, {
    config: wiring.config,
    now: (wiring.now ?? (() => new Date()))(),
    maxAttempts: 20,
    // A short command must not hang on a slow receiver: the whole pass ends within ~2 timeouts.
    signal: AbortSignal.timeout(2 * wiring.config.delivery.timeout_ms),
  });
  return { evaluation, delivery };
}
