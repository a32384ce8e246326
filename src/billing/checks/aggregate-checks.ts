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
}

/** billing_events partitions the aggregate was built without: its totals must leave them out too. */
function withheldDays(ctx: AssetCheckContext): string[] {
  return ctx.blockedUpstream
    .filter((b) => b.asset === 'billing_events' && b.partition !== null)
    .map((b) => b.partition as string);
}

function verdict(r: Reconciliation, table: string): { passed: boolean; message: string | null } {
  const problems: string[] = [];
  if (Number(r.events) !== Number(r.aggregate_events)) {
    problems.push(`event count ${r.aggregate_events} in ${table}, ${r.events} in billing_events`);
  }
  if (!r.credit_equal)
    problems.push(`credit total ${r.aggregate_credit} in ${table}, ${r.credit} in billing_events`);
  // With every event normalized the totals must match exactly; otherwise some group must say "unknown".
  if (Number(r.unnormalized) === 0) {
    if (Number(r.null_groups) > 0) {
      problems.push(`${r.null_groups} group(s) lack a normalized total although every event has one`);
    } else if (!r.normalized_equal) {
      problems.push(
        `normalized total ${r.aggregate_normalized} in ${table}, ${r.normalized} in billing_events`,
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
function mergedReconciliationCheck(def: AggregateDefinition, settings: CheckSettings): AssetCheckDefinition {
  const partialsTable = stateTable(def, 'days');
  const tableQuery = sql.mergedTableSql({ table: def.name, partialsTable });
  const partialQueries = [false, true].map((withheld) =>
    sql.mergedPartialsSql({ partialsTable, changedDaysTable: stateTable(def, 'changed_days'), withheld }),
  );
  return {
    name: 'reconciliation',
    description:
      'Event count, credit and normalized totals over the table equal billing_events, to the last digit (checked through the per-day partials of the changed days)',
    severity: settings.reconciliation.severity,
    async evaluate(ctx) {
      if (!ctx.changed && ctx.failing.length === 0) return [];
      const withheld = withheldDays(ctx);
      const [r] = await ctx.warehouse.all<Reconciliation>(tableQuery);
      if (!r) return [];
      const drifted = await ctx.warehouse.all<{
        day: string;
        events: number;
        partial_events: number;
        credit: string;
        partial_credit: string;
      }>(
        partialQueries[withheld.length > 0 ? 1 : 0] as string,
        withheld.length > 0 ? [withheld.join(',')] : [],
      );
      const result = verdict(r, def.name);
      const problems = result.message === null ? [] : [result.message];
      for (const d of drifted.slice(0, 5)) {
        problems.push(
          `day ${d.day}: ${d.partial_events} events / ${d.partial_credit} in ${partialsTable}, ${d.events} / ${d.credit} in billing_events`,
        );
      }
      return [
        {
          partition: null,
          passed: problems.length === 0,
          message: problems.length > 0 ? problems.join('; ') : null,
          observed: `${r.aggregate_events} events / ${r.aggregate_credit}`,
          threshold: `${r.events} events / ${r.credit}`,
        },
      ];
    },
  };
}

/** `reconciliation`: the aggregate's totals equal billing_events' (per day for daily aggregates). */
function reconciliationCheck(def: AggregateDefinition, settings: CheckSettings): AssetCheckDefinition | null {
  const has = (column: string) => new RegExp(`\\b${column}\\b`).test(def.columns);
  if (!settings.reconciliation.enabled || !has('event_count') || !has('total_credit_usage')) return null;
  if (def.merge) return mergedReconciliationCheck(def, settings);
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
        ...verdict(r, def.name),
        observed: `${r.aggregate_events} events / ${r.aggregate_credit}`,
        threshold: `${r.events} events / ${r.credit}`,
      }));
    },
  };
}

/** `volume_anomaly` on daily_aggregates: a day's event count or normalized spend far from its recent range. */
function volumeAnomalyCheck(settings: CheckSettings): AssetCheckDefinition | null {
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
          },
          {
            name: 'normalized spend',
            value: r.spend,
            median: r.median_spend,
            mad: r.mad_spend,
            days: r.spend_days,
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
              text: `${m.name} ${o.value} (median ${o.median}, z ${z === null ? 'n/a' : z.toFixed(1)})`,
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
export function aggregateChecks(def: AggregateDefinition, settings: CheckSettings): AssetCheckDefinition[] {
  return [
    reconciliationCheck(def, settings),
    def.name === 'daily_aggregates' ? volumeAnomalyCheck(settings) : null,
  ].filter((c): c is AssetCheckDefinition => c !== null);
}
