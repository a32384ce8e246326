/**
 * Asset check results, stored beside the ledger. Every evaluation is kept (history); the current
 * state of a check on a partition is its latest row.
 */
/** Each result ranked within its (asset, partition, check): 1 is the latest. */
const ranked = (where: string) => `SELECT *,
      row_number() OVER (PARTITION BY asset, partition, check_name ORDER BY result_id DESC) AS recency
    FROM check_results WHERE ${where}`;

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
  /*
   * The (asset, partition, check) keys whose latest result failed: what every run asks before each
   * asset, kept by `record` in the results' own transaction so the question does not rank all of
   * history (issue 12). A warehouse from before this table gets it filled from its results, once.
   */
  `CREATE TABLE IF NOT EXISTS check_failures AS
    SELECT asset, partition, check_name, result_id FROM (${ranked('TRUE')}) r
    WHERE recency = 1 AND NOT passed`,
];

/** PostgreSQL only: the latest-result queries rank each check's results on a partition. */
export const CHECK_POSTGRES_INDEXES = [
  'CREATE INDEX IF NOT EXISTS check_results_latest ON check_results (asset, check_name, partition, result_id)',
];

export const INSERT_CHECK_RESULTS = `INSERT INTO check_results
  (asset, partition, check_name, severity, passed, observed, threshold, message, run_id, evaluated_at)`;
export const CHECK_RESULT_VALUES = '($1, $2, $3, $4, $5, $6, $7, $8, $9, utc_now())';
/** What `record` needs back from its insert to keep check_failures. */
export const RETURNING_RESULT_KEYS = 'RETURNING result_id, asset, partition, check_name, passed';

/** Serializes `record` across processes (PostgreSQL): check_failures is read, then rewritten. */
export const CHECK_RESULTS_LOCK = 'check-results';

/**
 * Every failing key: few rows (only what fails now). A run reads them once and then again inside
 * each write of check results, under CHECK_RESULTS_LOCK, so it knows the table after each commit.
 */
export const ALL_FAILURES = 'SELECT asset, partition, check_name FROM check_failures';

/** The head of a DELETE of the given keys' failures; rows are CHECK_FAILURE_KEY tuples. */
export const DELETE_CHECK_FAILURES_HEAD = `DELETE FROM check_failures f USING (VALUES`;
export const CHECK_FAILURE_KEY = '(CAST($1 AS VARCHAR), CAST($2 AS VARCHAR), CAST($3 AS VARCHAR))';
export const DELETE_CHECK_FAILURES_TAIL = `) AS k(asset, partition, check_name)
  WHERE f.asset = k.asset AND f.check_name = k.check_name AND f.partition IS NOT DISTINCT FROM k.partition`;

/**
 * The head of an UPDATE pointing still-failing keys at their new result; rows are
 * CHECK_FAILURE_ROW tuples. A key failing again keeps its row: one statement, not a DELETE and an INSERT.
 */
export const UPDATE_CHECK_FAILURES_HEAD = `UPDATE check_failures f SET result_id = k.result_id FROM (VALUES`;
export const CHECK_FAILURE_ROW =
  '(CAST($1 AS VARCHAR), CAST($2 AS VARCHAR), CAST($3 AS VARCHAR), CAST($4 AS BIGINT))';
export const UPDATE_CHECK_FAILURES_TAIL = `) AS k(asset, partition, check_name, result_id)
  WHERE f.asset = k.asset AND f.check_name = k.check_name AND f.partition IS NOT DISTINCT FROM k.partition`;

export const INSERT_CHECK_FAILURES = 'INSERT INTO check_failures (asset, partition, check_name, result_id)';
export const CHECK_FAILURE_VALUES = '($1, $2, $3, CAST($4 AS BIGINT))';

const RESULT_COLUMNS = `asset, partition, check_name, severity, passed, observed, threshold, message, run_id,
    evaluated_at`;

/** `$1` asset or NULL, `$2` partition or NULL; PostgreSQL cannot type a bare `$1 IS NULL`. */
const FILTER = `(CAST($1 AS VARCHAR) IS NULL OR asset = CAST($1 AS VARCHAR))
    AND (CAST($2 AS VARCHAR) IS NULL OR partition = CAST($2 AS VARCHAR))`;

/** The latest result of each check on each partition. `$1`: asset or NULL; `$2`: partition or NULL. */
export const LATEST_CHECK_RESULTS = `SELECT ${RESULT_COLUMNS}
  FROM (${ranked(FILTER)}) results
  WHERE recency = 1
  ORDER BY asset, partition NULLS FIRST, check_name`;

/** Every evaluation, newest first. `$1`/`$2` as above; `$3`: limit. */
export const CHECK_RESULT_HISTORY = `SELECT ${RESULT_COLUMNS}
  FROM check_results
  WHERE ${FILTER}
  ORDER BY result_id DESC LIMIT $3`;

/**
 * Current failures of the given checks (`$1`: comma-separated `asset/check` pairs). Only checks
 * still defined with that severity count, so disabling or downgrading a check releases its partitions.
 */
export const CURRENT_FAILURES = `SELECT asset, partition, check_name FROM check_failures
  WHERE asset || '/' || check_name = ANY(string_to_array(CAST($1 AS VARCHAR), ','))`;
