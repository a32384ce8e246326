import type { AssetDefinition } from './asset.js';
import type { AssetGraph } from './asset-graph.js';
import type { CheckRunner } from './check-runner.js';
import type { Ledger } from './ledger.js';
import type { AssetRunStatus } from './run-status.js';

/**
 * The no-op fast path (issue 12): in a run where an asset's inputs changed nothing, the asset is
 * skipped as up to date instead of materialized, and recorded with the reason. What it needs from
 * the ledger is read once per run, so a no-op run costs a few queries whatever the history.
 */
export interface FastPathState {
  /** Assets no unclean run has followed since their last success (see CLEAN_ASSETS). */
  clean: ReadonlySet<string>;
  /** Assets with a check failing now: a failing check is evaluated again on every run. */
  failing: ReadonlySet<string>;
  /** Assets with a failing `error` check that withholds data downstream. */
  withholding: ReadonlySet<string>;
}

/** Null when the run forces work (a range or a full refresh): then nothing is skipped. */
export async function readFastPathState(options: {
  ledger: Ledger;
  checks: CheckRunner;
  graph: AssetGraph;
  runId: string;
  forced: boolean;
}): Promise<FastPathState | null> {
  if (options.forced) return null;
  const { graph } = options;
  const clean = await options.ledger.cleanAssets(options.runId);
  const pairs = graph.assets.flatMap((a) => (a.checks ?? []).map((c) => ({ asset: a.name, check: c.name })));
  const failures = await options.checks.currentFailures(pairs);
  const withholds = (asset: string, check: string) =>
    graph
      .get(asset)
      .checks?.some((c) => c.name === check && c.severity === 'error' && c.withholds !== false) ?? false;
  return {
    clean,
    failing: new Set(failures.map((f) => f.asset)),
    withholding: new Set(failures.filter((f) => withholds(f.asset, f.check_name)).map((f) => f.asset)),
  };
}

/**
 * Why `asset` can be skipped as up to date, or null if it must run: every input ran in this run
 * and changed nothing, none holds data back (a failing `error` check, before or in this run),
 * nothing upstream changed since its last success (which no unclean run followed), and no check
 * of its own is failing. Assets without inputs (the source listings) always run: they are how a
 * run finds out that something changed.
 */
export function upToDateReason(
  asset: AssetDefinition,
  state: FastPathState | null,
  run: {
    outcome: (dep: string) => { status: AssetRunStatus; changed: boolean | null } | undefined;
    withheldInRun: ReadonlySet<string>;
    upstreamChanged: boolean;
  },
): string | null {
  if (!state || asset.deps.length === 0 || !state.clean.has(asset.name)) return null;
  if (state.failing.has(asset.name) || run.upstreamChanged) return null;
  for (const dep of asset.deps) {
    const outcome = run.outcome(dep);
    if (outcome?.status !== 'success' || outcome.changed !== false) return null;
    if (run.withheldInRun.has(dep) || state.withholding.has(dep)) return null;
  }
  return `up to date: ${asset.deps.join(', ')} changed nothing in this run and nothing upstream changed since the last success`;
}
