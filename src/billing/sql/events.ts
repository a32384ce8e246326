import { dayRateJoin, dayRates, normalizedAmount } from '../fx/fx-sql.js';
import { CHANGE_KEY_COLUMNS } from './tables.js';

const CHANGE_KEYS = CHANGE_KEY_COLUMNS.map((c) => c.name).join(', ');

/**
 * Loading a batch of files: every statement runs in one transaction, in this order. Temp table
 * `ingest_batch` lists the batch's files; views `staged_events` / `staged_rejects` read the
 * normalized CSVs the parser wrote, each line tagged with its file's `file_index`.
 */

export const CREATE_BATCH = `CREATE OR REPLACE TEMP TABLE ingest_batch (
  file_index INTEGER, source_key VARCHAR, version VARCHAR, kind VARCHAR, reason VARCHAR,
  year INTEGER, month INTEGER, day INTEGER, row_count BIGINT, rejected_row_count BIGINT)`;

export const INSERT_BATCH_FILES = 'INSERT INTO ingest_batch';
export const BATCH_FILE_VALUES = '($1, $2, $3, $4, $5, $6, $7, $8, $9, $10)';

export const NEXT_CHANGE_ID = "SELECT nextval('billing_change_seq') AS id";

/** Whether a file of the batch was loaded before, i.e. may have events and rejected rows to replace. */
export const BATCH_REPLACES = `SELECT bool_or(f.loaded_version IS NOT NULL) AS replaces
  FROM billing_files f JOIN ingest_batch b USING (source_key) WHERE b.kind = 'loaded'`;

/** Keys of the rows about to be replaced (a corrected file may drop days, users or regions). */
export const RECORD_OLD_KEYS = `INSERT INTO billing_event_changes
  SELECT DISTINCT $1, ${CHANGE_KEYS}
  FROM billing_events WHERE source_key IN (SELECT source_key FROM ingest_batch WHERE kind = 'loaded')`;

export const DELETE_BATCH_EVENTS = `DELETE FROM billing_events
  WHERE source_key IN (SELECT source_key FROM ingest_batch WHERE kind = 'loaded')`;

export const DELETE_BATCH_REJECTED_ROWS = `DELETE FROM rejected_rows
  WHERE source_key IN (SELECT source_key FROM ingest_batch WHERE kind = 'loaded')`;

export const DELETE_BATCH_FILE_REJECTIONS = `DELETE FROM rejected_files
  WHERE source_key IN (SELECT source_key FROM ingest_batch WHERE kind = 'loaded')`;

/**
 * DuckDB estimates a few dozen rows for any read_csv, so it may build the FX hash join on the staged
 * events instead of the handful of rates: memory then grows with the file and a 2 GB file runs out
 * of it. With the build/probe swap switched off for the insert, the rates side (written on the
 * right) is the one held in memory, whatever the file size.
 */
export const KEEP_JOIN_SIDES = "SET disabled_optimizers = 'build_side_probe_side'";
export const RESTORE_JOIN_SIDES = 'RESET disabled_optimizers';

/** `$1`: the reporting currency; amounts are normalized with the rates loaded now (see fx-sql.ts). */
export const INSERT_EVENTS = `INSERT INTO billing_events
  ("timestamp", resource_id, user_id, credit_usage, region, service_tier, operation_type, success,
   resource_type, invoice_id, currency, year, month, day, event_date, source_key, source_line,
   normalized_credit_usage)
  WITH ${dayRates('rates', 'staged_events')}
  SELECT r."timestamp", r.resource_id, r.user_id, r.credit_usage, r.region, r.service_tier, r.operation_type,
    r.success, r.resource_type, r.invoice_id, r.currency, b.year, b.month, b.day, r.event_date,
    b.source_key, r.source_line, ${normalizedAmount('r', 'fx', '$1')}
  FROM staged_events r JOIN ingest_batch b USING (file_index) ${dayRateJoin('r', 'fx', 'rates')}`;

/** Keys of the rows just loaded. Read back from the staged files, not by scanning all events. */
export const RECORD_NEW_KEYS = `INSERT INTO billing_event_changes
  SELECT DISTINCT $1, ${CHANGE_KEYS}
  FROM staged_events`;

export const INSERT_REJECTED_ROWS = `INSERT INTO rejected_rows
  (source_key, source_version, line_number, reason, raw, run_id, rejected_at)
  SELECT b.source_key, b.version, r.line_number, r.reason, r.raw, $1, utc_now()
  FROM staged_rejects r JOIN ingest_batch b USING (file_index)`;

export const MARK_BATCH_LOADED = `UPDATE billing_files f SET status = 'loaded', needs_load = false,
    loaded_version = b.version, loaded_at = utc_now(), loaded_run_id = $1,
    row_count = b.row_count, rejected_row_count = b.rejected_row_count, rejected_version = NULL, error = NULL
  FROM ingest_batch b WHERE f.source_key = b.source_key AND b.kind = 'loaded'`;

/** A rejected file keeps any rows an earlier, valid version loaded: bad input never deletes good data. */
export const RECORD_BATCH_REJECTIONS = `INSERT INTO rejected_files (source_key, source_version, reason, run_id, rejected_at)
  SELECT source_key, version, reason, $1, utc_now() FROM ingest_batch WHERE kind = 'rejected'`;

export const MARK_BATCH_REJECTED = `UPDATE billing_files f SET status = 'rejected', needs_load = false,
    rejected_version = b.version, error = b.reason
  FROM ingest_batch b WHERE f.source_key = b.source_key AND b.kind = 'rejected'`;

export const DROP_BATCH = [
  'DROP TABLE ingest_batch',
  'DROP VIEW IF EXISTS staged_events',
  'DROP VIEW IF EXISTS staged_rejects',
];

/** Change-log rows every consumer has read are no longer needed. */
export const PRUNE_CHANGES = 'DELETE FROM billing_event_changes WHERE change_id <= $1';
