import type { AssetCheckContext, AssetCheckDefinition } from '../../orchestrator/asset-check.js';
import type { AggregateDefinition } from '../aggregates/aggregate-definition.js';
import { stateTable } from '../aggregates/merge-sql.js';
import * as sql from './check-sql.js';
import { checkedPartitions } from './event-checks.js';
import type { CheckSettings } from './quality-config.js';
import { isAnomalous, robustZ } from './robust-z.js';

interface Reconciliation {
  partition: string | null;
  events: number;
  aggregate_events: number;
  credit: string;
  aggregate_credit: string;
  credit_equal: boolean;
  unnormalized: number;
  null_groups: number;
  normalized: string;
  aggregate_normalized: string;
  normalized_equal: boolean;
  /** The billed currencies behind the raw sums (comma-separated), or null when not known. */
  currencies: string | null;
}

/**
 * The raw `credit_usage` sums add amounts as billed: in one currency they are an amount in it; over
 * several they are only a checksum (exact, so it still proves the aggregate right), never money.
 */
function rawSum(value: string, currencies: string | null): string {
  if (currencies !== null && currencies !== '' && !currencies.includes(',')) return `${value} ${currencies}`;
  const over = currencies ? currencies.replaceAll(',', '+') : 'all currencies';
  return `${value} (raw sum over ${over}: a checksum, not an amount)`;
}

/** `observed` / `threshold` of a reconciliation: count, raw sum and the reporting-currency total. */
function totals(
  events: number,
  credit: string,
  normalized: string | null,
  r: Reconciliation,
  currency: string,
) {
  const known = Number(r.unnormalized) === 0 && normalized !== null;
  return `${events} events / ${rawSum(credit, r.currencies)} / ${known ? `${normalized} ${currency}` : `${currency} unknown`}`;
}

/** billing_events partitions the aggregate was built without: its totals must leave them out too. */
function withheldDays(ctx: AssetCheckContext): string[] {
  return ctx.blockedUpstream
    .filter((b) => b.asset === 'billing_events' && b.partition !== null)
    .map((b) => b.partition as string);
}

function verdict(
  r: Reconciliation,
  table: string,
  currency: string,
): { passed: boolean; message: string | null } {
  const problems: string[] = [];
  if (Number(r.events) !== Number(r.aggregate_events)) {
    problems.push(`event count ${r.aggregate_events} in ${table}, ${r.events} in billing_events`);
  }
  if (!r.credit_equal) {
    problems.push(
      `credit total ${rawSum(r.aggregate_credit, r.currencies)} in ${table}, ${rawSum(r.credit, r.currencies)} in billing_events`,
    );
  }
  // With every event normalized the totals must match exactly; otherwise some group must say "unknown".
  if (Number(r.unnormalized) === 0) {
    if (Number(r.null_groups) > 0) {
      problems.push(`${r.null_groups} group(s) lack a normalized total although every event has one`);
    } else if (!r.normalized_equal) {
      problems.push(
        `normalized total ${r.aggregate_normalized} ${currency} in ${table}, ${r.normalized} ${currency} in billing_events`,
      );
    }
  } else if (Number(r.null_groups) === 0) {
    problems.push(`${r.unnormalized} event(s) lack a normalized amount but every normalized total is set`);
  }
  return { passed: problems.length === 0, message: problems.length > 0 ? problems.join('; ') : null };
}

/**
 * `reconciliation` of a merged whole-history aggregate, at the cost of the new data: the table's
 * totals against its per-day partials, and the partials of the days the last merge rebuilt
 * against those days' events (the partials are billing_events' totals, kept per day; see
 * aggregates/merge-sql.ts). Reading all events every run would cost O(history).
 */
function mergedReconciliationCheck(
  def: AggregateDefinition,
  settings: CheckSettings,
  currency: string,
): AssetCheckDefinition {
  const partialsTable = stateTable(def, 'days');
  // The table's totals and the changed days' drift in one statement (issue 12: fewer round trips).
  const queries = [false, true].map((withheld) =>
    sql.mergedReconciliationSql({
      table: def.name,
      partialsTable,
      changedDaysTable: stateTable(def, 'changed_days'),
      withheld,
    }),
  );
  return {
    name: 'reconciliation',
    description:
      'Event count, credit and normalized totals over the table equal billing_events, to the last digit (checked through the per-day partials of the changed days)',
    severity: settings.reconciliation.severity,
    async evaluate(ctx) {
      if (!ctx.changed && ctx.failing.length === 0) return [];
      const withheld = withheldDays(ctx);
      const rows = await ctx.warehouse.all<
        Reconciliation & {
          drift_day: string | null;
          drift_events: number;
          drift_partial_events: number;
          drift_credit: string;
          drift_partial_credit: string;
        }
      >(queries[withheld.length > 0 ? 1 : 0] as string, withheld.length > 0 ? [withheld.join(',')] : []);
      const [r] = rows;
      if (!r) return [];
      const drifted = rows.filter((d) => d.drift_day !== null);
      const result = verdict(r, def.name, currency);
      const problems = result.message === null ? [] : [result.message];
      for (const d of drifted.slice(0, 5)) {
        problems.push(
          `day ${d.drift_day}: ${d.drift_partial_events} events / ${rawSum(d.drift_partial_credit, null)} in ${partialsTable}, ${d.drift_events} / ${d.drift_credit} in billing_events`,
        );
      }
      return [
        {
          partition: null,
          passed: problems.length === 0,
          message: problems.length > 0 ? problems.join('; ') : null,
          observed: totals(r.aggregate_events, r.aggregate_credit, r.aggregate_normalized, r, currency),
          threshold: totals(r.events, r.credit, r.normalized, r, currency),
        },
      ];
    },
  };
}

