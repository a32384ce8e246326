import { createHash } from 'node:crypto';
import type { AssetContext, AssetDefinition, AssetResult } from '../../orchestrator/asset.js';
import { addDays, dayOf } from '../../orchestrator/days.js';
import { insertMany, type SqlSession } from '../../warehouse/warehouse.js';
import { type Budget, budgetBody, monthOf, periodContaining } from './budget.js';
import { computePeriod, type PeriodStatus } from './budget-compute.js';
import {
  CHANGED_DAYS,
  CLEAR_CURRENT,
  DATA_DAYS,
  DELETE_ALL_STATUS,
  DELETE_BUDGET_STATUS,
  DELETE_PERIOD_STATUS,
  INSERT_DAYS_HEAD,
  INSERT_DAYS_VALUES,
  INSERT_STATUS_HEAD,
  INSERT_STATUS_VALUES,
  LAST_MATERIALIZATION,
  type SpendSource,
  STATUS_BUDGET_IDS,
} from './budget-sql.js';
import { allBudgets, setupBudgetTables } from './budget-store.js';
import { DEFAULT_WINDOW_DAYS } from './forecast.js';

export const BUDGET_STATUS_ASSET = 'budget_status';

export interface BudgetStatusAssetOptions {
  /** Budgets declared in the file; API budgets are read from the `budgets` table at each run. */
  budgets: readonly Budget[];
  reportingCurrency: string;
  /** The aggregates in the graph: scopes without their aggregate read billing_events. */
  aggregates: readonly string[];
  windowDays?: number;
  /** Called inside the transaction that writes budget_status, after the rows (alerts decide there). */
  onBudgetStatus?: (tx: SqlSession, info: { runId: string }) => Promise<void>;
  /** Where "today" is when there is no data yet (tests fix it). */
  now?: () => Date;
}

interface Cursor {
  /** Fingerprint of the budget definitions: an edit through the API recomputes everything. */
  fingerprint: string;
  /** The newest daily_aggregates materialization consumed. */
  since: string | null;
  lastDay: string | null;
}

const AGGREGATE_SOURCES: readonly SpendSource[] = [
  'daily_aggregates',
  'user_daily_aggregates',
  'region_daily_aggregates',
];

export function budgetStatusAsset(options: BudgetStatusAssetOptions): AssetDefinition {
  const windowDays = options.windowDays ?? DEFAULT_WINDOW_DAYS;
  const sources = new Set<SpendSource>([
    'billing_events',
    ...AGGREGATE_SOURCES.filter((a) => options.aggregates.includes(a)),
  ]);
  const deps = [...sources].filter((s) => s !== 'billing_events');
  return {
    name: BUDGET_STATUS_ASSET,
    description:
      'Per budget and period: exact spend to date in the reporting currency, share used, a weekday run-rate forecast with an 80 % band and the projected overrun day (tables budget_status, budget_status_days). Reads the daily aggregates (all, user and region scopes) and billing_events for service-tier and resource-type scopes, which are not aggregated by day; a day with unnormalized events is unknown, not zero.',
    // billing_events is upstream of every aggregate, so depending on the aggregates orders it too.
    deps,
    partitioning: 'none',
    group: 'budgets',
    setup: (warehouse) => setupBudgetTables(warehouse),
    async materialize(ctx): Promise<AssetResult> {
      const budgets = await allBudgets(options.budgets, ctx.warehouse);
      const fingerprint = fingerprintOf(budgets, options.reportingCurrency, windowDays);
      const cursor = parseCursor(await ctx.getCursor());
      if (budgets.length === 0) {
        if (cursor?.fingerprint === fingerprint && !ctx.fullRefresh)
          return { changed: false, partitions: [] };
        await write(ctx, [], { mode: 'full', ids: [] }, { fingerprint, since: null, lastDay: null });
        return { changed: true, partitions: [{ partition: null, rowCount: 0 }], metadata: { budgets: 0 } };
      }
      const [data] = await ctx.warehouse.all<{ first_day: string | null; last_day: string | null }>(
        DATA_DAYS,
      );
      const firstDay = data?.first_day ?? null;
      const lastDay = data?.last_day ?? null;
      const full = cursor === null || cursor.fingerprint !== fingerprint || ctx.fullRefresh;
      if (!full && !ctx.upstreamChanged && ctx.range === null && cursor.lastDay === lastDay)
        return { changed: false, partitions: [] };
      const [head] = await ctx.warehouse.all<{ at: string | null }>(LAST_MATERIALIZATION);
      const changedDays = new Set<string>();
      if (!full && cursor.since !== null) {
        const rows = await ctx.warehouse.all<{ day: string }>(CHANGED_DAYS, [cursor.since]);
        for (const r of rows) changedDays.add(r.day);
      }
      const reference = lastDay ?? dayOf((options.now ?? (() => new Date()))());
      const statuses: PeriodStatus[] = [];
      for (const budget of budgets) {
        const current = periodContaining(budget.period, reference);
        const periods = full
          ? allPeriods(budget, firstDay, reference)
          : neededPeriods(budget, {
              reference,
              previous: cursor.lastDay,
              changedDays,
              range: ctx.range,
              firstDay,
            });
        for (const p of periods) {
          ctx.signal.throwIfAborted();
          statuses.push(
            await computePeriod(ctx.warehouse, {
              budget,
              start: p.start,
              end: p.end,
              lastDay,
              firstDay,
              isCurrent: p.start === current.start,
              windowDays,
              currency: options.reportingCurrency,
              sources,
            }),
          );
        }
      }
      await write(
        ctx,
        statuses,
        { mode: full ? 'full' : 'periods', ids: budgets.map((b) => b.id) },
        { fingerprint, since: head?.at ?? null, lastDay },
      );
      const current = statuses.filter((s) => s.isCurrent);
      return {
        changed: true,
        partitions: [{ partition: null, rowCount: statuses.length }],
        metadata: {
          budgets: budgets.length,
          periodsComputed: statuses.length,
          full,
          currency: options.reportingCurrency,
          over: current.filter((s) => s.state === 'over').length,
          atRisk: current.filter((s) => s.state === 'at_risk').length,
        },
      };
    },
  };

  async function write(
    ctx: AssetContext,
    statuses: readonly PeriodStatus[],
    scope: { mode: 'full' | 'periods'; ids: readonly string[] },
    cursor: Cursor,
  ): Promise<void> {
    await ctx.warehouse.transaction(async (tx) => {
      // Concurrent runs (scale-out) take turns over the same rows.
      await tx.lock(`asset:${BUDGET_STATUS_ASSET}`);
      if (scope.mode === 'full') {
        for (const sql of DELETE_ALL_STATUS) await tx.exec(sql);
      } else {
        const ids = new Set(scope.ids);
        const stored = await tx.all<{ budget_id: string }>(STATUS_BUDGET_IDS);
        for (const { budget_id } of stored.filter((r) => !ids.has(r.budget_id)))
          for (const sql of DELETE_BUDGET_STATUS) await tx.exec(sql, [budget_id]);
        for (const s of statuses) {
          for (const sql of DELETE_PERIOD_STATUS) await tx.exec(sql, [s.budgetId, s.periodStart]);
          if (s.isCurrent) await tx.exec(CLEAR_CURRENT, [s.budgetId]);
        }
      }
      if (statuses.length > 0) {
        await insertMany(
          tx,
          INSERT_STATUS_HEAD,
          INSERT_STATUS_VALUES,
          statuses.map((s) => [
            s.budgetId,
            s.periodStart,
            s.periodEnd,
            s.currency,
            s.amount,
            s.spendToDate,
            s.asOf,
            s.knownDays,
            s.unknownDays,
            s.unnormalizedEvents,
            s.shareUsed,
            s.forecast,
            s.forecastLow,
            s.forecastHigh,
            s.projectedOverrun,
            s.state,
            s.isCurrent,
            ctx.runId,
          ]),
        );
        const days = statuses.flatMap((s) =>
          s.days.map((d) => [
            s.budgetId,
            s.periodStart,
            d.day,
            d.kind,
            d.spend,
            d.cumulative,
            d.forecastLow,
            d.forecastHigh,
          ]),
        );
        if (days.length > 0) await insertMany(tx, INSERT_DAYS_HEAD, INSERT_DAYS_VALUES, days);
      }
      await ctx.setCursor(tx, JSON.stringify(cursor));
      await options.onBudgetStatus?.(tx, { runId: ctx.runId });
    });
  }
}

