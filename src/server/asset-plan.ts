import { type DayRange, dayCount } from '../orchestrator/days.js';
import type { RunRequest } from '../orchestrator/run-executor.js';
import type { Runtime } from '../runtime.js';
import type { MaterializePlan, MaterializeScope } from './asset-schemas.js';
import { type AssetSummary, assetSummaries } from './asset-state.js';
import { HttpError } from './http-error.js';

/**
 * The asset selection behind each "materialize" button, computed by the server so that the
 * confirmation the UI shows and the run it launches are the same list.
 */
export interface PlanInput {
  scope: MaterializeScope;
  asset?: string;
  range: DayRange | null;
}

export interface Plan {
  plan: MaterializePlan;
  /** The run to submit (without its trigger); its selection is `plan.assets` in dependency order. */
  request: Omit<RunRequest, 'trigger'>;
}

const pending = (s: AssetSummary | undefined) =>
  s?.partitions ? s.partitions.stale + s.partitions.missing : 0;

export async function planMaterialization(runtime: Runtime, input: PlanInput): Promise<Plan> {
  const { graph } = runtime;
  const summaries = new Map((await assetSummaries(runtime)).map((s) => [s.name, s]));
  const reasons = new Map<string, string>();
  const start = input.scope === 'stale' || input.scope === 'all' ? null : startAsset(runtime, input.asset);

  if (input.scope === 'stale') {
    const stale = graph.assets.filter((a) => summaries.get(a.name)?.freshness !== 'fresh').map((a) => a.name);
    for (const name of stale)
      reasons.set(name, summaries.get(name)?.freshness === 'never' ? 'never materialized' : 'stale');
    // What is below a rebuilt asset goes stale once it changes, so it is rebuilt in the same run.
    for (const name of graph.withDownstream(stale)) {
      if (!reasons.has(name)) reasons.set(name, `downstream of ${firstUpstreamIn(runtime, name, reasons)}`);
    }
  } else if (input.scope === 'all') {
    for (const a of graph.assets) reasons.set(a.name, 'all assets');
  } else if (start) {
    // A rebuilt day is only handed to an asset by its upstream (billing_events reloads the files
    // billing_files marks), so a range also runs what the asset reads; without a range the
    // asset works from whatever is new upstream.
    if (input.scope === 'upstream' || (input.range && input.scope === 'downstream'))
      for (const up of graph.reachable(start, 'up')) reasons.set(up, `upstream of ${start}`);
    reasons.set(start, 'selected');
    if (input.scope === 'downstream')
      for (const down of graph.reachable(start, 'down')) reasons.set(down, `downstream of ${start}`);
  }

  const selection = graph.assets.filter((a) => reasons.has(a.name));
  const assets = selection.map((a) => ({
    name: a.name,
    reason: reasons.get(a.name) ?? '',
    partitioning: a.partitioning,
    partitions:
      a.partitioning === 'daily'
        ? input.range
          ? dayCount(input.range)
          : pending(summaries.get(a.name))
        : null,
  }));
  const total = assets.reduce((n, a) => n + (a.partitions ?? 1), 0);
  const plan: MaterializePlan = {
    scope: input.scope,
    summary: describe(input, assets.length, total),
    range: input.range,
    assets,
    total_partitions: total,
  };
  return { plan, request: { selection: selection.map((a) => a.name), range: input.range } };
}

function startAsset(runtime: Runtime, name: string | undefined): string {
  if (!name) throw new HttpError(400, 'invalid_request', 'this scope needs "asset"');
  if (!runtime.graph.has(name)) throw new HttpError(404, 'unknown_asset', `unknown asset "${name}"`);
  return name;
}

function firstUpstreamIn(runtime: Runtime, name: string, chosen: Map<string, string>): string {
  return runtime.graph.reachable(name, 'up').find((up) => chosen.has(up)) ?? 'a stale asset';
}

function describe(input: PlanInput, assets: number, partitions: number): string {
  const days = input.range
    ? input.range.from === input.range.to
      ? `day ${input.range.from}`
      : `days ${input.range.from} … ${input.range.to}`
    : 'new and changed data';
  if (assets === 0) return 'Nothing to run: no asset is stale.';
  const what = {
    only: `${input.asset} alone`,
    stale: 'the stale assets and everything downstream of them',
    downstream: `${input.asset} and everything downstream of it`,
    upstream: `${input.asset} and the assets it reads from`,
    all: "all assets, as the CLI's backfill does",
  }[input.scope];
  return `Runs ${assets} asset(s), ${partitions} asset-partition(s): ${what}, over ${days}.`;
}