/** The event days a materialization rebuilt, when it says (`eventDays`); null when it does not. */
function touchedDays(ctx: AssetCheckContext): string[] | null {
  const days = ctx.metadata?.eventDays;
  return Array.isArray(days) ? days.map(String).sort() : null;
}

const listDays = (days: readonly string[]) =>
  days.length <= 10 ? days.join(', ') : `${days.slice(0, 10).join(', ')} and ${days.length - 10} more`;

/**
 * `reconciliation` of an unpartitioned aggregate keyed by event day first (user_daily_aggregates,
 * region_daily_aggregates): an incremental run compares only the event days it rebuilt, day by
 * day, against those days' events, so a run costs its new data, not all history; earlier days were
 * compared when they changed. A full build, a run that does not say which days it rebuilt, or a
 * check still failing (the fix may be on any day) compares the whole table.
 */
function dayKeyedReconciliation(
  def: AggregateDefinition,
  settings: CheckSettings,
  currency: string,
  wholeTable: readonly string[],
): AssetCheckDefinition {
  const first = def.keys[0];
  const byDay = [false, true].map((withheld) =>
    sql.reconciliationSql({
      table: def.name,
      dayColumn: first?.as ?? 'day',
      normalized: /\btotal_normalized_credit_usage\b/.test(def.columns),
      withheld,
    }),
  );
  return {
    name: 'reconciliation',
    description:
      'Per event day rebuilt by the run: event count, credit and normalized totals equal billing_events, to the last digit (the whole table after a full build or while failing)',
    severity: settings.reconciliation.severity,
    async evaluate(ctx) {
      if (!ctx.changed && ctx.failing.length === 0) return [];
      const withheld = withheldDays(ctx);
      const days = ctx.failing.length > 0 || ctx.metadata?.full === true ? null : touchedDays(ctx);
      if (days === null) {
        const params = withheld.length > 0 ? [withheld.join(',')] : [];
        const rows = await ctx.warehouse.all<Reconciliation>(
          wholeTable[withheld.length > 0 ? 1 : 0] as string,
          params,
        );
        return rows.map((r) => ({
          partition: null,
          ...verdict(r, def.name, currency),
          observed: `whole table: ${totals(r.aggregate_events, r.aggregate_credit, r.aggregate_normalized, r, currency)}`,
          threshold: totals(r.events, r.credit, r.normalized, r, currency),
        }));
      }
      if (days.length === 0) return [];
      const params = [days.join(','), ...(withheld.length > 0 ? [withheld.join(',')] : [])];
      const rows = await ctx.warehouse.all<Reconciliation>(
        byDay[withheld.length > 0 ? 1 : 0] as string,
        params,
      );
      const problems = rows.flatMap((r) => {
        const v = verdict(r, def.name, currency);
        return v.passed ? [] : [`day ${r.partition}: ${v.message}`];
      });
      return [
        {
          partition: null,
          passed: problems.length === 0,
          message: problems.length > 0 ? problems.slice(0, 5).join('; ') : null,
          observed: `${days.length} rebuilt day(s) checked: ${listDays(days)}`,
          threshold: 'each equal to billing_events',
        },
      ];
    },
  };
}

