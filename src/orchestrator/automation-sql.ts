/**
 * Tables of the automation layer (sensors, schedules, their ticks, backfills), kept in the
 * warehouse beside the run ledger so a tick, its cursor and the runs it requested are one record.
 * Instants from the automation clock are epoch milliseconds (so tests can fake time), bound as
 * timestamp text. The SQL runs unchanged on DuckDB and PostgreSQL.
 */
import { splitList } from './ledger-sql.js';

export const AUTOMATION_SCHEMA = [
  `CREATE TABLE IF NOT EXISTS automation_state (
    name VARCHAR NOT NULL,
    kind VARCHAR NOT NULL,
    enabled BOOLEAN NOT NULL,
    cursor VARCHAR,
    updated_at TIMESTAMP NOT NULL
  )`,
  'CREATE SEQUENCE IF NOT EXISTS automation_tick_ids',
  `CREATE TABLE IF NOT EXISTS automation_ticks (
    tick_id BIGINT NOT NULL,
    name VARCHAR NOT NULL,
    kind VARCHAR NOT NULL,
    started_at TIMESTAMP NOT NULL,
    finished_at TIMESTAMP,
    outcome VARCHAR NOT NULL,
    skip_reason VARCHAR,
    cursor_before VARCHAR,
    cursor_after VARCHAR,
    run_ids VARCHAR[] NOT NULL,
    error VARCHAR
  )`,
  `CREATE TABLE IF NOT EXISTS sensor_files (
    sensor VARCHAR NOT NULL,
    source_key VARCHAR NOT NULL,
    version VARCHAR NOT NULL,
    partition VARCHAR NOT NULL
  )`,
  `CREATE TABLE IF NOT EXISTS backfills (
    backfill_id VARCHAR NOT NULL,
    partition_from DATE NOT NULL,
    partition_to DATE NOT NULL,
    selection VARCHAR[] NOT NULL,
    created_at TIMESTAMP NOT NULL,
    canceled_at TIMESTAMP
  )`,
  `CREATE TABLE IF NOT EXISTS backfill_partitions (
    backfill_id VARCHAR NOT NULL,
    partition DATE NOT NULL,
    run_id VARCHAR NOT NULL,
    attempt INTEGER NOT NULL
  )`,
];

/**
 * PostgreSQL only (several processes share it): one state row per instigator, whoever inserts it
 * first; the rest serve lookups. DuckDB keeps the ledger's no-index rule.
 */
export const AUTOMATION_POSTGRES_INDEXES = [
  'CREATE UNIQUE INDEX IF NOT EXISTS automation_state_name ON automation_state (name)',
  'CREATE INDEX IF NOT EXISTS automation_ticks_name ON automation_ticks (name, tick_id)',
  'CREATE INDEX IF NOT EXISTS sensor_files_sensor ON sensor_files (sensor, source_key)',
  'CREATE INDEX IF NOT EXISTS backfill_partitions_backfill ON backfill_partitions (backfill_id, partition)',
];

/** Appended to INSERT_STATE on PostgreSQL: a concurrent insert of the same name is not an error. */
export const ON_CONFLICT_DO_NOTHING = ' ON CONFLICT DO NOTHING';

export const ALL_STATE = 'SELECT name, kind, enabled, cursor FROM automation_state ORDER BY name';

export const UPDATE_ENABLED = `UPDATE automation_state SET enabled = $2,
    cursor = CASE WHEN CAST($3 AS BOOLEAN) THEN NULL ELSE cursor END,
    updated_at = utc_now() WHERE name = $1`;
export const INSERT_STATE = `INSERT INTO automation_state (name, kind, enabled, cursor, updated_at)
  SELECT CAST($1 AS VARCHAR), CAST($2 AS VARCHAR), CAST($3 AS BOOLEAN), NULL, utc_now()
  WHERE NOT EXISTS (SELECT 1 FROM automation_state WHERE name = CAST($1 AS VARCHAR))`;
export const UPDATE_CURSOR =
  'UPDATE automation_state SET cursor = $2, updated_at = utc_now() WHERE name = $1';

export const INSERT_TICK = `INSERT INTO automation_ticks
    (tick_id, name, kind, started_at, finished_at, outcome, skip_reason, cursor_before, cursor_after, run_ids, error)
  VALUES (nextval('automation_tick_ids'), $1, $2, CAST($3 AS TIMESTAMP), CAST($4 AS TIMESTAMP), $5, $6, $7, $8,
    ${splitList('$9')}, $10)
  RETURNING tick_id`;

const TICK_COLUMNS = `tick_id, started_at, finished_at, outcome, skip_reason, cursor_before, cursor_after, run_ids, error`;

export const LIST_TICKS = `SELECT ${TICK_COLUMNS} FROM automation_ticks WHERE name = $1
  ORDER BY tick_id DESC LIMIT $2`;

