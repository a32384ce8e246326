import type { AssetDefinition } from '../orchestrator/asset.js';
import { AssetGraph } from '../orchestrator/asset-graph.js';
import type { Source } from '../sources/source.js';
import type { AggregateDefinition } from './aggregates/aggregate-definition.js';
import { AGGREGATES } from './aggregates/index.js';
import { aggregateAsset } from './assets/aggregate-asset.js';
import { billingEventsAsset } from './assets/billing-events.js';
import { billingFilesAsset } from './assets/billing-files.js';
import { insightsAsset } from './assets/insights-asset.js';

export interface BillingPipelineOptions {
  source: Source;
  /** BILLING_HOME: scratch files go under it. */
  home: string;
  aggregates?: readonly AggregateDefinition[];
  ingestConcurrency?: number;
}

/** The billing asset graph: files -> events -> aggregates -> insights. */
export function billingAssetGraph(options: BillingPipelineOptions): AssetGraph {
  const aggregates = options.aggregates ?? AGGREGATES;
  const names = aggregates.map((a) => a.name);
  const assets: AssetDefinition[] = [
    billingFilesAsset({ source: options.source, home: options.home }),
    billingEventsAsset({
      source: options.source,
      home: options.home,
      concurrency: options.ingestConcurrency,
    }),
    ...aggregates.map((def) => aggregateAsset(def, names)),
    insightsAsset(names),
  ];
  return new AssetGraph(assets);
}
