import type { AssetGraph } from '../orchestrator/asset-graph.js';
import type { RunRequest } from '../orchestrator/run-executor.js';
import type { Warehouse } from '../warehouse/warehouse.js';
import * as files from './sql/files.js';

/**
 * Retracting files on purpose: a file deleted from the source keeps its events until someone says
 * they should go. The files are marked (durably) and a run of billing_events and everything below
 * it removes their events and rejected rows, one transaction per batch, writing the removed keys to
 * the change log so the aggregates rebuild those groups as after any reload.
 */

export interface RetractCandidate {
  source_key: string;
  status: string;
  partition: string | null;
  row_count: number | null;
}

export class UnknownFileError extends Error {
  override name = 'UnknownFileError';
}

/** The files `keys` names (each must be known), or every missing one. Already retracted ones included. */
export async function retractCandidates(
  warehouse: Warehouse,
  target: { keys: readonly string[] } | { missing: true },
): Promise<RetractCandidate[]> {
  if ('missing' in target) return warehouse.all<RetractCandidate>(files.MISSING_FILES);
  const found: RetractCandidate[] = [];
  for (const key of target.keys) {
    const [file] = await warehouse.all<RetractCandidate>(files.RETRACT_CANDIDATE, [key]);
    if (!file) throw new UnknownFileError(`no file "${key}" in billing_files`);
    found.push(file);
  }
  return found;
}

/** Marks the files `retracting` and returns the run that removes them (trigger `retract`). */
export async function markForRetraction(
  warehouse: Warehouse,
  graph: AssetGraph,
  keys: readonly string[],
): Promise<RunRequest> {
  await warehouse.transaction(async (tx) => {
    await tx.lock(files.LISTING_LOCK);
    for (const key of keys) await tx.exec(files.MARK_RETRACTING, [key]);
  });
  const shown =
    keys.length <= 5 ? keys.join(', ') : `${keys.slice(0, 5).join(', ')} and ${keys.length - 5} more`;
  return {
    // Nothing above billing_events: a retraction lists and reads nothing.
    selection: graph.assets
      .map((a) => a.name)
      .filter((name) => name !== 'billing_files' && name !== 'fx_rates'),
    trigger: 'retract',
    tags: { retract: shown },
  };
}
