import type { Partitioning } from '../../orchestrator/asset.js';

/**
 * An aggregate over `billing_events`, recomputed incrementally: only the groups whose keys appear
 * in the change log (or in a forced day range) are deleted and rebuilt from the events, or, for an
 * aggregate with a `merge` plan, merged from the changed days' partials (see merge-sql.ts).
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
  /**
   * SELECT expressions after the keys over `billing_events` (aliased `e`), in `columns` order: the
   * definition of the table's content. Aggregates without `merge` are rebuilt with it; with `merge`
   * it is the full recompute the merged result must equal (and the raw benchmark's reference).
   */
  measures: string;
  /**
   * For whole-history aggregates (no event day among the keys): how to maintain the table from
   * per-day partials, so a new day costs that day's events rather than every affected key's history.
   */
  merge?: MergePlan;
}

/**
 * One per-(event day, key) partial column. `sum` parts add across days (counts and NOT NULL sums:
 * a removed day's partial is subtracted); `min`/`max` parts merge with least/greatest and are
 * recomputed from the per-day partials for the keys whose extreme a removal may have taken away.
 */
export interface MergePart {
  name: string;
  type: string;
  /** Aggregate expression over `billing_events` (aliased `e`); for `sum`, never NULL. */
  expr: string;
  merge: 'sum' | 'min' | 'max';
}

export interface MergePlan {
  /** Must include a `sum` part named `event_count` (`count(*)`): a key whose count reaches 0 goes. */
  parts: readonly MergePart[];
  /**
   * Exact distinct counts: `name` is the count's column in the totals state, `expr` the counted
   * value over `e` (NULLs are not counted, as in count(DISTINCT …)).
   */
  distinct: readonly { name: string; expr: string }[];
  /** The table's columns after the keys, in `columns` order, as SQL over the totals state row `t`. */
  finish: string;
}
