import { cursorChangeSql } from '../billing/sql/aggregate-sql.js';

/**
 * Asset and partition state, computed from the ledger (`runs`, `asset_runs`, `materializations`)
 * and the file inventory (`billing_files`). Every query answers with the *current* state: a later
 * success heals an earlier failure. The SQL runs unchanged on DuckDB and PostgreSQL: day ranges
 * are expanded with `date + generate_series(0, n)` in a LATERAL join, which both accept.
 */

/**
 * Which days the asset's partitions are keyed by: `path` for the ingest assets (the day in the
 * file's path), `event` for aggregates (the event's UTC day, whose pending work is in the change log).
 */
export type PartitionBasis = 'path' | 'event';

/** Days on which the asset's upstream has changed since the asset last consumed it. */
const PENDING_DAYS: Record<PartitionBasis | 'none', string> = {
  none: 'SELECT CAST(NULL AS DATE) AS day WHERE false',
  path: 'SELECT DISTINCT partition AS day FROM billing_files WHERE needs_load',
  // An aggregate's cursor is the last change-log id it consumed; newer changes name the days it
  // has yet to rebuild. Files not loaded yet will change their day too.
  event: `SELECT DISTINCT event_date AS day FROM billing_event_changes
      WHERE change_id > coalesce((SELECT max(${cursorChangeSql('cursor')}) FROM asset_cursors WHERE asset = $1), -1)
    UNION SELECT DISTINCT partition FROM billing_files WHERE needs_load`,
};

/** Days whose latest file version could not be read or was rejected whole: a current failure. */
const FILE_FAILURES: Record<'yes' | 'no', string> = {
  yes: "SELECT DISTINCT partition AS day FROM billing_files WHERE status IN ('failed', 'rejected')",
  no: 'SELECT CAST(NULL AS DATE) AS day WHERE false',
};

export interface PartitionSqlOptions {
  basis: PartitionBasis | 'none';
  fileFailures: boolean;
}

/**
 * CTEs ending in `states(day, status, materialized_at)`: one row per known day of a daily asset.
 * $1 = asset name. A run that failed over an explicit range fails the days it did not build; a
 * run in progress marks the days it covers (or, without a range, the days it will pick up) as running.
 */
function statesCte(options: PartitionSqlOptions): string {
  return `WITH
  mat AS (
    SELECT CAST(partition AS DATE) AS day, max(created_at) AS at
    FROM materializations WHERE asset = $1 AND partition IS NOT NULL GROUP BY CAST(partition AS DATE)),
  ranged_failures AS (
    SELECT a.run_id, a.finished_at AS at, r.partition_from + CAST(g.i AS INTEGER) AS day
    FROM asset_runs a JOIN runs r USING (run_id)
      CROSS JOIN LATERAL generate_series(0, r.partition_to - r.partition_from) AS g(i)
    WHERE a.asset = $1 AND a.status = 'failed' AND r.partition_from IS NOT NULL),
  run_failed AS (
    SELECT f.day, max(f.at) AS at FROM ranged_failures f
    WHERE NOT EXISTS (SELECT 1 FROM materializations m
      WHERE m.run_id = f.run_id AND m.asset = $1 AND m.partition = CAST(f.day AS VARCHAR))
    GROUP BY f.day),
  file_failed AS (${FILE_FAILURES[options.fileFailures ? 'yes' : 'no']}),
  pending AS (${PENDING_DAYS[options.basis]}),
  days AS (
    SELECT partition AS day FROM billing_files
    UNION SELECT day FROM mat
    UNION SELECT day FROM pending
    UNION SELECT day FROM run_failed),
  active AS (
    SELECT partition_from, partition_to FROM runs
    WHERE status = 'running' AND CAST($1 AS VARCHAR) = ANY(selection)),
  base AS (
    SELECT d.day,
      CASE
        WHEN d.day IN (SELECT day FROM file_failed) THEN 'failed'
        WHEN rf.at IS NOT NULL AND (m.at IS NULL OR rf.at > m.at) THEN 'failed'
        WHEN m.at IS NULL THEN 'missing'
        WHEN d.day IN (SELECT day FROM pending) THEN 'stale'
        ELSE 'materialized'
      END AS status,
      m.at AS materialized_at
    FROM days d LEFT JOIN mat m USING (day) LEFT JOIN run_failed rf USING (day)
    WHERE d.day IS NOT NULL),
  states AS (
    SELECT b.day,
      CASE WHEN EXISTS (SELECT 1 FROM active a
          WHERE b.day BETWEEN a.partition_from AND a.partition_to
            OR (a.partition_from IS NULL AND b.status <> 'materialized'))
        THEN 'running' ELSE b.status END AS status,
      b.materialized_at
    FROM base b)`;
}

