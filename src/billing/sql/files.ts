/** Bringing the file inventory up to date with a fresh listing (in temp table `source_listing`). */
export const LISTING_COLUMNS = [
  { name: 'source_key', type: 'VARCHAR' },
  { name: 'partition', type: 'DATE' },
  { name: 'size', type: 'BIGINT' },
  { name: 'version', type: 'VARCHAR' },
  // Why a CSV-looking key is not a billing file (no day, or an impossible one); empty for billing files.
  { name: 'problem', type: 'VARCHAR' },
] as const;

/** Only one listing updates the inventory at a time (two runs may list at once in scale-out mode). */
export const LISTING_LOCK = 'billing-files';

export const CREATE_LISTING = [
  'DROP TABLE IF EXISTS source_listing',
  'CREATE TEMP TABLE source_listing AS SELECT * FROM staged_listing',
];
export const DROP_LISTING = 'DROP TABLE source_listing';

/**
 * What a listed file's row becomes (alias `f` the inventory, `l` the listing, `$1`/`$2` a forced
 * range): a new version, a failed load or a forced partition needs loading. A retracted file stays
 * out until it changes, forced range or not. A key that cannot be a billing file is recorded as
 * rejected with its reason, and never loaded. One definition for the update and the diff below.
 */
const NEXT_NEEDS_LOAD = `l.problem IS NULL AND (f.needs_load
      OR (l.version IS DISTINCT FROM f.loaded_version AND l.version IS DISTINCT FROM f.rejected_version)
      OR (f.status <> 'retracted' AND coalesce(l.partition BETWEEN CAST($1 AS DATE) AND CAST($2 AS DATE), false)))`;
const NEXT_STATUS = `CASE WHEN l.problem IS NOT NULL THEN 'rejected'
      WHEN f.status = 'missing' THEN (CASE WHEN f.loaded_version IS NULL THEN 'pending' ELSE 'loaded' END)
      ELSE f.status END`;
const NEXT_REJECTED_VERSION = 'CASE WHEN l.problem IS NOT NULL THEN l.version ELSE f.rejected_version END';
const NEXT_ERROR = 'CASE WHEN l.problem IS NOT NULL THEN l.problem ELSE f.error END';

/** A known file whose row the listing changes (its `last_seen_at` aside). */
const KNOWN_FILE_CHANGES = `(l.size IS DISTINCT FROM f.size OR l.version IS DISTINCT FROM f.version
    OR (${NEXT_NEEDS_LOAD}) IS DISTINCT FROM f.needs_load
    OR (${NEXT_STATUS}) IS DISTINCT FROM f.status
    OR (${NEXT_REJECTED_VERSION}) IS DISTINCT FROM f.rejected_version
    OR (${NEXT_ERROR}) IS DISTINCT FROM f.error)`;

/**
 * Files seen before whose row the listing changes. Only those are written, `last_seen_at` with
 * them: a listing that changes nothing writes no row (issue 12: a no-op run costs no per-file
 * writes), so `last_seen_at` is the last listing that changed what the inventory knows of the file.
 */
export const UPDATE_KNOWN_FILES = `UPDATE billing_files f SET
    size = l.size,
    version = l.version,
    last_seen_at = utc_now(),
    needs_load = ${NEXT_NEEDS_LOAD},
    status = ${NEXT_STATUS},
    rejected_version = ${NEXT_REJECTED_VERSION},
    error = ${NEXT_ERROR}
  FROM source_listing l WHERE f.source_key = l.source_key AND ${KNOWN_FILE_CHANGES}`;

/**
 * The listing against the inventory, in one set-based query: new keys, known files the listing
 * changes, files gone from the source, and what already waits to be loaded. All zero but `pending`
 * and `missing` means the inventory is up to date and nothing is written.
 */
