import type { Partitioning } from '../../orchestrator/asset.js';

/**
 * An aggregate over `billing_events`, recomputed incrementally: only the groups whose keys appear
 * in the change log (or in a forced day range) are deleted and rebuilt from the events.
 *
 * Adding an aggregation is one new file exporting one of these, listed in `aggregates/index.ts`.
 */
export interface AggregateDefinition {
  name: string;
  description: string;
  /**
   * The group keys: `column` is one of CHANGE_KEY_COLUMNS (the change log records those), `as`
   * its name in this table.
   */
  keys: readonly { column: string; as: string; type: string }[];
  /** `daily` when the single key is the event day, so the ledger records one partition per day. */
  partitioning: Partitioning;
  /** Column definitions after the keys, for CREATE TABLE. */
  columns: string;
  /** SELECT expressions after the keys over `billing_events` (aliased `e`), in `columns` order. */
  measures: string;
}
