/**
 * The ledger's SQL runs unchanged on DuckDB and PostgreSQL (see docs/scale-out.md): no QUALIFY,
 * string_split, list_contains or date_diff; parameters whose type PostgreSQL cannot infer are cast.
 */

/** `param` (a comma-separated list) as VARCHAR[]; '' is the empty list in both dialects. */
export const splitList = (param: string, separator = "','"): string =>
  `CASE WHEN CAST(${param} AS VARCHAR) = '' THEN ARRAY[]::VARCHAR[] ELSE string_to_array(CAST(${param} AS VARCHAR), ${separator}) END`;

/**
 * Whole milliseconds from `from` to `to`, as BIGINT in both dialects. Counted in microseconds first
 * so DuckDB's DOUBLE epoch is rounded to an exact integer before dividing.
 */
export const durationMs = (from: string, to: string): string =>
  `CAST(floor(CAST(EXTRACT(EPOCH FROM (${to} - ${from})) * 1000000 AS BIGINT) / 1000) AS BIGINT)`;

/** A JS instant (epoch milliseconds) as the naive UTC text `CAST(… AS TIMESTAMP)` reads in both dialects. */
export const timestampParam = (ms: number): string =>
  new Date(ms).toISOString().replace('T', ' ').slice(0, 23);

/**
 * The run ledger's tables. They live in the warehouse itself so a materialization and its record
 * commit together. No indexes in DuckDB: it scans these small tables faster than it maintains them.
 */
export const LEDGER_SCHEMA = [
  `CREATE TABLE IF NOT EXISTS runs (
    run_id VARCHAR NOT NULL,
    status VARCHAR NOT NULL,
    trigger VARCHAR NOT NULL,
    selection VARCHAR[] NOT NULL,
    partition_from DATE,
    partition_to DATE,
    full_refresh BOOLEAN NOT NULL DEFAULT false,
    run_key VARCHAR,
    created_at TIMESTAMP NOT NULL,
    started_at TIMESTAMP,
    finished_at TIMESTAMP,
    error VARCHAR,
    tags VARCHAR,
    config VARCHAR
  )`,
  // Ledgers made before runs recorded their configuration (a JSON object, secrets redacted).
  'ALTER TABLE runs ADD COLUMN IF NOT EXISTS config VARCHAR',
  `CREATE TABLE IF NOT EXISTS asset_runs (
    run_id VARCHAR NOT NULL,
    asset VARCHAR NOT NULL,
    status VARCHAR NOT NULL,
    changed BOOLEAN NOT NULL DEFAULT false,
    row_count BIGINT,
    started_at TIMESTAMP NOT NULL,
    finished_at TIMESTAMP,
    duration_ms BIGINT,
    error VARCHAR,
    metadata VARCHAR
  )`,
  `CREATE TABLE IF NOT EXISTS materializations (
    run_id VARCHAR NOT NULL,
    asset VARCHAR NOT NULL,
    partition VARCHAR,
    status VARCHAR NOT NULL,
    row_count BIGINT,
    inputs VARCHAR[],
    duration_ms BIGINT,
    metadata VARCHAR,
    created_at TIMESTAMP NOT NULL
  )`,
  `CREATE TABLE IF NOT EXISTS run_events (
    run_id VARCHAR NOT NULL,
    seq INTEGER NOT NULL,
    logged_at TIMESTAMP NOT NULL,
    level VARCHAR NOT NULL,
    type VARCHAR NOT NULL,
    asset VARCHAR,
    message VARCHAR NOT NULL,
    data VARCHAR
  )`,
  `CREATE TABLE IF NOT EXISTS asset_cursors (
    asset VARCHAR NOT NULL,
    cursor VARCHAR NOT NULL,
    updated_at TIMESTAMP NOT NULL
  )`,
];

/**
 * PostgreSQL only: several processes share the ledger there. The unique run key is what makes two
 * processes submitting one key create one run; the rest serve the lookups by id, run and asset.
 * NULL run keys never conflict.
 */
export const LEDGER_POSTGRES_INDEXES = [
  'CREATE UNIQUE INDEX IF NOT EXISTS runs_run_id ON runs (run_id)',
  'CREATE UNIQUE INDEX IF NOT EXISTS runs_run_key ON runs (run_key)',
  'CREATE INDEX IF NOT EXISTS runs_status ON runs (status)',
  'CREATE INDEX IF NOT EXISTS asset_runs_run ON asset_runs (run_id)',
  'CREATE INDEX IF NOT EXISTS asset_runs_asset ON asset_runs (asset, started_at)',
  'CREATE INDEX IF NOT EXISTS materializations_asset ON materializations (asset, partition)',
  'CREATE INDEX IF NOT EXISTS run_events_run ON run_events (run_id, seq)',
  'CREATE UNIQUE INDEX IF NOT EXISTS asset_cursors_asset ON asset_cursors (asset)',
];