type Period = { start: string; end: string };

/** Every period from the first data day to the reference day (a range budget has just one). */
function allPeriods(budget: Budget, firstDay: string | null, reference: string): Period[] {
  if (budget.period.kind === 'range') return [periodContaining(budget.period, reference)];
  const out: Period[] = [];
  for (
    let month = monthOf(firstDay ?? reference);
    month.start <= reference;
    month = monthOf(addDays(month.end, 1))
  )
    out.push(month);
  return out;
}

/**
 * The open period, the one open at the last run (it may just have closed), and the closed ones
 * whose days changed or were asked for: old periods are not recomputed on every load.
 */
function neededPeriods(
  budget: Budget,
  o: {
    reference: string;
    previous: string | null;
    changedDays: ReadonlySet<string>;
    range: { from: string; to: string } | null;
    firstDay: string | null;
  },
): Period[] {
  if (budget.period.kind === 'range') return [periodContaining(budget.period, o.reference)];
  const starts = new Map<string, Period>();
  const add = (day: string) => {
    const p = monthOf(day);
    if (p.start <= o.reference) starts.set(p.start, p);
  };
  add(o.reference);
  if (o.previous) add(o.previous);
  for (const day of o.changedDays) add(day);
  if (o.range) {
    const from = o.firstDay && o.firstDay > o.range.from ? o.firstDay : o.range.from;
    for (
      let p = monthOf(from);
      p.start <= o.range.to && p.start <= o.reference;
      p = monthOf(addDays(p.end, 1))
    )
      add(p.start);
  }
  return [...starts.values()].sort((a, b) => a.start.localeCompare(b.start));
}

function fingerprintOf(budgets: readonly Budget[], currency: string, windowDays: number): string {
  const body = JSON.stringify({
    currency,
    windowDays,
    budgets: [...budgets].sort((a, b) => a.id.localeCompare(b.id)).map(budgetBody),
  });
  return createHash('sha256').update(body).digest('hex').slice(0, 32);
}

function parseCursor(value: string | null): Cursor | null {
  if (!value) return null;
  try {
    const parsed = JSON.parse(value) as Partial<Cursor>;
    if (typeof parsed.fingerprint !== 'string') return null;
    return { fingerprint: parsed.fingerprint, since: parsed.since ?? null, lastDay: parsed.lastDay ?? null };
  } catch {
    return null;
  }
}
