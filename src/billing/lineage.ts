import type { AssetGraph } from '../orchestrator/asset-graph.js';
import { parseDay } from '../orchestrator/days.js';
import type { Ledger } from '../orchestrator/ledger.js';
import type { Row, Warehouse } from '../warehouse/warehouse.js';
import * as sql from './sql/lineage.js';

export interface AssetLineage {
  asset: string;
  /** The assets this one reads directly. */
  inputs: string[];
  /** The assets that read this one directly. */
  outputs: string[];
  /** Everything upstream, transitively. */
  upstream: string[];
  /** Everything downstream, transitively. */
  downstream: string[];
}

export interface PartitionLineage extends AssetLineage {
  partition: string;
  /** The runs that materialized this asset partition, newest first. */
  materializations: Row[];
  /** The source files behind the partition, with the run that loaded each. */
  files: Row[];
  /** Sample events of the day with their source key and line. */
  rows: Row[];
}

export function assetLineage(graph: AssetGraph, asset: string): AssetLineage {
  return {
    asset,
    inputs: [...graph.get(asset).deps],
    outputs: graph.downstreamOf(asset),
    upstream: graph.reachable(asset, 'up'),
    downstream: graph.reachable(asset, 'down'),
  };
}

/**
 * "Where did this number come from?" for one day: the runs that built the partition, the files
 * behind it, and (on request) the source lines of its events.
 */
export async function partitionLineage(
  deps: { graph: AssetGraph; ledger: Ledger; warehouse: Warehouse },
  asset: string,
  day: string,
  sampleRows = 0,
): Promise<PartitionLineage> {
  const partition = parseDay(day, '--partition');
  const base = assetLineage(deps.graph, asset);
  const partitioned = deps.graph.get(asset).partitioning === 'daily';
  const materializations = await deps.ledger.partitionMaterializations(asset, partitioned ? partition : null);
  // billing_files/billing_events are partitioned by the path's day; everything downstream by the event's UTC day.
  const byPath = asset === 'billing_files' || asset === 'billing_events';
  const files = await deps.warehouse.all(byPath ? sql.FILES_IN_PARTITION : sql.FILES_BEHIND_EVENT_DAY, [
    partition,
  ]);
  const rows =
    sampleRows > 0 ? await deps.warehouse.all(sql.SAMPLE_EVENTS_OF_DAY, [partition, sampleRows]) : [];
  return { ...base, partition, materializations, files, rows };
}
