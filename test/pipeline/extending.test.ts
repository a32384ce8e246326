import { describe, expect, it } from 'vitest';
import type { AggregateDefinition } from '../../src/billing/aggregates/aggregate-definition.js';
import { AGGREGATES } from '../../src/billing/aggregates/index.js';
import { billingAssetGraph } from '../../src/billing/pipeline.js';
import { executeRun } from '../../src/orchestrator/run-executor.js';
import { createSource } from '../../src/sources/create-source.js';
import { csv, row, testPipeline } from '../support/pipeline.js';

const tierDaily: AggregateDefinition = {
  name: 'tier_daily_aggregates',
  description: 'Per day and tier',
  keys: [
    { column: 'event_date', as: 'day', type: 'DATE' },
    { column: 'service_tier', as: 'service_tier', type: 'VARCHAR' },
  ],
  partitioning: 'none',
  columns: 'event_count BIGINT NOT NULL, total_credit_usage DECIMAL(38,6) NOT NULL',
  measures: 'count(*), sum(e.credit_usage)',
};

describe('adding an aggregate', () => {
  it('joins the graph, builds from all history on its first run, then follows changes incrementally', async () => {
    const p = await testPipeline('extend');
    await p.put(
      'year=2025/month=04/day=22/a.csv',
      csv(row({ timestamp: '2025-04-22T10:00:00Z', service_tier: 'free' })),
    );
    await p.materialize();

    const runtime = await p.open();
    try {
      const graph = billingAssetGraph({
        source: createSource(p.source, p.env),
        home: p.home,
        aggregates: [...AGGREGATES, tierDaily],
      });
      expect(graph.get('billing_insights').deps).toContain('tier_daily_aggregates');
      expect(graph.reachable('tier_daily_aggregates', 'up')).toEqual([
        'billing_files',
        'fx_rates',
        'billing_events',
      ]);
      for (const asset of graph.assets) await asset.setup?.(runtime.warehouse);
      const run = () =>
        executeRun({
          graph,
          ledger: runtime.ledger,
          warehouse: runtime.warehouse,
          request: { trigger: 'test' },
        });

      const first = await run();
      expect(first.assets.find((a) => a.asset === 'tier_daily_aggregates')?.result?.metadata).toMatchObject({
        full: true,
      });
      await p.put(
        'year=2025/month=04/day=23/b.csv',
        csv(row({ service_tier: 'premium', credit_usage: '2' })),
      );
      const second = await run();
      expect(second.assets.find((a) => a.asset === 'tier_daily_aggregates')?.result?.metadata).toMatchObject({
        full: false,
        groupsRebuilt: 1,
      });
      const rows = await runtime.warehouse.all('SELECT * FROM tier_daily_aggregates ORDER BY day');
      expect(rows).toEqual([
        { day: '2025-04-22', service_tier: 'free', event_count: 1, total_credit_usage: '1.500000' },
        { day: '2025-04-23', service_tier: 'premium', event_count: 1, total_credit_usage: '2.000000' },
      ]);
      const ledger = await runtime.warehouse.all(
        "SELECT count(*) AS n FROM asset_runs WHERE asset = 'tier_daily_aggregates' AND status = 'success'",
      );
      expect(ledger).toEqual([{ n: 2 }]);
    } finally {
      await runtime.close();
    }
  });
});