/** `reconciliation`: the aggregate's totals equal billing_events' (per day for daily aggregates). */
function reconciliationCheck(
  def: AggregateDefinition,
  settings: CheckSettings,
  currency: string,
): AssetCheckDefinition | null {
  const has = (column: string) => new RegExp(`\\b${column}\\b`).test(def.columns);
  if (!settings.reconciliation.enabled || !has('event_count') || !has('total_credit_usage')) return null;
  if (def.merge) return mergedReconciliationCheck(def, settings, currency);
  const first = def.keys[0];
  const daily = def.partitioning === 'daily' && first?.column === 'event_date' ? first.as : null;
  const queries = [false, true].map((withheld) =>
    sql.reconciliationSql({
      table: def.name,
      dayColumn: daily,
      normalized: has('total_normalized_credit_usage'),
      withheld,
    }),
  );
  if (!daily && first?.column === 'event_date')
    return dayKeyedReconciliation(def, settings, currency, queries);
  return {
    name: 'reconciliation',
    description: daily
      ? 'Per day: event count, credit and normalized totals equal billing_events, to the last digit'
      : 'Event count, credit and normalized totals over the table equal billing_events, to the last digit',
    severity: settings.reconciliation.severity,
    async evaluate(ctx) {
      const withheld = withheldDays(ctx);
      const query = queries[withheld.length > 0 ? 1 : 0] as string;
      const params: string[] = [];
      if (daily) {
        const partitions = checkedPartitions(ctx);
        if (partitions.length === 0) return [];
        params.push(partitions.join(','));
      } else if (!ctx.changed && ctx.failing.length === 0) {
        return [];
      }
      if (withheld.length > 0) params.push(withheld.join(','));
      const rows = await ctx.warehouse.all<Reconciliation>(query, params);
      return rows.map((r) => ({
        partition: r.partition,
        ...verdict(r, def.name, currency),
        observed: totals(r.aggregate_events, r.aggregate_credit, r.aggregate_normalized, r, currency),
        threshold: totals(r.events, r.credit, r.normalized, r, currency),
      }));
    },
  };
}

/** `volume_anomaly` on daily_aggregates: a day's event count or normalized spend far from its recent range. */
/**
 * A statistic for reading: six significant digits (a median of DOUBLEs prints as 5627.3277450000005),
 * whole numbers from a million on.
 */
export function statistic(x: number): string {
  if (!Number.isFinite(x)) return String(x);
  return Math.abs(x) >= 1e6 ? Math.round(x).toString() : String(Number(x.toPrecision(6)));
}

function volumeAnomalyCheck(settings: CheckSettings, currency: string): AssetCheckDefinition | null {
  const v = settings.volume_anomaly;
  if (!v.enabled) return null;
  return {
    name: 'volume_anomaly',
    description: `A day's events and normalized spend against the median of the ${v.window_days} days before (robust z >= ${v.max_robust_z} and a change of at least ${v.min_relative_change * 100}%)`,
    severity: v.severity,
    async evaluate(ctx) {
      const partitions = checkedPartitions(ctx);
      if (partitions.length === 0) return [];
      const rows = await ctx.warehouse.all<{
        partition: string;
        event_count: number | null;
        spend: number | null;
        exact_spend: string | null;
        history_days: number;
        median_events: number | null;
        mad_events: number | null;
        spend_days: number;
        median_spend: number | null;
        mad_spend: number | null;
      }>(sql.VOLUME_BASELINE, [partitions.join(','), v.window_days]);
      return rows.map((r) => {
        const metrics = [
          {
            name: 'events',
            value: r.event_count,
            median: r.median_events,
            mad: r.mad_events,
            days: r.history_days,
            shown: (x: number) => statistic(x),
            exact: r.event_count === null ? null : String(r.event_count),
          },
          {
            name: 'normalized spend',
            value: r.spend,
            median: r.median_spend,
            mad: r.mad_spend,
            days: r.spend_days,
            // The day's spend exactly; the median is a statistic, to the cent.
            shown: (x: number) => `${x.toFixed(2)} ${currency}`,
            exact: r.exact_spend === null ? null : `${r.exact_spend} ${currency}`,
          },
        ];
        const scored = metrics.flatMap((m) => {
          if (m.value === null || m.median === null || m.mad === null) return [];
          const o = {
            value: Number(m.value),
            median: Number(m.median),
            mad: Number(m.mad),
            historyDays: Number(m.days),
          };
          const z = robustZ(o);
          return [
            {
              ...m,
              z,
              anomalous: isAnomalous(o, v),
              text: `${m.name} ${m.exact ?? m.shown(o.value)} (median ${m.shown(o.median)}, z ${z === null ? 'n/a' : z.toFixed(1)})`,
            },
          ];
        });
        const anomalies = scored.filter((m) => m.anomalous);
        return {
          partition: r.partition,
          passed: anomalies.length === 0,
          observed:
            scored.length > 0 ? scored.map((m) => m.text).join('; ') : `history ${r.history_days} day(s)`,
          threshold: `|z| >= ${v.max_robust_z} and change >= ${v.min_relative_change * 100}% over >= ${v.min_history_days} day(s)`,
          message: anomalies.length > 0 ? `unusual ${anomalies.map((m) => m.text).join('; ')}` : null,
        };
      });
    },
  };
}

/** The checks of one aggregate asset. */
export function aggregateChecks(
  def: AggregateDefinition,
  settings: CheckSettings,
  reportingCurrency = 'USD',
): AssetCheckDefinition[] {
  return [
    reconciliationCheck(def, settings, reportingCurrency),
    def.name === 'daily_aggregates' ? volumeAnomalyCheck(settings, reportingCurrency) : null,
  ].filter((c): c is AssetCheckDefinition => c !== null);
}
