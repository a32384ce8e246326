import type { AssetDefinition } from '../../orchestrator/asset.js';
import { DEFAULT_QUALITY_CONFIG, type SpendAnomalySettings } from '../checks/quality-config.js';
import { dropInsightTable, insightTables } from '../sql/insights.js';

export interface InsightsAssetOptions {
  reportingCurrency?: string;
  spendAnomalies?: SpendAnomalySettings;
}

/** `billing_insights`: the facts the dashboard and `billing-pipeline insights` show. */
export function insightsAsset(
  aggregates: readonly string[],
  options: InsightsAssetOptions = {},
): AssetDefinition {
  const tables = insightTables({
    reportingCurrency: options.reportingCurrency ?? 'USD',
    spendAnomalies: options.spendAnomalies ?? DEFAULT_QUALITY_CONFIG.anomalies.spend,
    withDailySeries:
      aggregates.includes('user_daily_aggregates') && aggregates.includes('region_daily_aggregates'),
    withCurrencies: aggregates.includes('currency_aggregates'),
  });
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
        for (const table of tables) {
          await tx.exec(dropInsightTable(table.name));
          await tx.exec(table.sql);
        }
      });
      const [totals] = await ctx.warehouse.all<{
        total_events: number;
        total_credit_usage: string;
        total_normalized_credit_usage: string | null;
        spend_anomalies: number;
      }>(
        'SELECT total_events, total_credit_usage, total_normalized_credit_usage, spend_anomalies FROM billing_insights',
      );
      return {
        changed: true,
        partitions: [{ partition: null, rowCount: tables.length }],
        metadata: {
          totalEvents: totals?.total_events ?? 0,
          totalCreditUsage: totals?.total_credit_usage ?? '0',
          totalNormalizedCreditUsage: totals?.total_normalized_credit_usage ?? null,
          spendAnomalies: totals?.spend_anomalies ?? 0,
        },
      };
    },
  };
}
