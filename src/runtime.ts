import { join } from 'node:path';
import type { AlertWiring } from './alerts/after-run.js';
import { loadAlertsConfig } from './alerts/alert-config.js';
import type { Budget } from './billing/budgets/budget.js';
import { loadFileBudgets, recordedBudgets } from './billing/budgets/budget-config.js';
import { loadQualityConfig, type QualityConfig } from './billing/checks/quality-config.js';
import { type Config, effectiveSettings } from './config.js';
import type { AssetGraph } from './orchestrator/asset-graph.js';
import type { Ledger, RunConfig } from './orchestrator/ledger.js';
import type { RunEmitter } from './orchestrator/run-events.js';
import type { RunRequest, RunSummary } from './orchestrator/run-executor.js';
import type { RunGraphs } from './run-graphs.js';
import type { ScaleOut } from './scale-out.js';
import { configuredSource } from './sources/configured-source.js';
import { PrefetchingSource } from './sources/prefetching-source.js';
import type { SourceError } from './sources/source.js';
import { openWarehouse } from './warehouse/create-warehouse.js';
import { buildId, schemaStamp, setupKey } from './warehouse/schema-stamp.js';
import type { Warehouse } from './warehouse/warehouse.js';

/*
 * What a runtime needs past its configuration and the warehouse: loaded while DuckDB opens the
 * file, and while a first listing started once it is open (prefetchListing) is in flight.
 */
const loadPipeline = () =>
  Promise.all([
    import('./alerts/after-run.js'),
    import('./billing/pipeline.js'),
    import('./orchestrator/automation-store.js'),
    import('./orchestrator/check-runner.js'),
    import('./orchestrator/ledger.js'),
    import('./orchestrator/run-executor.js'),
    import('./run-graphs.js'),
    import('./scale-out.js'),
  ]);

/** An open pipeline: warehouse, ledger and asset graph wired from one config. */
export interface Runtime {
  config: Config;
  /** The effective configuration recorded with every run this runtime creates (secrets redacted). */
  runConfig: RunConfig;
  warehouse: Warehouse;
  ledger: Ledger;
  graph: AssetGraph;
  /**
   * The alert settings (secrets resolved) and what evaluation needs besides the warehouse; absent
   * in a runtime whose work happens in a daemon (remoteRuntime).
   */
  alerts?: AlertWiring;
  /** Orphaned runs found (and marked failed) when this runtime opened. */
  orphanedRuns: number;
  /** Their ids, so a daemon can resume them. */
  orphanedRunIds?: readonly string[];
  materialize(
    request: RunRequest,
    options?: { emitter?: RunEmitter; signal?: AbortSignal },
  ): Promise<RunSummary>;
  /**
   * Scale-out mode (BILLING_DATABASE_URL): the job queue, opened on first use; the CLI queues runs
   * there for the workers (`materialize` above always runs in this process). Null when embedded.
   */
  scaleOut: (() => Promise<ScaleOut>) | null;
  /** Scale-out workers: the graph of a run, built from the configuration recorded with it. */
  runGraphs: RunGraphs | null;
  close(): Promise<void>;
}

export interface RuntimeOptions {
  /**
   * Switch off DuckDB's file and network access except the pipeline's scratch folder: for a
   * process that runs SQL sent by others (the daemon). Applies to the whole DuckDB instance.
   */
  restrictFileAccess?: boolean;
  /** Told of every error the source raises, retried or not (the daemon's metrics). */
  onSourceError?: (error: SourceError) => void;
  /**
   * Start listing the source as soon as the warehouse is open, for the first run's billing_files:
   * for a process that opens the runtime to run once (the CLI's `materialize`), not a daemon,
   * whose runs come later. The listing starts once this process holds the warehouse, as the
   * run's own would, so nothing can change the inventory between it and the diff.
   */
  prefetchListing?: boolean;
  /**
   * The code's identity for the schema stamp (warehouse/schema-stamp.ts): by default read from
   * the compiled modules, null under tsx (setups always run). Tests set it to exercise the stamp.
   */
  buildId?: string | null;
}

/**
 * What a run records of its configuration: every setting as billing-pipeline.yaml would hold it,
 * secrets redacted, with the check settings resolved (a path means nothing on another machine).
 */
export function recordedConfig(
  config: Config,
  quality: QualityConfig,
  budgets?: readonly Budget[],
): RunConfig {
  const recorded: RunConfig = { ...effectiveSettings(config), checks: quality };
  // Beside `budgets` (the setting as written, compared with a daemon's): the parsed list, for workers.
  if (budgets && budgets.length > 0) recorded.resolved_budgets = recordedBudgets(budgets);
  return recorded;
}

/** `make()`, or null if it throws (the caller makes it again where its error belongs). */
function attempt<T>(make: () => T): T | null {
  try {
    return make();
  } catch {
    return null;
  }
}