const COUNTS = `count(*) FILTER (WHERE status = 'materialized') AS materialized,
    count(*) FILTER (WHERE status = 'failed') AS failed,
    count(*) FILTER (WHERE status = 'missing') AS missing,
    count(*) FILTER (WHERE status = 'stale') AS stale,
    count(*) FILTER (WHERE status = 'running') AS running`;

/**
 * Every day from the first to the last known one as one string, one code per day (see
 * PARTITION_CODES), plus counts. Built in SQL: 100,000 days come back as one row, not 100,000.
 */
export function partitionStripSql(options: PartitionSqlOptions, codes: Record<string, string>): string {
  const code = Object.entries(codes)
    .filter(([status]) => status !== 'none')
    .map(([status, c]) => `WHEN '${status}' THEN '${c}'`)
    .join(' ');
  return `${statesCte(options)},
  span AS (SELECT min(day) AS first, max(day) AS last FROM states)
  SELECT CAST(span.first AS VARCHAR) AS first, CAST(span.last AS VARCHAR) AS last,
    coalesce(string_agg(coalesce(CASE s.status ${code} END, '${codes.none}'), '' ORDER BY g.day), '') AS states,
    ${COUNTS}
  FROM span
  LEFT JOIN LATERAL (SELECT span.first + CAST(i AS INTEGER) AS day
    FROM generate_series(0, span.last - span.first) AS offsets(i)) g ON true
  LEFT JOIN states s ON s.day = g.day
  GROUP BY span.first, span.last`;
}

/** Counts per state only, for the asset list. */
export function partitionCountsSql(options: PartitionSqlOptions): string {
  return `${statesCte(options)} SELECT ${COUNTS} FROM states`;
}

/** One day's state; $2 = the day. */
export function partitionStateSql(options: PartitionSqlOptions): string {
  return `${statesCte(options)} SELECT status, materialized_at FROM states WHERE day = CAST($2 AS DATE)`;
}

/** Per asset: latest run, last success and last data change. */
export const ASSET_OVERVIEW = `WITH latest AS (
    SELECT asset, run_id, status, changed, row_count, started_at, finished_at, duration_ms, error
    FROM (SELECT a.*,
        row_number() OVER (PARTITION BY a.asset ORDER BY a.started_at DESC, a.finished_at DESC) AS recency
      FROM asset_runs a) ranked
    WHERE recency = 1),
  state AS (
    SELECT asset,
      max(finished_at) FILTER (WHERE status = 'success') AS last_success_at,
      max(finished_at) FILTER (WHERE status = 'success' AND changed) AS last_change_at
    FROM asset_runs GROUP BY asset)
  SELECT s.asset, l.run_id AS latest_run_id, l.status AS latest_status, l.row_count AS latest_row_count,
    l.started_at AS latest_started_at, l.finished_at AS latest_finished_at, l.duration_ms AS latest_duration_ms,
    l.error AS latest_error, s.last_success_at, s.last_change_at
  FROM state s LEFT JOIN latest l USING (asset)`;

/** Runs in progress with the assets they cover. */
export const RUNNING_RUNS = "SELECT run_id, selection FROM runs WHERE status = 'running' ORDER BY created_at";

/** The last materializations of one asset with their run; $1 asset, $2 limit. */
export const MATERIALIZATION_HISTORY = `SELECT a.run_id, a.status, a.changed, a.row_count, a.started_at, a.finished_at,
    a.duration_ms, a.error, a.metadata, r.trigger, r.partition_from, r.partition_to,
    (SELECT count(*) FROM materializations m WHERE m.run_id = a.run_id AND m.asset = a.asset) AS partitions
  FROM asset_runs a JOIN runs r USING (run_id)
  WHERE a.asset = $1
  ORDER BY a.started_at DESC LIMIT $2`;
