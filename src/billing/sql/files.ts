/** Bringing the file inventory up to date with a fresh listing (in temp table `source_listing`). */
export const CREATE_LISTING = `CREATE OR REPLACE TEMP TABLE source_listing (
  source_key VARCHAR, partition DATE, size BIGINT, version VARCHAR)`;

/** Files seen before: refresh what we know; a new version, a failed load or a forced partition needs loading. */
export const UPDATE_KNOWN_FILES = `UPDATE billing_files f SET
    size = l.size,
    version = l.version,
    last_seen_at = now(),
    needs_load = f.needs_load
      OR (l.version IS DISTINCT FROM f.loaded_version AND l.version IS DISTINCT FROM f.rejected_version)
      OR coalesce(l.partition BETWEEN CAST($1 AS DATE) AND CAST($2 AS DATE), false),
    status = CASE WHEN f.status = 'missing' THEN (CASE WHEN f.loaded_version IS NULL THEN 'pending' ELSE 'loaded' END)
      ELSE f.status END
  FROM source_listing l WHERE f.source_key = l.source_key`;

export const INSERT_NEW_FILES = `INSERT INTO billing_files
    (source_key, partition, size, version, status, needs_load, first_seen_at, last_seen_at)
  SELECT l.source_key, l.partition, l.size, l.version, 'pending', true, now(), now()
  FROM source_listing l ANTI JOIN billing_files f ON f.source_key = l.source_key`;

/** A file gone from the source keeps its loaded events: a listing hiccup must never delete billing data. */
export const MARK_MISSING_FILES = `UPDATE billing_files SET status = 'missing', needs_load = false
  WHERE status <> 'missing' AND source_key NOT IN (SELECT source_key FROM source_listing)`;

export const FILES_TO_LOAD = `SELECT source_key, version, CAST(partition AS VARCHAR) AS partition, size,
    loaded_version IS NOT NULL AS replaces
  FROM billing_files WHERE needs_load ORDER BY source_key`;

export const MARK_FILE_LOADED = `UPDATE billing_files SET status = 'loaded', needs_load = false,
    loaded_version = $2, loaded_at = now(), loaded_run_id = $3, row_count = $4, rejected_row_count = $5,
    rejected_version = NULL, error = NULL
  WHERE source_key = $1`;

export const MARK_FILE_REJECTED = `UPDATE billing_files SET status = 'rejected', needs_load = false,
    rejected_version = $2, error = $3
  WHERE source_key = $1`;

/** A file that could not be read stays `needs_load` so the next run tries again. */
export const MARK_FILE_FAILED = `UPDATE billing_files SET status = 'failed', error = $2 WHERE source_key = $1`;

export const INSERT_REJECTED_FILE = `INSERT INTO rejected_files (source_key, source_version, reason, run_id, rejected_at)
  VALUES ($1, $2, $3, $4, now())`;
