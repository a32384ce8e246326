/**
 * Asset check results, stored beside the ledger. Every evaluation is kept (history); the current
 * state of a check on a partition is its latest row.
 */
export const CHECK_SCHEMA = [
  'CREATE SEQUENCE IF NOT EXISTS check_result_seq START 1',
  `CREATE TABLE IF NOT EXISTS check_results (
    result_id BIGINT NOT NULL DEFAULT nextval('check_result_seq'),
    asset VARCHAR NOT NULL,
    partition VARCHAR,
    check_name VARCHAR NOT NULL,
    severity VARCHAR NOT NULL,
    passed BOOLEAN NOT NULL,
    observed VARCHAR,
    threshold VARCHAR,
    message VARCHAR,
    run_id VARCHAR NOT NULL,
    evaluated_at TIMESTAMP NOT NULL
  )`,
];

export const INSERT_CHECK_RESULTS = `INSERT INTO check_results
  (asset, partition, check_name, severity, passed, observed, threshold, message, run_id, evaluated_at)`;
export const CHECK_RESULT_VALUES = '($1, $2, $3, $4, $5, $6, $7, $8, $9, utc_now())';

const RESULT_COLUMNS = `asset, partition, check_name, severity, passed, observed, threshold, message, run_id,
    evaluated_at`;

/** The latest result of each check on each partition. `$1`: asset or NULL; `$2`: partition or NULL. */
export const LATEST_CHECK_RESULTS = `SELECT ${RESULT_COLUMNS}
  FROM check_results
  WHERE ($1 IS NULL OR asset = $1) AND ($2 IS NULL OR partition = $2)
  QUALIFY row_number() OVER (PARTITION BY asset, partition, check_name ORDER BY result_id DESC) = 1
  ORDER BY asset, partition NULLS FIRST, check_name`;

/** Every evaluation, newest first. `$1`/`$2` as above; `$3`: limit. */
export const CHECK_RESULT_HISTORY = `SELECT ${RESULT_COLUMNS}
  FROM check_results
  WHERE ($1 IS NULL OR asset = $1) AND ($2 IS NULL OR partition = $2)
  ORDER BY result_id DESC LIMIT $3`;

/**
 * Current failures of the given checks (`$1`: comma-separated `asset/check` pairs). Only checks
 * still defined with that severity count, so disabling or downgrading a check releases its partitions.
 */
export const CURRENT_FAILURES = `SELECT asset, partition, check_name
  FROM check_results
  WHERE list_contains(string_split($1, ','), asset || '/' || check_name)
  QUALIFY row_number() OVER (PARTITION BY asset, partition, check_name ORDER BY result_id DESC) = 1
    AND NOT passed`;