export async function openRuntime(config: Config, options: RuntimeOptions = {}): Promise<Runtime> {
  // Read off the main thread while the configuration loads and the warehouse opens.
  const build = options.buildId !== undefined ? Promise.resolve(options.buildId) : buildId();
  const makeSource = () =>
    new PrefetchingSource(configuredSource(config.source, config, options.onSourceError));
  // The listing's thread loads the S3 SDK while this one reads the settings and opens DuckDB. A
  // source that cannot be made is left to fail below, after the settings, as it always did.
  const early = options.prefetchListing && config.source ? attempt(makeSource) : null;
  early?.warmUp();
  let quality: QualityConfig;
  let budgets: Budget[];
  let alerts: AlertWiring;
  try {
    quality = await loadQualityConfig({
      file: config.checksConfig,
      inline: config.checksInline,
      origin: config.settings.get('checks')?.origin,
      env: config.env,
    });
    budgets = await loadFileBudgets({ setting: config.budgetsSetting, configFile: config.configFile });
    // Read at start: a channel whose secret_env is unset is a setting error now, not an unsigned send later.
    alerts = {
      config: await loadAlertsConfig(config.alertsSetting, config.env),
      fileBudgets: budgets,
      reportingCurrency: config.reportingCurrency,
    };
  } catch (error) {
    await early?.close().catch(() => {});
    throw error;
  }
  const source = early ?? makeSource();
  // Compiled on this thread while DuckDB opens the file on its own threads.
  const pipeline = loadPipeline();
  // Awaited only once the warehouse is open: a failed open must not leave it unhandled.
  pipeline.catch(() => {});
  const warehouse = await openWarehouse({
    databaseUrl: config.databaseUrl ?? undefined,
    path: config.warehousePath,
    memoryLimit: config.memoryLimit,
    threads: config.threads,
    tempDirectory: join(config.home, 'tmp', 'duckdb'),
    restrictFileAccess: options.restrictFileAccess
      ? { allowedDirectories: [join(config.home, 'tmp')] }
      : undefined,
  }).catch(async (error: unknown) => {
    // A busy file is retried with a new runtime: this one's listing thread goes now.
    await source.close().catch(() => {});
    throw error;
  });
  try {
    if (options.prefetchListing && config.source) await source.prefetch();
    const [
      { evaluateAndDeliverOnce, onBudgetStatus },
      { billingAssetGraph },
      { AutomationStore },
      { CheckStore },
      { Ledger },
      { executeRun },
      { RunGraphs },
      { openScaleOut },
    ] = await pipeline;
    const runConfig = recordedConfig(config, quality, budgets);
    const ledger = new Ledger(warehouse, { runConfig, keepRequestedConfig: config.databaseUrl !== null });
    const graph = billingAssetGraph({
      source,
      home: config.home,
      ingestConcurrency: config.ingestConcurrency,
      ingestParser: config.ingestParser,
      fx: { source: config.fxSource, reportingCurrency: config.reportingCurrency, env: config.env },
      quality,
      budgets,
      onBudgetStatus: onBudgetStatus(alerts),
    });
    // Workers and servers starting together would race to create the same tables, and the
    // stores' and assets' own setup locks do not compose: on a fresh database, setups holding
    // different ones deadlock. One lock around all of it (tested: three workers starting at once).
    await warehouse.exclusive('setup', async () => {
      const setups = [
        'ledger',
        'automation',
        'checks',
        ...graph.assets.filter((a) => a.setup).map((a) => a.name),
      ];
      const stamp = await schemaStamp(warehouse, setupKey(await build, setups));
      // The check store's setup runs whatever the stamp says (cheap, once per process: a run asks
      // for it again); otherwise in the order the setups always ran, which concurrent starts rely on.
      if (stamp.upToDate) {
        await new CheckStore(warehouse).setup();
        return;
      }
      await ledger.setup();
      await new AutomationStore(warehouse).setup();
      await new CheckStore(warehouse).setup();
      for (const asset of graph.assets) await asset.setup?.(warehouse);
      await stamp.record();
    });
    // Embedded: this process holds the only write lock on the file, so any run still "running" is
    // orphaned; queued runs are kept for the daemon's persistent queue. Scale-out: other processes'
    // runs are live; a dead worker's run is retried by the job queue after its timeout.
    const orphanedRunIds = config.databaseUrl ? [] : await ledger.failOrphanedRunning();
    const orphanedRuns = orphanedRunIds.length;
    let scaleOut: Promise<ScaleOut> | null = null;
    const openQueue = () => {
      scaleOut ??= openScaleOut({ config, graph, ledger });
      return scaleOut;
    };
    const runGraphs = config.databaseUrl
      ? new RunGraphs({
          config,
          graph,
          runConfig,
          onSourceError: options.onSourceError,
          onBudgetStatus: onBudgetStatus(alerts),
        })
      : null;
    return {
      config,
      runConfig,
      runGraphs,
      warehouse,
      ledger,
      graph,
      alerts,
      orphanedRuns,
      orphanedRunIds,
      async materialize(request, options = {}) {
        const summary = await executeRun({
          graph,
          ledger,
          warehouse,
          request,
          emitter: options.emitter,
          signal: options.signal,
        });
        // No daemon here (its queue runs runs itself and has its own alert loop): judge the run and
        // make one bounded delivery pass; what fails is retried by a daemon or after the next run.
        if (!summary.deduplicatedBy)
          await evaluateAndDeliverOnce(warehouse, alerts, summary.runId, {
            holdDelivery: config.env.BILLING_TEST_ALERT_HOLD_DELIVERY === '1',
          }).catch((error: unknown) =>
            process.stderr.write(
              `warning: alerts after run ${summary.runId}: ${error instanceof Error ? error.message : String(error)}\n`,
            ),
          );
        return summary;
      },
      scaleOut: config.databaseUrl ? openQueue : null,
      async close() {
        // A queue that failed to open has nothing to close; its error was reported where it was used.
        if (scaleOut) await (await scaleOut.catch(() => null))?.close();
        await runGraphs?.close();
        await source.close();
        await warehouse.close();
      },
    };
  } catch (error) {
    // A listing started early (prefetchListing) has a client to let go of.
    await source.close().catch(() => {});
    await warehouse.close();
    throw error;
  }
}