/**
 * A new run unless its run key is taken: returns the run id, or no row when another run has the key.
 * On PostgreSQL the caller appends ON CONFLICT DO NOTHING, so a concurrent insert of the same key
 * (which NOT EXISTS cannot see) is also no row rather than an error.
 */
export const INSERT_RUN = `INSERT INTO runs
  (run_id, status, trigger, selection, partition_from, partition_to, full_refresh, run_key, created_at, started_at, tags,
    config)
  SELECT $1, CAST($2 AS VARCHAR), $3, ${splitList('$4')}, CAST($5 AS DATE), CAST($6 AS DATE), CAST($7 AS BOOLEAN),
    CAST($8 AS VARCHAR), utc_now(), CASE WHEN CAST($2 AS VARCHAR) = 'running' THEN utc_now() END, CAST($9 AS VARCHAR),
    CAST($10 AS VARCHAR)
  WHERE CAST($8 AS VARCHAR) IS NULL OR NOT EXISTS (SELECT 1 FROM runs WHERE run_key = CAST($8 AS VARCHAR))`;
export const RETURNING_RUN_ID = ' RETURNING run_id';
export const ON_CONFLICT_DO_NOTHING = ' ON CONFLICT DO NOTHING';

export const START_RUN = `UPDATE runs SET status = 'running', started_at = utc_now() WHERE run_id = $1`;

export const FINISH_RUN = `UPDATE runs SET status = $2, finished_at = utc_now(), error = $3 WHERE run_id = $1`;

/** A run still marked running was orphaned by a process that died; nothing can finish it now. */
export const FAIL_ORPHANED_RUNS = `UPDATE runs SET status = 'failed', finished_at = utc_now(),
  error = 'the process running it stopped before it finished (orphaned run)'
  WHERE status IN ('queued', 'running') RETURNING run_id`;

export const INSERT_ASSET_RUNS = `INSERT INTO asset_runs
  (run_id, asset, status, changed, row_count, started_at, finished_at, duration_ms, error, metadata)`;
export const ASSET_RUN_VALUES = '($1, $2, $3, $4, $5, CAST($6 AS TIMESTAMP), utc_now(), $7, $8, $9)';

export const INSERT_MATERIALIZATIONS = `INSERT INTO materializations
  (run_id, asset, partition, status, row_count, inputs, duration_ms, metadata, created_at)`;
export const MATERIALIZATION_VALUES =
  '($1, $2, $3, $4, $5, CASE WHEN CAST($6 AS VARCHAR) IS NULL THEN NULL ELSE string_to_array(CAST($6 AS VARCHAR), chr(10)) END, $7, $8, utc_now())';

export const INSERT_EVENTS =
  'INSERT INTO run_events (run_id, seq, logged_at, level, type, asset, message, data)';
export const EVENT_VALUES = '($1, $2, CAST($3 AS TIMESTAMP), $4, $5, $6, $7, $8)';

export const GET_CURSOR = 'SELECT cursor FROM asset_cursors WHERE asset = $1';
export const DELETE_CURSOR = 'DELETE FROM asset_cursors WHERE asset = $1';
export const INSERT_CURSOR =
  'INSERT INTO asset_cursors (asset, cursor, updated_at) VALUES ($1, $2, utc_now())';

/**
 * Per asset: when it last succeeded and when it last changed data. An asset is stale when an
 * upstream changed after it last succeeded.
 */
export const ASSET_STATE = `SELECT asset,
    max(finished_at) FILTER (WHERE status = 'success') AS last_success_at,
    max(finished_at) FILTER (WHERE status = 'success' AND changed) AS last_change_at
  FROM asset_runs GROUP BY asset`;

/**
 * Assets no unclean run has followed since the run of their last success started: no other run is
 * `running`, and none that failed or was canceled (an orphan included, or that run itself) started
 * at or after it. Only these may skip a run in which nothing upstream changed: a run that died
 * between committing data and recording it left nothing in the ledger to say so, and the assets
 * after it must look at their inputs again. Run start times are the database's clock alone.
 */
export const CLEAN_ASSETS = `SELECT s.asset
  FROM (SELECT a.asset, max(r.started_at) AS run_started FROM asset_runs a JOIN runs r ON r.run_id = a.run_id
    WHERE a.status = 'success' GROUP BY a.asset) s
  WHERE NOT EXISTS (SELECT 1 FROM runs r WHERE r.run_id <> $1
    AND (r.status = 'running' OR (r.status IN ('failed', 'canceled') AND r.started_at >= s.run_started)))`;

