import type { SqlDialect } from '../../warehouse/dialect.js';
import { dayRateJoin, dayRates, normalizedAmount } from '../fx/fx-sql.js';
import { CHANGE_KEY_COLUMNS } from './tables.js';

const CHANGE_KEYS = CHANGE_KEY_COLUMNS.map((c) => c.name).join(', ');

/**
 * Locks of the ingest (PostgreSQL advisory locks; no-ops in DuckDB's single writer), always taken
 * in this order within a transaction:
 * - `file:<source_key>` (exclusive): one load of a file at a time; the loser re-reads its state.
 * - `events-rewrite` (shared by file loads, exclusive by FX re-normalization, which rewrites rows
 *   of any file): no row-lock deadlock between the two.
 * - `change-log` (shared by every writer of billing_event_changes, from before it takes a change
 *   id until it commits; exclusive, briefly, by a consumer reading the head): once a consumer holds
 *   it, every id up to the head is committed, so a cursor never skips a change still in flight.
 *   Loads take it last, just before commit, so a consumer never waits behind a whole file's load.
 */
export const fileLock = (sourceKey: string): string => `file:${sourceKey}`;
export const EVENTS_REWRITE_LOCK = 'events-rewrite';
/** `content:<sha256>` (exclusive, after the file locks, sorted): two copies loading at once see each other. */
export const contentLock = (hash: string): string => `content:${hash}`;
export const CHANGE_LOG_LOCK = 'change-log';

/**
 * Loading a batch of files: every statement runs in one transaction, in this order. Temp table
 * `ingest_batch` lists the batch's files; staged relations `staged_events` / `staged_rejects` hold
 * the normalized CSVs the parser wrote, each line tagged with its file's `file_index`.
 */

/** Created inside the load's transaction, so a failed load's rollback takes it away too. */
export const CREATE_BATCH = [
  `CREATE TEMP TABLE ingest_batch (
  file_index INTEGER, source_key VARCHAR, version VARCHAR, kind VARCHAR, reason VARCHAR,
  year INTEGER, month INTEGER, day INTEGER, row_count BIGINT, rejected_row_count BIGINT,
  content_hash VARCHAR, duplicate_of VARCHAR)`,
];

/** Kinds of batch files whose earlier events and rejected rows go: a new version, or a retraction. */
const REPLACING = "('loaded', 'retracted')";

export const INSERT_BATCH_FILES = 'INSERT INTO ingest_batch';
export const BATCH_FILE_VALUES = '($1, $2, $3, $4, $5, $6, $7, $8, $9, $10, $11, $12)';

/**
 * For each of `count` files (`source_key`, `content_hash`, `size` as `$1, $2, $3`, `$4, $5, $6`, …),
 * the file already loaded with that content under another key, or NULL (`i`: the file's place in the
 * list): the first loaded wins. One probe for the whole batch, not one per file. A file without data
 * rows has nothing to double, so it is never an original.
 */
export const loadedCopies = (count: number): string => {
  const rows = Array.from(
    { length: count },
    (_, i) =>
      `(${i}, CAST($${3 * i + 1} AS VARCHAR), CAST($${3 * i + 2} AS VARCHAR), CAST($${3 * i + 3} AS BIGINT))`,
  );
  return `SELECT c.i, (SELECT f.source_key FROM billing_files f
    WHERE f.content_hash = c.content_hash AND f.size = c.size AND f.source_key <> c.source_key
      AND f.loaded_version IS NOT NULL AND f.status NOT IN ('retracting', 'retracted')
      AND coalesce(f.row_count, 0) + coalesce(f.rejected_row_count, 0) > 0
    ORDER BY f.loaded_at, f.source_key LIMIT 1) AS original
  FROM (VALUES ${rows.join(', ')}) AS c (i, source_key, content_hash, size)`;
};

export const NEXT_CHANGE_ID = "SELECT nextval('billing_change_seq') AS id";

/**
 * Whether a file of the batch was loaded before, i.e. may have events and rejected rows to replace,
 * and whether one has a `rejected_files` row to clear: one query, and usually no write after it.
 */
export const BATCH_REPLACES = `SELECT (SELECT bool_or(f.loaded_version IS NOT NULL)
    FROM billing_files f JOIN ingest_batch b USING (source_key) WHERE b.kind IN ${REPLACING}) AS replaces,
  EXISTS (SELECT 1 FROM rejected_files r JOIN ingest_batch b USING (source_key) WHERE b.kind <> 'failed') AS rejections`;

/**
 * Keys of the rows about to be replaced (a corrected file may drop days, users or regions), kept
 * aside until the change id is taken at the end of the transaction.
 */
export const COLLECT_OLD_KEYS = [
  'DROP TABLE IF EXISTS ingest_old_keys',
  `CREATE TEMP TABLE ingest_old_keys AS SELECT DISTINCT ${CHANGE_KEYS}
  FROM billing_events WHERE source_key IN (SELECT source_key FROM ingest_batch WHERE kind IN ${REPLACING})`,
];