export const LISTING_DIFF = `SELECT
    (SELECT count(*) FROM source_listing l
      WHERE NOT EXISTS (SELECT 1 FROM billing_files f WHERE f.source_key = l.source_key)) AS new_keys,
    (SELECT count(*) FROM source_listing l
      WHERE l.problem IS NULL AND NOT EXISTS (SELECT 1 FROM billing_files f WHERE f.source_key = l.source_key)) AS new_files,
    (SELECT count(*) FROM source_listing l JOIN billing_files f ON f.source_key = l.source_key
      WHERE ${KNOWN_FILE_CHANGES}) AS changed_files,
    (SELECT count(*) FROM billing_files WHERE status NOT IN ('missing', 'retracting', 'retracted')
      AND source_key NOT IN (SELECT source_key FROM source_listing)) AS gone_files,
    (SELECT count(*) FROM billing_files WHERE needs_load) AS pending_files,
    (SELECT count(*) FROM billing_files WHERE status = 'missing') AS missing_files`;

export const INSERT_NEW_FILES = `INSERT INTO billing_files
    (source_key, partition, size, version, status, needs_load, first_seen_at, last_seen_at, rejected_version, error)
  SELECT l.source_key, l.partition, l.size, l.version,
    CASE WHEN l.problem IS NULL THEN 'pending' ELSE 'rejected' END, l.problem IS NULL, utc_now(), utc_now(),
    CASE WHEN l.problem IS NULL THEN NULL ELSE l.version END, l.problem
  FROM source_listing l WHERE NOT EXISTS (SELECT 1 FROM billing_files f WHERE f.source_key = l.source_key)`;

/**
 * A file gone from the source keeps its loaded events: a listing hiccup must never delete billing
 * data (`retract` removes them deliberately). A retraction asked for or done stays as it is.
 */
export const MARK_MISSING_FILES = `UPDATE billing_files SET status = 'missing', needs_load = false
  WHERE status NOT IN ('missing', 'retracting', 'retracted')
    AND source_key NOT IN (SELECT source_key FROM source_listing)`;

/**
 * A forced range on billing_events alone (without billing_files in the run) still reprocesses those
 * days, from the inventory as last listed: a range means "reprocess", whichever assets are selected.
 */
export const FORCE_RANGE = `UPDATE billing_files SET needs_load = true
  WHERE partition BETWEEN CAST($1 AS DATE) AND CAST($2 AS DATE) AND status NOT IN ('missing', 'retracted')
    AND NOT needs_load`;

export const MISSING_COUNT = "SELECT count(*) AS n FROM billing_files WHERE status = 'missing'";

export const FILES_TO_LOAD = `SELECT source_key, version, CAST(partition AS VARCHAR) AS partition, size,
    loaded_version IS NOT NULL AS replaces, status = 'retracting' AS retract
  FROM billing_files WHERE needs_load ORDER BY source_key`;

/** One file's load state, re-read under its lock: a retried task finds its work already done. */
export const FILE_STATE = `SELECT needs_load, status, loaded_version, rejected_version, row_count, rejected_row_count,
    error, duplicate_of
  FROM billing_files WHERE source_key = $1`;

/** A file that could not be read stays `needs_load` so the next run tries again. */
export const MARK_FILE_FAILED = `UPDATE billing_files SET status = 'failed', error = $2 WHERE source_key = $1`;

/**
 * Files present in the source whose content repeats a file already loaded: skipped copies (status
 * `duplicate`) and, when duplicates load, copies counted twice. A copy deleted from the source
 * (status `missing`) or retracted no longer counts.
 */
export const DUPLICATE_FILES = `SELECT CAST(partition AS VARCHAR) AS partition, source_key, duplicate_of, status
  FROM billing_files WHERE duplicate_of IS NOT NULL AND status IN ('duplicate', 'loaded')
  ORDER BY partition, source_key`;

/**
 * Retraction (`billing-pipeline retract`): the files are marked `retracting` and a run of
 * billing_events and everything downstream removes their events and rejected rows (one transaction
 * per batch, with the change log the aggregates follow). The mark is durable: a crash before the run
 * leaves it for the next run of billing_events.
 */
export const RETRACT_CANDIDATE = `SELECT source_key, status, CAST(partition AS VARCHAR) AS partition, row_count
  FROM billing_files WHERE source_key = $1`;
export const MISSING_FILES = `SELECT source_key, status, CAST(partition AS VARCHAR) AS partition, row_count
  FROM billing_files WHERE status = 'missing' AND partition IS NOT NULL ORDER BY source_key`;
export const MARK_RETRACTING = `UPDATE billing_files SET status = 'retracting', needs_load = true
  WHERE source_key = $1 AND status <> 'retracted' AND partition IS NOT NULL`;
