import type { AssetDefinition } from '../../orchestrator/asset.js';
import { DEFAULT_QUALITY_CONFIG, type SpendAnomalySettings } from '../checks/quality-config.js';
import { dropInsightTable, insightTables } from '../sql/insights.js';
import { spendAnomalyMaintenance } from '../sql/spend-anomalies.js';

export interface InsightsAssetOptions {
  reportingCurrency?: string;
  spendAnomalies?: SpendAnomalySettings;
}

/** `billing_insights`: the facts the dashboard and `billing-pipeline insights` show. */
export function insightsAsset(
  aggregates: readonly string[],
  options: InsightsAssetOptions = {},
): AssetDefinition {
  const reportingCurrency = options.reportingCurrency ?? 'USD';
  const spendAnomalies = options.spendAnomalies ?? DEFAULT_QUALITY_CONFIG.anomalies.spend;
  const withDailySeries =
    aggregates.includes('user_daily_aggregates') && aggregates.includes('region_daily_aggregates');
  const tables = insightTables({
    reportingCurrency,
    spendAnomalies,
    withDailySeries,
    withCurrencies: aggregates.includes('currency_aggregates'),
  });
  const anomalies = spendAnomalyMaintenance(spendAnomalies, withDailySeries);
  return {
    name: 'billing_insights',
    description: `Dashboard facts in the reporting currency: totals, per-currency totals, top users, top regions, operation mix, tier performance, day-over-day change, spend anomalies (tables ${tables.map((t) => t.name).join(', ')})`,
    deps: aggregates,
    partitioning: 'none',
    group: 'insights',
    async materialize(ctx) {
      const [exists] = await ctx.warehouse.all<{ n: number }>(
        "SELECT count(*) AS n FROM information_schema.tables WHERE table_name = 'billing_insights'",
      );
      const stale = ctx.upstreamChanged || ctx.fullRefresh || ctx.range !== null || (exists?.n ?? 0) === 0;
      if (!stale) return { changed: false, partitions: [] };
      await ctx.warehouse.transaction(async (tx) => {
        // Concurrent runs (scale-out) take turns: two creating one table at once would collide.
        await tx.lock('asset:billing_insights');
        // The anomalies first (billing_insights counts them), kept up to date from the series'
        // changed cells: rebuilding them scores every day of history against its window.
        for (const statement of anomalies.setup) await tx.exec(statement);
        const [stored] = await tx.all<{ version: string }>(anomalies.readVersion);
        const keep =
          !ctx.fullRefresh && anomalies.incremental !== null && stored?.version === anomalies.version;
        for (const statement of keep ? (anomalies.incremental ?? []) : anomalies.full) {
          await tx.exec(statement);
        }
        for (const table of tables) {
          if (table.name === 'insights_spend_anomalies') continue;
          await tx.exec(dropInsightTable(table.name));
          await tx.exec(table.sql);
        }
      });
      const [totals] = await ctx.warehouse.all<{
        total_events: number;
        total_normalized_credit_usage: string | null;
        reporting_currency: string;
        spend_anomalies: number;
      }>(
        'SELECT total_events, total_normalized_credit_usage, reporting_currency, spend_anomalies FROM billing_insights',
      );
      const byCurrency = await ctx.warehouse.all<{ currency: string | null; total_credit_usage: string }>(
        'SELECT currency, total_credit_usage FROM insights_currency_totals ORDER BY currency',
      );
      return {
        changed: true,
        partitions: [{ partition: null, rowCount: tables.length }],
        // The run page shows this as it is: every amount in one named currency, never a sum of
        // amounts billed in different ones (the raw total_credit_usage column is that sum).
        metadata: {
          totalEvents: totals?.total_events ?? 0,
          spend: {
            amount: totals?.total_normalized_credit_usage ?? null,
            currency: totals?.reporting_currency ?? reportingCurrency,
          },
          originalTotals: Object.fromEntries(
            byCurrency.map((r) => [r.currency ?? 'unknown', String(r.total_credit_usage)]),
          ),
          spendAnomalies: totals?.spend_anomalies ?? 0,
        },
      };
    },
  };
}
