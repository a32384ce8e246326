import type { AssetDefinition } from '../orchestrator/asset.js';
import { AssetGraph } from '../orchestrator/asset-graph.js';
import type { Source } from '../sources/source.js';
import type { SqlSession } from '../warehouse/warehouse.js';
import type { AggregateDefinition } from './aggregates/aggregate-definition.js';
import { AGGREGATES } from './aggregates/index.js';
import { aggregateAsset } from './assets/aggregate-asset.js';
import { billingEventsAsset } from './assets/billing-events.js';
import { billingFilesAsset } from './assets/billing-files.js';
import { insightsAsset } from './assets/insights-asset.js';
import type { Budget } from './budgets/budget.js';
import { budgetStatusAsset } from './budgets/budget-status-asset.js';
import { billingChecks } from './checks/billing-checks.js';
import { DEFAULT_QUALITY_CONFIG, type QualityConfig } from './checks/quality-config.js';
import { type FxOptions, fxRatesAsset } from './fx/fx-rates-asset.js';
import type { IngestParser } from './ingest/native-parse.js';

export interface BillingPipelineOptions {
  source: Source;
  /** BILLING_HOME: scratch files go under it. */
  home: string;
  aggregates?: readonly AggregateDefinition[];
  ingestConcurrency?: number;
  /** How CSV files are parsed on DuckDB (PostgreSQL always uses the JS parser); default native. */
  ingestParser?: IngestParser;
  /** FX rates and the reporting currency; default: no rate file, USD. */
  fx?: FxOptions;
  /** Check and anomaly settings; default: the built-in ones (see docs/quality.md). */
  quality?: QualityConfig;
  /** The clock freshness is judged by (tests fix it). */
  now?: () => Date;
  /** Budgets declared in the file (API budgets are read at each run); see docs/budgets-alerts.md. */
  budgets?: readonly Budget[];
  /** Called inside the transaction that writes budget_status, after its rows (the alerts decide there). */
  onBudgetStatus?: (tx: SqlSession, info: { runId: string }) => Promise<void>;
}

/** The billing asset graph: files and FX rates -> events -> aggregates -> insights, with their checks. */
export function billingAssetGraph(options: BillingPipelineOptions): AssetGraph {
  const aggregates = options.aggregates ?? AGGREGATES;
  const names = aggregates.map((a) => a.name);
  const fx: FxOptions = options.fx ?? { source: null, reportingCurrency: 'USD', env: process.env };
  const quality = options.quality ?? DEFAULT_QUALITY_CONFIG;
  const assets: AssetDefinition[] = [
    billingFilesAsset({ source: options.source, home: options.home }),
    fxRatesAsset(fx),
    billingEventsAsset({
      source: options.source,
      home: options.home,
      concurrency: options.ingestConcurrency,
      parser: options.ingestParser ?? 'native',
      reportingCurrency: fx.reportingCurrency,
      fxSource: fx.source,
      duplicates: quality.checks.duplicate_file.on_duplicate,
    }),
    ...aggregates.map((def) => aggregateAsset(def, names)),
    insightsAsset(names, {
      reportingCurrency: fx.reportingCurrency,
      spendAnomalies: quality.anomalies.spend,
    }),
    // Budgets need at least the all-spend series; a graph built with other aggregates has none.
    ...(names.includes('daily_aggregates')
      ? [
          budgetStatusAsset({
            budgets: options.budgets ?? [],
            reportingCurrency: fx.reportingCurrency,
            aggregates: names,
            onBudgetStatus: options.onBudgetStatus,
            now: options.now,
          }),
        ]
      : []),
  ];
  const checks = billingChecks({
    settings: quality.checks,
    reportingCurrency: fx.reportingCurrency,
    fxSource: fx.source,
    aggregates,
    now: options.now,
  });
  return new AssetGraph(
    assets.map((asset) => {
      const mine = checks.get(asset.name) ?? [];
      return mine.length > 0 ? { ...asset, checks: mine } : asset;
    }),
  );
}
