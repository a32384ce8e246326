import type { AssetDefinition } from '../orchestrator/asset.js';
import type { Runtime } from '../runtime.js';
import type { Cell } from '../warehouse/warehouse.js';
import {
  ASSET_OVERVIEW,
  type PartitionSqlOptions,
  partitionCountsSql,
  partitionStateSql,
  partitionStripSql,
  RUNNING_RUNS,
} from './asset-status-sql.js';

export type PartitionStatus = 'materialized' | 'failed' | 'missing' | 'stale' | 'running';
export type Freshness = 'fresh' | 'stale' | 'never';

/** One character per day keeps 100,000 partitions in a 100 kB string instead of megabytes of JSON. */
export const PARTITION_CODES: Record<PartitionStatus | 'none', string> = {
  materialized: 'm',
  failed: 'f',
  missing: 'x',
  stale: 's',
  running: 'r',
  none: '.',
};

export type PartitionCounts = Record<PartitionStatus, number>;

export interface PartitionStrip {
  first: string | null;
  last: string | null;
  /** One code per day from `first` to `last`. */
  states: string;
  counts: PartitionCounts;
}

export interface AssetSummary {
  name: string;
  description: string;
  group: string | null;
  partitioning: AssetDefinition['partitioning'];
  deps: string[];
  downstream: string[];
  /** The latest asset run: `success`, `failed`, `skipped`; `running` while a run works on it; null if never run. */
  status: 'success' | 'failed' | 'skipped' | 'running' | null;
  freshness: Freshness;
  latest_run_id: string | null;
  latest_finished_at: string | null;
  latest_duration_ms: number | null;
  latest_row_count: number | null;
  latest_error: string | null;
  last_success_at: string | null;
  last_change_at: string | null;
  partitions: PartitionCounts | null;
}

function sqlOptions(asset: AssetDefinition): PartitionSqlOptions {
  // The inventory is rebuilt from every listing, so it has no upstream to fall behind.
  if (asset.name === 'billing_files') return { basis: 'none', fileFailures: false };
  if (asset.name === 'billing_events') return { basis: 'path', fileFailures: true };
  return { basis: 'event', fileFailures: false };
}

const EMPTY_COUNTS: PartitionCounts = { materialized: 0, failed: 0, missing: 0, stale: 0, running: 0 };

const toCounts = (row: Record<string, unknown> | undefined): PartitionCounts => ({
  materialized: Number(row?.materialized ?? 0),
  failed: Number(row?.failed ?? 0),
  missing: Number(row?.missing ?? 0),
  stale: Number(row?.stale ?? 0),
  running: Number(row?.running ?? 0),
});

/** Every day of a daily asset from its first to its last known day, encoded one character per day. */
export async function partitionStrip(runtime: Runtime, asset: AssetDefinition): Promise<PartitionStrip> {
  const [row] = await runtime.warehouse.all<Record<string, string | number | null>>(
    partitionStripSql(sqlOptions(asset), PARTITION_CODES),
    [asset.name],
  );
  if (!row || row.first === null) return { first: null, last: null, states: '', counts: { ...EMPTY_COUNTS } };
  return {
    first: String(row.first),
    last: String(row.last),
    states: String(row.states),
    counts: toCounts(row),
  };
}

export async function partitionCounts(runtime: Runtime, asset: AssetDefinition): Promise<PartitionCounts> {
  const [row] = await runtime.warehouse.all(partitionCountsSql(sqlOptions(asset)), [asset.name]);
  return toCounts(row);
}

export async function partitionState(
  runtime: Runtime,
  asset: AssetDefinition,
  day: string,
): Promise<{ status: PartitionStatus; materialized_at: string | null } | null> {
  const [row] = await runtime.warehouse.all<{ status: PartitionStatus; materialized_at: string | null }>(
    partitionStateSql(sqlOptions(asset)),
    [asset.name, day],
  );
  return row ?? null;
}

interface OverviewRow {
  asset: string;
  latest_run_id: string | null;
  latest_status: 'success' | 'failed' | 'skipped' | null;
  latest_row_count: number | null;
  latest_finished_at: string | null;
  latest_duration_ms: number | null;
  latest_error: string | null;
  last_success_at: string | null;
  last_change_at: string | null;
}

const text = (cell: Cell | undefined): string | null =>
  cell === null || cell === undefined ? null : String(cell);

/**
 * Every asset with its latest status and freshness. An asset is stale when an upstream changed
 * data after its last success, or (daily assets) when some of its days are stale or missing.
 */
export async function assetSummaries(runtime: Runtime, only?: string): Promise<AssetSummary[]> {
  const overview = new Map(
    (await runtime.warehouse.all<OverviewRow>(ASSET_OVERVIEW)).map((r) => [r.asset, r]),
  );
  const running = await runtime.warehouse.all<{ run_id: string; selection: string[] }>(RUNNING_RUNS);
  const summaries: AssetSummary[] = [];
  for (const asset of runtime.graph.assets) {
    if (only !== undefined && asset.name !== only) continue;
    const row = overview.get(asset.name);
    const runningRunId = running.find((r) => r.selection.includes(asset.name))?.run_id ?? null;
    const counts = asset.partitioning === 'daily' ? await partitionCounts(runtime, asset) : null;
    const lastSuccess = text(row?.last_success_at);
    const upstreamChanged = asset.deps.some((dep) => {
      const theirs = text(overview.get(dep)?.last_change_at);
      return theirs !== null && lastSuccess !== null && theirs > lastSuccess;
    });
    const behind = counts !== null && counts.stale + counts.missing > 0;
    summaries.push({
      name: asset.name,
      description: asset.description,
      group: asset.group ?? null,
      partitioning: asset.partitioning,
      deps: [...asset.deps],
      downstream: runtime.graph.downstreamOf(asset.name),
      status: runningRunId ? 'running' : (row?.latest_status ?? null),
      freshness: lastSuccess === null ? 'never' : upstreamChanged || behind ? 'stale' : 'fresh',
      latest_run_id: runningRunId ?? row?.latest_run_id ?? null,
      latest_finished_at: text(row?.latest_finished_at),
      latest_duration_ms: row?.latest_duration_ms ?? null,
      latest_row_count: row?.latest_row_count ?? null,
      latest_error: row?.latest_error ?? null,
      last_success_at: lastSuccess,
      last_change_at: text(row?.last_change_at),
      partitions: counts,
    });
  }
  return summaries;
}
