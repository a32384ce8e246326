import type { AssetDefinition } from '../../orchestrator/asset.js';
import { INSIGHT_TABLES } from '../sql/insights.js';

/** `billing_insights`: the facts the dashboard and `billing-pipeline insights` show. */
export function insightsAsset(aggregates: readonly string[]): AssetDefinition {
  return {
    name: 'billing_insights',
    description: `Dashboard facts: totals, top users, top regions, operation mix, tier performance, day-over-day change (tables ${INSIGHT_TABLES.map((t) => t.name).join(', ')})`,
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
        for (const table of INSIGHT_TABLES) await tx.exec(table.sql);
      });
      const [totals] = await ctx.warehouse.all<{ total_events: number; total_credit_usage: string }>(
        'SELECT total_events, total_credit_usage FROM billing_insights',
      );
      return {
        changed: true,
        partitions: [{ partition: null, rowCount: INSIGHT_TABLES.length }],
        metadata: {
          totalEvents: totals?.total_events ?? 0,
          totalCreditUsage: totals?.total_credit_usage ?? '0',
        },
      };
    },
  };
}