export const LAST_TICKS = `SELECT name, ${TICK_COLUMNS}
  FROM (SELECT t.*, row_number() OVER (PARTITION BY name ORDER BY tick_id DESC) AS latest
    FROM automation_ticks t) ranked
  WHERE latest = 1`;

/** Skipped ticks count: the instigator looked and found nothing to do, which is success. */
export const LAST_SUCCESSFUL_TICKS = `SELECT name, max(started_at) AS started_at FROM automation_ticks
  WHERE outcome <> 'failed' GROUP BY name`;

/**
 * A 1 s sensor writes 86,400 ticks a day. Skipped ticks beyond the newest `$2` of an instigator
 * are dropped; ticks that requested runs or failed are kept as history.
 */
export const PRUNE_TICKS = `DELETE FROM automation_ticks WHERE name = $1 AND outcome = 'skipped'
  AND tick_id < (SELECT coalesce(min(tick_id), 0) FROM
    (SELECT tick_id FROM automation_ticks WHERE name = $1 ORDER BY tick_id DESC LIMIT $2) newest)`;

export const SENSOR_FILES = 'SELECT source_key, version, partition FROM sensor_files WHERE sensor = $1';
export const INSERT_SENSOR_FILES = 'INSERT INTO sensor_files (sensor, source_key, version, partition)';
export const SENSOR_FILE_VALUES = '($1, $2, $3, $4)';
/** `{keys}` is replaced by a list of placeholders from `$2`. */
export const DELETE_SENSOR_FILES = 'DELETE FROM sensor_files WHERE sensor = $1 AND source_key IN ({keys})';
export const CLEAR_SENSOR_FILES = 'DELETE FROM sensor_files WHERE sensor = $1';

export const INSERT_BACKFILL = `INSERT INTO backfills (backfill_id, partition_from, partition_to, selection, created_at)
  VALUES ($1, CAST($2 AS DATE), CAST($3 AS DATE), ${splitList('$4')}, utc_now())`;
export const INSERT_BACKFILL_PARTITIONS =
  'INSERT INTO backfill_partitions (backfill_id, partition, run_id, attempt)';
export const BACKFILL_PARTITION_VALUES = '($1, CAST($2 AS DATE), $3, $4)';
/**
 * A resumed run becomes the partition's newest attempt. The attempt number is per partition, not
 * an id: only the process that resumed the partition's run appends to it.
 */
export const APPEND_BACKFILL_ATTEMPT = `INSERT INTO backfill_partitions (backfill_id, partition, run_id, attempt)
  SELECT CAST($1 AS VARCHAR), CAST($2 AS DATE), CAST($3 AS VARCHAR), coalesce(max(attempt), 0) + 1
  FROM backfill_partitions WHERE backfill_id = CAST($1 AS VARCHAR) AND partition = CAST($2 AS DATE)`;
export const CANCEL_BACKFILL =
  'UPDATE backfills SET canceled_at = coalesce(canceled_at, utc_now()) WHERE backfill_id = $1';

/** Each partition's latest attempt and the status of its run. */
const LATEST_PARTITIONS = `SELECT backfill_id, partition, run_id, attempt, status, finished_at
  FROM (SELECT p.backfill_id, CAST(p.partition AS VARCHAR) AS partition, p.run_id, p.attempt, r.status,
      r.finished_at,
      row_number() OVER (PARTITION BY p.backfill_id, p.partition ORDER BY p.attempt DESC) AS latest
    FROM backfill_partitions p JOIN runs r USING (run_id)) ranked
  WHERE latest = 1`;

export const BACKFILL_PARTITIONS = `SELECT partition, status, run_id, attempt FROM (${LATEST_PARTITIONS}) latest_partitions
  WHERE backfill_id = $1 ORDER BY partition`;

export const BACKFILL_SUMMARIES = `WITH latest AS (${LATEST_PARTITIONS})
  SELECT b.backfill_id, CAST(b.partition_from AS VARCHAR) AS partition_from,
    CAST(b.partition_to AS VARCHAR) AS partition_to, b.selection, b.created_at, b.canceled_at,
    count(l.status) AS partitions_total,
    count(*) FILTER (WHERE l.status = 'queued') AS queued,
    count(*) FILTER (WHERE l.status = 'running') AS running,
    count(*) FILTER (WHERE l.status = 'success') AS success,
    count(*) FILTER (WHERE l.status = 'failed') AS failed,
    count(*) FILTER (WHERE l.status = 'canceled') AS canceled,
    max(l.finished_at) AS last_finished_at
  FROM backfills b LEFT JOIN latest l USING (backfill_id)
  WHERE CAST($1 AS VARCHAR) IS NULL OR b.backfill_id = CAST($1 AS VARCHAR)
  GROUP BY b.backfill_id, b.partition_from, b.partition_to, b.selection, b.created_at, b.canceled_at
  ORDER BY b.created_at DESC, b.backfill_id DESC LIMIT $2`;
