import { isDeepStrictEqual } from 'node:util';
import { budgetsFromRecorded } from './billing/budgets/budget-config.js';
import {
  DEFAULT_QUALITY_CONFIG,
  isPlain,
  mergeSettings,
  type Plain,
  validateQualityConfig,
} from './billing/checks/quality-config.js';
import { type BillingPipelineOptions, billingAssetGraph } from './billing/pipeline.js';
import { RUN_SETTING_KEYS } from './config/run-settings.js';
import { type Config, ConfigError } from './config.js';
import type { AssetGraph } from './orchestrator/asset-graph.js';
import type { RunConfig } from './orchestrator/ledger.js';
import { configuredSource } from './sources/configured-source.js';
import type { Source, SourceError } from './sources/source.js';

// The file budgets a run recorded, parsed (its `budgets` setting may be a path on another machine).
const runSettings = (config: RunConfig): Plain => ({
  ...Object.fromEntries(RUN_SETTING_KEYS.map((key) => [key, config[key] ?? null])),
  resolved_budgets: config.resolved_budgets ?? null,
});

/**
 * Scale-out workers run each run under the configuration recorded with it, not their own: a run
 * submitted with BILLING_SOURCE=s3://a/ reads s3://a/ on a worker started without it. The run
 * settings (source, FX source, reporting currency, checks, ingest concurrency) come from the run;
 * credentials, the database and resources (DuckDB memory, threads) stay the worker's. One graph
 * per distinct recorded configuration, kept until the worker stops (there are a handful at most).
 */
export class RunGraphs {
  private readonly built = new Map<string, { graph: AssetGraph; source: Source }>();

  constructor(
    private readonly options: {
      config: Config;
      /** This process's own graph and recorded configuration: used when the run's is the same. */
      graph: AssetGraph;
      runConfig: RunConfig;
      onSourceError?: (error: SourceError) => void;
      /** The alerts' hook into budget_status, as in this process's own graph. */
      onBudgetStatus?: BillingPipelineOptions['onBudgetStatus'];
    },
  ) {}

  /** The graph for a run that recorded `recorded` (null: a run from before runs recorded it). */
  forConfig(recorded: RunConfig | null): AssetGraph {
    const { config, graph, runConfig } = this.options;
    if (!recorded) return graph;
    const wanted = runSettings(recorded);
    if (isDeepStrictEqual(wanted, runSettings(runConfig))) return graph;
    const key = JSON.stringify(wanted);
    const cached = this.built.get(key);
    if (cached) return cached.graph;
    // Checks added since the run was recorded take their defaults.
    const quality = validateQualityConfig(
      mergeSettings(DEFAULT_QUALITY_CONFIG, wanted.checks ?? {}),
      'the check settings recorded with the run',
    );
    const text = (value: unknown) => (typeof value === 'string' && value !== '' ? value : null);
    const source = configuredSource(text(wanted.source), config, this.options.onSourceError);
    const built = billingAssetGraph({
      source,
      home: config.home,
      ingestConcurrency: Number(wanted.ingest_concurrency ?? config.ingestConcurrency),
      ingestParser: (wanted.ingest_parser ?? config.ingestParser) === 'js' ? 'js' : 'native',
      fx: {
        source: text(wanted.fx_source),
        reportingCurrency: text(wanted.reporting_currency) ?? config.reportingCurrency,
        env: config.env,
      },
      quality,
      budgets: budgetsFromRecorded(wanted.resolved_budgets),
      onBudgetStatus: this.options.onBudgetStatus,
    });
    this.built.set(key, { graph: built, source });
    return built;
  }

  /** Parses the ledger's `config` column. */
  forStored(column: string | null): AssetGraph {
    if (!column) return this.options.graph;
    let parsed: unknown;
    try {
      parsed = JSON.parse(column);
    } catch {
      throw new ConfigError('the configuration recorded with the run is not valid JSON');
    }
    return this.forConfig(isPlain(parsed) ? parsed : null);
  }

  async close(): Promise<void> {
    for (const { source } of this.built.values()) await source.close();
    this.built.clear();
  }
}
