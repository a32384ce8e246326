import { addDays } from '../../orchestrator/days.js';
import type { SqlSession, SqlValue } from '../../warehouse/warehouse.js';
import type { Budget } from './budget.js';
import { daySpendSql, type SpendSource } from './budget-sql.js';
import { fromMicros, toMicros } from './decimal.js';
import { type DaySpend, forecastPeriod } from './forecast.js';

export type BudgetState = 'ok' | 'at_risk' | 'over';

/** One budget_status row, as written. */
export interface PeriodStatus {
  budgetId: string;
  periodStart: string;
  periodEnd: string;
  currency: string;
  amount: string;
  spendToDate: string;
  asOf: string | null;
  knownDays: number;
  unknownDays: number;
  unnormalizedEvents: number;
  shareUsed: string;
  forecast: string | null;
  forecastLow: string | null;
  forecastHigh: string | null;
  projectedOverrun: string | null;
  state: BudgetState;
  isCurrent: boolean;
  days: StatusDay[];
}

export interface StatusDay {
  day: string;
  kind: 'actual' | 'forecast';
  spend: string | null;
  cumulative: string | null;
  forecastLow: string | null;
  forecastHigh: string | null;
}

export interface ComputePeriodOptions {
  budget: Budget;
  start: string;
  end: string;
  /** The last day with data in the warehouse (null: none yet). */
  lastDay: string | null;
  /** The first day with data: days before it are not "known zero", they are before the data. */
  firstDay: string | null;
  isCurrent: boolean;
  windowDays: number;
  currency: string;
  /** Which aggregates exist in this graph (the rest of the scopes read billing_events). */
  sources: ReadonlySet<SpendSource>;
}

export function spendSource(budget: Budget, sources: ReadonlySet<SpendSource>): SpendSource {
  const wanted: SpendSource =
    budget.scope.kind === 'all'
      ? 'daily_aggregates'
      : budget.scope.kind === 'user'
        ? 'user_daily_aggregates'
        : budget.scope.kind === 'region'
          ? 'region_daily_aggregates'
          : 'billing_events';
  return sources.has(wanted) ? wanted : 'billing_events';
}

/** Spend to date, share, forecast and the day series of one budget period. */
export async function computePeriod(session: SqlSession, o: ComputePeriodOptions): Promise<PeriodStatus> {
  const { budget, start, end, lastDay, firstDay } = o;
  const amountMicros = toMicros(budget.amount);
  // The forecast's "today": the period's end once data has passed it, else the last data day.
  const asOf = lastDay === null ? null : minDay(lastDay, end);
  const history: DaySpend[] = [];
  let unnormalized = 0;
  if (asOf !== null && firstDay !== null) {
    const windowStart = addDays(asOf, 1 - o.windowDays);
    const from = maxDay(firstDay, minDay(windowStart, start));
    if (from <= asOf) {
      const params: SqlValue[] = [from, asOf];
      if (budget.scope.kind !== 'all') params.push(budget.scope.value);
      const rows = await session.all<{
        day: string;
        spend: string | null;
        unknown_groups: number | string;
        unnormalized: number | string | null;
      }>(daySpendSql(budget.scope, spendSource(budget, o.sources)), params);
      const byDay = new Map(rows.map((r) => [r.day, r]));
      for (let day = from; day <= asOf; day = addDays(day, 1)) {
        const row = byDay.get(day);
        const unknown = row !== undefined && (row.spend === null || Number(row.unknown_groups) > 0);
        history.push({ day, amount: row === undefined ? '0' : unknown ? null : (row.spend ?? '0') });
        if (row && day >= start) unnormalized += Number(row.unnormalized ?? 0);
      }
    }
  }
  const hasData = asOf !== null && asOf >= start && history.length > 0;
  const computed =
    asOf === null || history.length === 0
      ? null
      : forecastPeriod({
          history,
          periodStart: start,
          periodEnd: end,
          asOf,
          windowDays: o.windowDays,
        });
  // Nothing known to learn from (every day lacks a rate): the forecast is unknown, not zero.
  const forecast = computed?.unknown ? null : computed;
  const spend = computed ? toMicros(computed.spentToDate) : 0n;
  const estimates = new Map(forecast?.days.map((d) => [d.day, d]) ?? []);

  const days: StatusDay[] = [];
  let actual = 0n;
  let path = 0n;
  let overrun: string | null = null;
  let knownDays = 0;
  for (const h of history) {
    if (h.day < start) continue;
    if (h.amount === null) {
      path += toMicros(estimates.get(h.day)?.expected ?? '0');
    } else {
      knownDays++;
      actual += toMicros(h.amount);
      path += toMicros(h.amount);
    }
    days.push({
      day: h.day,
      kind: 'actual',
      spend: h.amount,
      cumulative: fromMicros(actual),
      forecastLow: null,
      forecastHigh: null,
    });
    if (overrun === null && path >= amountMicros) overrun = h.day;
  }
  for (const f of forecast?.days ?? []) {
    if (asOf !== null && f.day <= asOf) continue;
    path += toMicros(f.expected);
    days.push({
      day: f.day,
      kind: 'forecast',
      spend: f.expected,
      cumulative: fromMicros(path),
      forecastLow: f.low,
      forecastHigh: f.high,
    });
    if (overrun === null && path >= amountMicros) overrun = f.day;
  }
  const total = forecast ? toMicros(forecast.total) : null;
  const state: BudgetState =
    spend >= amountMicros ? 'over' : total !== null && total > amountMicros ? 'at_risk' : 'ok';
  return {
    budgetId: budget.id,
    periodStart: start,
    periodEnd: end,
    currency: o.currency,
    amount: fromMicros(amountMicros),
    spendToDate: fromMicros(spend),
    asOf: hasData ? asOf : null,
    knownDays,
    unknownDays: computed?.unknownDays.length ?? 0,
    unnormalizedEvents: unnormalized,
    shareUsed: share(spend, amountMicros),
    forecast: forecast?.total ?? null,
    forecastLow: forecast?.low ?? null,
    forecastHigh: forecast?.high ?? null,
    projectedOverrun: overrun,
    state,
    isCurrent: o.isCurrent,
    days,
  };
}

const SHARE_LIMIT = 999_999_999_999n;

/** spend / amount to 6 decimals, half away from zero, within DECIMAL(12,6). */
function share(spend: bigint, amount: bigint): string {
  const negative = spend < 0n;
  const abs = negative ? -spend : spend;
  let micros = (abs * 2_000_000n + amount) / (2n * amount);
  if (micros > SHARE_LIMIT) micros = SHARE_LIMIT;
  return fromMicros(negative ? -micros : micros);
}

// Days compare as text (YYYY-MM-DD); Math.min would turn them into NaN.
function maxDay(a: string, b: string): string {
  return a > b ? a : b;
}

function minDay(a: string, b: string): string {
  return a < b ? a : b;
}
