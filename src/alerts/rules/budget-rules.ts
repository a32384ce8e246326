import { DEFAULT_THRESHOLDS } from '../../billing/budgets/budget.js';
import * as sql from '../alert-sql.js';
import type { AlertCondition } from '../alert-types.js';
import { money, scaledDecimal } from '../money-text.js';
import { type BudgetThresholds, budgetPeriod, type RuleContext, type RuleDefinition } from './rule.js';

interface StatusRow {
  budget_id: string;
  period_start: string;
  period_end: string;
  currency: string;
  amount: string;
  spend_to_date: string;
  as_of: string | null;
  known_days: number | null;
  unknown_days: number | null;
  unnormalized_events: number | string | null;
  share_used: string | null;
  forecast: string | null;
  forecast_low: string | null;
  forecast_high: string | null;
  projected_overrun: string | null;
  state: string;
  run_id: string | null;
}

function currentStatus(ctx: RuleContext): Promise<StatusRow[]> {
  let rows = ctx.memo.get('budget_status') as Promise<StatusRow[]> | undefined;
  if (!rows) {
    rows = ctx.session.all<StatusRow>(sql.CURRENT_BUDGET_STATUS);
    ctx.memo.set('budget_status', rows);
  }
  return rows;
}

async function thresholdsById(ctx: RuleContext): Promise<Map<string, BudgetThresholds>> {
  if (ctx.budgets) return new Map(ctx.budgets.map((b) => [b.id, b]));
  const out = new Map<string, BudgetThresholds>();
  if (!ctx.tables.has('budgets')) return out;
  const rows = await ctx.session.all<{ id: string; name: string | null; thresholds: string | null }>(
    sql.API_BUDGET_THRESHOLDS,
  );
  for (const r of rows) {
    let thresholds: number[] = [...DEFAULT_THRESHOLDS];
    try {
      const parsed: unknown = JSON.parse(r.thresholds ?? 'null');
      if (Array.isArray(parsed) && parsed.every((t) => typeof t === 'number')) thresholds = parsed;
    } catch {
      // A malformed column keeps the defaults: the budget's API validation owns the format.
    }
    out.set(r.id, { id: r.id, name: r.name ?? r.id, thresholds });
  }
  return out;
}

/** Unknown days or unnormalized events make spend_to_date a lower bound of the true spend. */
function lowerBound(row: StatusRow): boolean {
  return Number(row.unknown_days ?? 0) > 0 || Number(row.unnormalized_events ?? 0) > 0;
}

function statusDetails(row: StatusRow, name: string): Record<string, unknown> {
  const partial = lowerBound(row);
  return {
    budget_id: row.budget_id,
    budget_name: name,
    period_start: row.period_start,
    period_end: row.period_end,
    currency: row.currency,
    amount: row.amount,
    spend_to_date: row.spend_to_date,
    share_used: row.share_used,
    as_of: row.as_of,
    known_days: row.known_days,
    unknown_days: row.unknown_days,
    unnormalized_events: row.unnormalized_events === null ? null : Number(row.unnormalized_events),
    forecast: row.forecast,
    forecast_low: row.forecast_low,
    forecast_high: row.forecast_high,
    projected_overrun: row.projected_overrun,
    state: row.state,
    spend_is_lower_bound: partial,
    ...(partial
      ? {
          note: 'spend counts known days only: some events lack an FX rate, so the true spend may be higher',
        }
      : {}),
  };
}

/** share_used (1 = 100 %) reaches `percent`, compared exactly in millionths. */
function reaches(shareUsed: string, percent: number): boolean {
  const share = scaledDecimal(shareUsed, 6);
  if (share === null) return false;
  // percent / 100 in millionths = percent * 10^4; thresholds have at most 4 decimals in practice.
  return share >= BigInt(Math.round(percent * 10_000));
}

const thresholdText = (t: number): string => String(t);

export const budgetThresholdRule: RuleDefinition = {
  rule: 'budget_threshold',
  description: "A budget's spend to date passed one of its thresholds (current period)",
  tables: ['budget_status'],
  async conditions(ctx) {
    const rows = await currentStatus(ctx);
    if (rows.length === 0) return [];
    const budgets = await thresholdsById(ctx);
    const out: AlertCondition[] = [];
    for (const row of rows) {
      if (row.share_used === null) continue;
      const budget = budgets.get(row.budget_id);
      const name = budget?.name ?? row.budget_id;
      for (const t of budget?.thresholds ?? DEFAULT_THRESHOLDS) {
        if (!reaches(row.share_used, t)) continue;
        const partial = lowerBound(row) ? ' (at least: some days unknown)' : '';
        out.push({
          rule: 'budget_threshold',
          scope: `budget:${row.budget_id}`,
          period: budgetPeriod(row.period_start, row.period_end),
          threshold: thresholdText(t),
          severity: t >= 100 ? 'error' : 'warning',
          summary: `Budget ${row.budget_id} passed ${thresholdText(t)} % (${money(row.spend_to_date, row.currency)} of ${money(row.amount, row.currency)})${partial}`,
          details: { ...statusDetails(row, name), threshold_percent: t },
        });
      }
    }
    return out;
  },
};

export const forecastOverrunRule: RuleDefinition = {
  rule: 'forecast_overrun',
  description: "A budget's forecast for the current period exceeds its amount (not yet over)",
  tables: ['budget_status'],
  async conditions(ctx) {
    const rows = await currentStatus(ctx);
    const out: AlertCondition[] = [];
    for (const row of rows) {
      if (row.forecast === null || row.state === 'over') continue;
      const forecast = scaledDecimal(row.forecast, 6);
      const amount = scaledDecimal(row.amount, 6);
      if (forecast === null || amount === null || forecast <= amount) continue;
      const band =
        row.forecast_low !== null && row.forecast_high !== null
          ? `, band ${money(row.forecast_low, row.currency)} to ${money(row.forecast_high, row.currency)}`
          : '';
      const when = row.projected_overrun ? `; overrun projected on ${row.projected_overrun}` : '';
      out.push({
        rule: 'forecast_overrun',
        scope: `budget:${row.budget_id}`,
        period: budgetPeriod(row.period_start, row.period_end),
        threshold: null,
        severity: 'warning',
        summary: `Budget ${row.budget_id} is forecast to reach ${money(row.forecast, row.currency)} of ${money(row.amount, row.currency)}${band}${when}`,
        details: statusDetails(row, ctx.budgets?.find((b) => b.id === row.budget_id)?.name ?? row.budget_id),
      });
    }
    return out;
  },
};
