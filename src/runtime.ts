import { join } from 'node:path';
import { billingAssetGraph } from './billing/pipeline.js';
import { type Config, ConfigError } from './config.js';
import type { AssetGraph } from './orchestrator/asset-graph.js';
import { Ledger } from './orchestrator/ledger.js';
import type { RunEmitter } from './orchestrator/run-events.js';
import { executeRun, type RunRequest, type RunSummary } from './orchestrator/run-executor.js';
import { createSource } from './sources/create-source.js';
import type { Source } from './sources/source.js';
import { openWarehouse } from './warehouse/create-warehouse.js';
import type { Warehouse } from './warehouse/warehouse.js';

/** An open pipeline: warehouse, ledger and asset graph wired from one config. */
export interface Runtime {
  config: Config;
  warehouse: Warehouse;
  ledger: Ledger;
  graph: AssetGraph;
  /** Orphaned runs found (and marked failed) when this runtime opened. */
  orphanedRuns: number;
  materialize(
    request: RunRequest,
    options?: { emitter?: RunEmitter; signal?: AbortSignal },
  ): Promise<RunSummary>;
  close(): Promise<void>;
}

/** A source that only explains itself: for commands that never read files but still build the graph. */
function missingSource(): Source {
  const fail = (): never => {
    throw new ConfigError(
      'no source configured: set BILLING_SOURCE or pass --source (s3://bucket/prefix/ or a folder)',
    );
  };
  return { uri: '(none)', list: fail, open: fail, put: fail, putFile: fail, close: async () => {} };
}

export async function openRuntime(config: Config): Promise<Runtime> {
  const source = config.source ? createSource(config.source, config.env) : missingSource();
  const warehouse = await openWarehouse({
    path: config.warehousePath,
    memoryLimit: config.memoryLimit,
    threads: config.threads,
    tempDirectory: join(config.home, 'tmp', 'duckdb'),
  });
  try {
    const ledger = new Ledger(warehouse);
    await ledger.setup();
    const graph = billingAssetGraph({
      source,
      home: config.home,
      ingestConcurrency: config.ingestConcurrency,
    });
    for (const asset of graph.assets) await asset.setup?.(warehouse);
    // This process holds the only write lock on the file, so any run still "running" is orphaned.
    const orphanedRuns = await ledger.failOrphanedRuns();
    return {
      config,
      warehouse,
      ledger,
      graph,
      orphanedRuns,
      materialize: (request, options = {}) =>
        executeRun({ graph, ledger, warehouse, request, emitter: options.emitter, signal: options.signal }),
      async close() {
        await source.close();
        await warehouse.close();
      },
    };
  } catch (error) {
    await warehouse.close();
    throw error;
  }
}
