import type { Warehouse } from '../../warehouse/warehouse.js';
import type { Budget } from './budget.js';
import type { BudgetState, PeriodStatus } from './budget-compute.js';
import { BUDGET_DAYS, BUDGET_PERIODS, CURRENT_STATUS } from './budget-sql.js';
import { allBudgets } from './budget-store.js';

/** BudgetStatusJson of the contract: money as decimal strings in `currency`, null = unknown. */
export type BudgetStatusJson = Omit<PeriodStatus, 'budgetId' | 'days'> & { computedAt: string | null };

export interface BudgetDayJson {
  day: string;
  kind: 'actual' | 'forecast';
  spend: string | null;
  cumulative: string | null;
  forecastLow: string | null;
  forecastHigh: string | null;
}

interface StatusRow {
  budget_id: string;
  period_start: string;
  period_end: string;
  currency: string;
  amount: string;
  spend_to_date: string;
  as_of: string | null;
  known_days: number | string;
  unknown_days: number | string;
  unnormalized_events: number | string;
  share_used: string;
  forecast: string | null;
  forecast_low: string | null;
  forecast_high: string | null;
  projected_overrun: string | null;
  state: BudgetState;
  is_current: boolean;
  computed_at: string | null;
}

function statusJson(r: StatusRow): BudgetStatusJson {
  return {
    periodStart: r.period_start,
    periodEnd: r.period_end,
    currency: r.currency,
    amount: r.amount,
    spendToDate: r.spend_to_date,
    asOf: r.as_of,
    knownDays: Number(r.known_days),
    unknownDays: Number(r.unknown_days),
    unnormalizedEvents: Number(r.unnormalized_events),
    shareUsed: r.share_used,
    forecast: r.forecast,
    forecastLow: r.forecast_low,
    forecastHigh: r.forecast_high,
    projectedOverrun: r.projected_overrun,
    state: r.state,
    isCurrent: Boolean(r.is_current),
    computedAt: r.computed_at,
  };
}

export interface BudgetList {
  currency: string;
  budgets: (Budget & { status: BudgetStatusJson | null })[];
}

/** Every budget (file and API) with the status of its current period; null before budget_status ran. */
export async function listBudgetsWithStatus(
  warehouse: Warehouse,
  fileBudgets: readonly Budget[],
  currency: string,
): Promise<BudgetList> {
  const budgets = await allBudgets(fileBudgets, warehouse);
  const rows = await warehouse.all<StatusRow>(CURRENT_STATUS);
  const byId = new Map(rows.map((r) => [r.budget_id, statusJson(r)]));
  return { currency, budgets: budgets.map((b) => ({ ...b, status: byId.get(b.id) ?? null })) };
}

/** All computed periods of one budget, newest first, and the days of one (default: the current). */
export async function budgetDetail(
  warehouse: Warehouse,
  budget: Budget,
  options: { currency: string; period?: string },
): Promise<{ currency: string; budget: Budget; periods: BudgetStatusJson[]; days: BudgetDayJson[] }> {
  const periods = (await warehouse.all<StatusRow>(BUDGET_PERIODS, [budget.id])).map(statusJson);
  const start = options.period ?? periods.find((p) => p.isCurrent)?.periodStart ?? periods[0]?.periodStart;
  const days = start
    ? (
        await warehouse.all<{
          day: string;
          kind: 'actual' | 'forecast';
          spend: string | null;
          cumulative: string | null;
          forecast_low: string | null;
          forecast_high: string | null;
        }>(BUDGET_DAYS, [budget.id, start])
      ).map((d) => ({
        day: d.day,
        kind: d.kind,
        spend: d.spend,
        cumulative: d.cumulative,
        forecastLow: d.forecast_low,
        forecastHigh: d.forecast_high,
      }))
    : [];
  return { currency: options.currency, budget, periods, days };
}