export const RECORD_OLD_KEYS = `INSERT INTO billing_event_changes
  SELECT CAST($1 AS BIGINT), ${CHANGE_KEYS} FROM ingest_old_keys`;

export const DELETE_BATCH_EVENTS = `DELETE FROM billing_events
  WHERE source_key IN (SELECT source_key FROM ingest_batch WHERE kind IN ${REPLACING})`;

export const DELETE_BATCH_REJECTED_ROWS = `DELETE FROM rejected_rows
  WHERE source_key IN (SELECT source_key FROM ingest_batch WHERE kind IN ${REPLACING})`;

/**
 * `rejected_files` is current state, like `rejected_rows`: one row per file whose current version is
 * rejected. A load clears it; a (re)rejection replaces it. Earlier rejections live in the runs' event logs.
 */
export const DELETE_BATCH_FILE_REJECTIONS = `DELETE FROM rejected_files
  WHERE source_key IN (SELECT source_key FROM ingest_batch WHERE kind <> 'failed')`;

/**
 * `$1`: the reporting currency; amounts are normalized with the rates loaded now (see fx-sql.ts).
 * The staged events are written on the left: see `SqlDialect.withLargeJoin`.
 */
export const insertEvents = (dialect: SqlDialect): string => `INSERT INTO billing_events
  ("timestamp", resource_id, user_id, credit_usage, region, service_tier, operation_type, success,
   resource_type, invoice_id, currency, year, month, day, event_date, source_key, source_line,
   normalized_credit_usage)
  WITH ${dayRates('rates', 'staged_events', dialect)}
  SELECT r."timestamp", r.resource_id, r.user_id, r.credit_usage, r.region, r.service_tier, r.operation_type,
    r.success, r.resource_type, r.invoice_id, r.currency, b.year, b.month, b.day, r.event_date,
    b.source_key, r.source_line, ${normalizedAmount('r', 'fx', '$1', dialect)}
  FROM staged_events r JOIN ingest_batch b USING (file_index) ${dayRateJoin('r', 'fx', 'rates')}`;

/** Keys of the rows just loaded. Read back from the staged files, not by scanning all events. */
export const RECORD_NEW_KEYS = `INSERT INTO billing_event_changes
  SELECT DISTINCT CAST($1 AS BIGINT), ${CHANGE_KEYS}
  FROM staged_events`;

export const INSERT_REJECTED_ROWS = `INSERT INTO rejected_rows
  (source_key, source_version, line_number, reason, raw, run_id, rejected_at)
  SELECT b.source_key, b.version, r.line_number, r.reason, r.raw, $1, utc_now()
  FROM staged_rejects r JOIN ingest_batch b USING (file_index)`;

export const MARK_BATCH_LOADED = `UPDATE billing_files f SET status = 'loaded', needs_load = false,
    loaded_version = b.version, loaded_at = utc_now(), loaded_run_id = $1,
    row_count = b.row_count, rejected_row_count = b.rejected_row_count, rejected_version = NULL, error = NULL,
    content_hash = b.content_hash, duplicate_of = b.duplicate_of
  FROM ingest_batch b WHERE f.source_key = b.source_key AND b.kind = 'loaded'`;

/** A rejected file keeps any rows an earlier, valid version loaded: bad input never deletes good data. */
export const RECORD_BATCH_REJECTIONS = `INSERT INTO rejected_files (source_key, source_version, reason, run_id, rejected_at)
  SELECT source_key, version, reason, $1, utc_now() FROM ingest_batch WHERE kind IN ('rejected', 'duplicate')`;

/** Rejected, or a copy of a loaded file (status `duplicate`, `duplicate_of` naming it). */
export const MARK_BATCH_REJECTED = `UPDATE billing_files f SET status = b.kind, needs_load = false,
    rejected_version = b.version, error = b.reason, content_hash = b.content_hash, duplicate_of = b.duplicate_of
  FROM ingest_batch b WHERE f.source_key = b.source_key AND b.kind IN ('rejected', 'duplicate')`;

/**
 * A retracted file has no events or rejected rows left; the version it had stays out (as a rejected
 * one would) until the file changes. `$1`: the run.
 */
export const MARK_BATCH_RETRACTED = `UPDATE billing_files f SET status = 'retracted', needs_load = false,
    rejected_version = f.version, loaded_version = NULL, loaded_at = NULL, loaded_run_id = NULL,
    row_count = NULL, rejected_row_count = NULL, duplicate_of = NULL, error = 'retracted by run ' || $1
  FROM ingest_batch b WHERE f.source_key = b.source_key AND b.kind = 'retracted'`;

export const DROP_BATCH = 'DROP TABLE ingest_batch';
export const DROP_OLD_KEYS = 'DROP TABLE IF EXISTS ingest_old_keys';

/** Change-log rows every consumer has read are no longer needed. */
export const PRUNE_CHANGES = 'DELETE FROM billing_event_changes WHERE change_id <= $1';
