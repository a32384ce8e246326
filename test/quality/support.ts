import path from 'node:path';
import { loadQualityConfig } from '../../src/billing/checks/quality-config.js';
import { billingAssetGraph } from '../../src/billing/pipeline.js';
import type { AssetDefinition } from '../../src/orchestrator/asset.js';
import { AssetGraph } from '../../src/orchestrator/asset-graph.js';
import { executeRun, type RunSummary } from '../../src/orchestrator/run-executor.js';
import { createSource } from '../../src/sources/create-source.js';
import type { Row, Warehouse } from '../../src/warehouse/warehouse.js';
import type { TestPipeline } from '../support/pipeline.js';

export interface CheckRow {
  partition: string | null;
  passed: boolean;
  severity: string;
  observed: string | null;
  threshold: string | null;
  message: string | null;
}

const quote = (value: string) => `'${value.replaceAll("'", "''")}'`;

/** The latest result of one check per partition, in partition order. */
export async function latestResults(p: TestPipeline, asset: string, check: string): Promise<CheckRow[]> {
  return (await p.rows(
    `SELECT partition, passed, severity, observed, threshold, message FROM (
       SELECT *, row_number() OVER (PARTITION BY partition ORDER BY result_id DESC) AS latest
       FROM check_results WHERE asset = ${quote(asset)} AND check_name = ${quote(check)}
     ) r WHERE latest = 1
     ORDER BY partition NULLS FIRST`,
  )) as unknown as CheckRow[];
}

/** `{ partition: passed }` of one check's latest results. */
export async function verdicts(
  p: TestPipeline,
  asset: string,
  check: string,
): Promise<Record<string, boolean>> {
  const rows = await latestResults(p, asset, check);
  return Object.fromEntries(rows.map((r) => [r.partition ?? '(asset)', r.passed]));
}

export interface RunOptions {
  /** The clock freshness is judged by. */
  now?: Date;
  /** Runs after an asset materialized (and before its checks): simulates a bug in that asset. */
  after?: Record<string, (warehouse: Warehouse) => Promise<void>>;
  selection?: string[];
}

/**
 * A run of the real billing graph as the runtime would build it from the pipeline's environment,
 * with a fixed clock and optional tampering hooks.
 */
export async function runGraph(
  p: TestPipeline,
  options: RunOptions = {},
): Promise<RunSummary & { events: Row[] }> {
  const runtime = await p.open();
  try {
    const { config } = runtime;
    const real = billingAssetGraph({
      source: createSource(p.source, p.env),
      home: config.home,
      fx: { source: config.fxSource, reportingCurrency: config.reportingCurrency, env: p.env },
      quality: await loadQualityConfig({ file: config.checksConfig, env: p.env }),
      now: options.now ? () => options.now as Date : undefined,
    });
    const graph = new AssetGraph(
      real.assets.map((asset): AssetDefinition => {
        const hook = options.after?.[asset.name];
        if (!hook) return asset;
        return {
          ...asset,
          async materialize(ctx) {
            const result = await asset.materialize(ctx);
            await hook(ctx.warehouse);
            return result;
          },
        };
      }),
    );
    const summary = await executeRun({
      graph,
      ledger: runtime.ledger,
      warehouse: runtime.warehouse,
      request: { trigger: 'test', selection: options.selection },
    });
    const detail = await runtime.ledger.getRun(summary.runId);
    return { ...summary, events: detail?.events ?? [] };
  } finally {
    await runtime.close();
  }
}

/** The run's events, via the ledger, for a summary from `p.materialize()`. */
export async function runEvents(p: TestPipeline, runId: string): Promise<Row[]> {
  const runtime = await p.open();
  try {
    return (await runtime.ledger.getRun(runId))?.events ?? [];
  } finally {
    await runtime.close();
  }
}

export const statusOf = (summary: RunSummary): Record<string, string> =>
  Object.fromEntries(summary.assets.map((a) => [a.asset, a.status]));

export { type CliResult, cli } from '../support/cli.js';

/** What the CLI needs to find the pipeline's warehouse and source. */
export const cliEnv = (p: TestPipeline): Record<string, string> => ({
  ...p.env,
  BILLING_SOURCE: p.source,
  BILLING_HOME: path.join(p.home, 'state'),
});