export const LATEST_ASSET_RUNS = `SELECT asset, run_id, status, changed, row_count, started_at, finished_at,
    duration_ms, error
  FROM (SELECT a.*, row_number() OVER (PARTITION BY a.asset ORDER BY a.started_at DESC) AS latest
    FROM asset_runs a) ranked
  WHERE latest = 1`;

export const LIST_RUNS = `SELECT run_id, status, trigger, selection, partition_from, partition_to, run_key,
    created_at, started_at, finished_at,
    ${durationMs('started_at', 'coalesce(finished_at, utc_now())')} AS duration_ms, error
  FROM runs ORDER BY created_at DESC, run_id DESC LIMIT $1`;

export const GET_RUN = `SELECT run_id, status, trigger, selection, partition_from, partition_to, full_refresh, run_key,
    created_at, started_at, finished_at,
    ${durationMs('started_at', 'coalesce(finished_at, utc_now())')} AS duration_ms, error, tags, config
  FROM runs WHERE run_id = $1`;

export const RUN_BY_KEY =
  'SELECT run_id, status FROM runs WHERE run_key = $1 ORDER BY created_at DESC LIMIT 1';

export const RUN_ASSETS = `SELECT asset, status, changed, row_count, started_at, finished_at, duration_ms, error, metadata
  FROM asset_runs WHERE run_id = $1 ORDER BY started_at`;

export const NEXT_EVENT_SEQ = 'SELECT coalesce(max(seq) + 1, 0) AS n FROM run_events WHERE run_id = $1';

export const RUN_EVENTS = `SELECT seq, logged_at, level, type, asset, message, data
  FROM run_events WHERE run_id = $1 ORDER BY seq`;

export const PARTITION_MATERIALIZATIONS = `SELECT m.run_id, m.status, m.row_count, m.inputs, m.duration_ms, m.metadata,
    m.created_at, r.trigger
  FROM materializations m JOIN runs r USING (run_id)
  WHERE m.asset = $1 AND m.partition IS NOT DISTINCT FROM $2
  ORDER BY m.created_at DESC`;

/** Only runs marked `running` are orphans: `queued` ones are the daemon's persistent queue. */
export const FAIL_ORPHANED_RUNNING = `UPDATE runs SET status = 'failed', finished_at = utc_now(),
  error = 'the process running it stopped before it finished (orphaned run)'
  WHERE status = 'running' RETURNING run_id, created_at`;

/** Bulk queueing (backfills): `$10` offsets created_at by microseconds so queue order survives a restart. */
export const INSERT_QUEUED_RUNS = `INSERT INTO runs
  (run_id, status, trigger, selection, partition_from, partition_to, full_refresh, run_key, created_at, tags, config)`;
export const QUEUED_RUN_VALUES = `($1, 'queued', $2, ${splitList('$3')}, CAST($4 AS DATE), CAST($5 AS DATE), $6, $7,
    utc_now() + CAST($10 AS BIGINT) * INTERVAL '1 microsecond', $8, CAST($9 AS VARCHAR))`;

/** What a queue needs to start a persisted run again. */
export const QUEUED_RUNS = `SELECT run_id, trigger, selection, CAST(partition_from AS VARCHAR) AS partition_from,
    CAST(partition_to AS VARCHAR) AS partition_to, full_refresh, run_key, tags, config
  FROM runs WHERE status = 'queued' ORDER BY created_at, run_id`;

export const RUN_REQUEST = `SELECT run_id, status, trigger, selection, CAST(partition_from AS VARCHAR) AS partition_from,
    CAST(partition_to AS VARCHAR) AS partition_to, full_refresh, run_key, tags, config
  FROM runs WHERE run_id = $1`;

export const CANCEL_QUEUED_RUN = `UPDATE runs SET status = 'canceled', finished_at = utc_now(), error = $2
  WHERE run_id = $1 AND status = 'queued' RETURNING run_id`;

/** Newest first, optionally one status, keyset-paged by the last run of the previous page. */
export const LIST_RUNS_PAGE = `SELECT run_id, status, trigger, selection, partition_from, partition_to, run_key,
    created_at, started_at, finished_at,
    ${durationMs('started_at', 'coalesce(finished_at, utc_now())')} AS duration_ms, error
  FROM runs
  WHERE (CAST($1 AS VARCHAR) IS NULL OR status = CAST($1 AS VARCHAR))
    AND (CAST($2 AS VARCHAR) IS NULL OR EXISTS (SELECT 1 FROM runs page_end WHERE page_end.run_id = CAST($2 AS VARCHAR)
      AND (runs.created_at < page_end.created_at
        OR (runs.created_at = page_end.created_at AND runs.run_id < page_end.run_id))))
  ORDER BY created_at DESC, run_id DESC LIMIT $3`;
