/**
 * The alert tables and the named queries of the evaluation side. The SQL runs unchanged on DuckDB
 * and PostgreSQL (see src/orchestrator/ledger-sql.ts for the portable subset). Instants are bound
 * as naive UTC timestamp text (`timestampParam`) so tests can fix `now`.
 *
 * Delivery (src/alerts/deliver*.ts, helper A2) claims and updates `alert_outbox` and appends to
 * `alert_deliveries`; evaluation only inserts outbox rows with status 'pending'.
 */

export const ALERT_SCHEMA = [
  `CREATE TABLE IF NOT EXISTS alerts (
    alert_id VARCHAR NOT NULL PRIMARY KEY,
    dedupe_key VARCHAR NOT NULL,
    rule VARCHAR NOT NULL,
    scope VARCHAR NOT NULL,
    period VARCHAR NOT NULL,
    threshold VARCHAR,
    severity VARCHAR NOT NULL,
    state VARCHAR NOT NULL,
    summary VARCHAR NOT NULL,
    details VARCHAR NOT NULL,
    opened_at TIMESTAMP NOT NULL,
    resolved_at TIMESTAMP,
    opened_run_id VARCHAR,
    resolved_run_id VARCHAR
  )`,
  `CREATE TABLE IF NOT EXISTS alert_outbox (
    event_id VARCHAR NOT NULL PRIMARY KEY,
    alert_id VARCHAR,
    kind VARCHAR NOT NULL,
    channel VARCHAR NOT NULL,
    payload VARCHAR NOT NULL,
    status VARCHAR NOT NULL,
    attempts INTEGER NOT NULL DEFAULT 0,
    next_attempt_at TIMESTAMP NOT NULL,
    claimed_until TIMESTAMP,
    created_at TIMESTAMP NOT NULL,
    delivered_at TIMESTAMP,
    last_error VARCHAR
  )`,
  `CREATE TABLE IF NOT EXISTS alert_deliveries (
    event_id VARCHAR NOT NULL,
    alert_id VARCHAR,
    channel VARCHAR NOT NULL,
    attempt INTEGER NOT NULL,
    attempted_at TIMESTAMP NOT NULL,
    status VARCHAR NOT NULL,
    http_status INTEGER,
    error VARCHAR,
    duration_ms INTEGER,
    next_attempt_at TIMESTAMP
  )`,
  `CREATE TABLE IF NOT EXISTS alert_rule_overrides (
    rule VARCHAR NOT NULL PRIMARY KEY,
    enabled BOOLEAN NOT NULL,
    updated_at TIMESTAMP NOT NULL
  )`,
];

/**
 * PostgreSQL only: several processes evaluate and deliver. "At most one open alert per dedupe key"
 * is enforced by the `alerts` lock in evaluateAlerts (a partial unique index is not portable to
 * DuckDB); these serve the lookups.
 */
export const ALERT_POSTGRES_INDEXES = [
  'CREATE INDEX IF NOT EXISTS alerts_state ON alerts (state, dedupe_key)',
  'CREATE INDEX IF NOT EXISTS alert_outbox_due ON alert_outbox (status, next_attempt_at)',
  'CREATE INDEX IF NOT EXISTS alert_outbox_alert ON alert_outbox (alert_id)',
  'CREATE INDEX IF NOT EXISTS alert_deliveries_event ON alert_deliveries (event_id, attempt)',
];

/** Which of the given tables exist (`$1`: comma-separated names), in the session's schema. */
export const TABLES_PRESENT = `SELECT table_name FROM information_schema.tables
  WHERE table_schema = current_schema() AND table_name = ANY(string_to_array(CAST($1 AS VARCHAR), ','))`;

const ALERT_COLUMNS = `alert_id, dedupe_key, rule, scope, period, threshold, severity, state, summary, details,
    opened_at, resolved_at, opened_run_id, resolved_run_id`;

// ---- evaluation --------------------------------------------------------------------------------

/** Every open alert: few rows, so the diff is done in TS. */
export const OPEN_ALERTS = `SELECT ${ALERT_COLUMNS} FROM alerts WHERE state = 'open' ORDER BY opened_at, alert_id`;

export const INSERT_ALERT = `INSERT INTO alerts (${ALERT_COLUMNS})
  VALUES ($1, $2, $3, $4, $5, $6, $7, 'open', $8, $9, CAST($10 AS TIMESTAMP), NULL, $11, NULL)`;

/** `$1` alert id, `$2` instant, `$3` run id or NULL, `$4` details JSON. Only an open alert changes. */
export const RESOLVE_ALERT = `UPDATE alerts SET state = 'resolved', resolved_at = CAST($2 AS TIMESTAMP),
    resolved_run_id = CAST($3 AS VARCHAR), details = $4
  WHERE alert_id = $1 AND state = 'open'`;

export const INSERT_OUTBOX = `INSERT INTO alert_outbox
  (event_id, alert_id, kind, channel, payload, status, attempts, next_attempt_at, claimed_until, created_at,
   delivered_at, last_error)`;
/** One outbox row's tuple for insertMany: pending, due at once. */
export const OUTBOX_VALUES =
  "($1, $2, $3, $4, $5, 'pending', 0, CAST($6 AS TIMESTAMP), NULL, CAST($6 AS TIMESTAMP), NULL, NULL)";

// ---- rule overrides (the UI switch) -------------------------------------------------------------

export const RULE_OVERRIDES = 'SELECT rule, enabled FROM alert_rule_overrides';
export const UPSERT_RULE_OVERRIDE = `INSERT INTO alert_rule_overrides (rule, enabled, updated_at)
  VALUES ($1, $2, utc_now())
  ON CONFLICT (rule) DO UPDATE SET enabled = excluded.enabled, updated_at = excluded.updated_at`;

// ---- rule inputs ---------------------------------------------------------------------------------

/** budget_status rows of the current period (budget_threshold, forecast_overrun). */
export const CURRENT_BUDGET_STATUS = `SELECT budget_id, CAST(period_start AS VARCHAR) AS period_start,
    CAST(period_end AS VARCHAR) AS period_end, currency, CAST(amount AS VARCHAR) AS amount,
    CAST(spend_to_date AS VARCHAR) AS spend_to_date, CAST(as_of AS VARCHAR) AS as_of, known_days, unknown_days,
    unnormalized_events, CAST(share_used AS VARCHAR) AS share_used, CAST(forecast AS VARCHAR) AS forecast,
    CAST(forecast_low AS VARCHAR) AS forecast_low, CAST(forecast_high AS VARCHAR) AS forecast_high,
    CAST(projected_overrun AS VARCHAR) AS projected_overrun, state, run_id
  FROM budget_status WHERE is_current ORDER BY budget_id`;

/** Thresholds of API budgets, when the caller passes no budget list (file budgets use the default). */
export const API_BUDGET_THRESHOLDS = 'SELECT id, name, thresholds FROM budgets';

/** The reporting currency the insights were computed in. */
export const INSIGHTS_CURRENCY = 'SELECT reporting_currency FROM billing_insights LIMIT 1';

/**
 * Spend anomalies on the latest `$1` days with data: the anomaly list covers all history, and an
 * anomaly from weeks ago is news to nobody.
 */
export const RECENT_SPEND_ANOMALIES = `SELECT entity_type, entity, CAST(day AS VARCHAR) AS day,
    CAST(normalized_spend AS VARCHAR) AS spend, CAST(baseline_median AS VARCHAR) AS baseline,
    CAST(robust_z AS VARCHAR) AS robust_z, direction, CAST(deviation AS VARCHAR) AS deviation, history_days
  FROM insights_spend_anomalies
  WHERE day > (SELECT max(day) FROM daily_aggregates) - CAST($1 AS INTEGER)
  ORDER BY entity_type, entity, day`;

/**
 * The checks whose latest result on a partition failed, with that result: `check_failures` holds
 * exactly those keys, kept with every write to check_results (src/orchestrator/check-runner.ts), so
 * nothing here ranks the results' history.
 */
export const FAILING_CHECK_RESULTS = `SELECT r.asset, r.partition, r.check_name, r.severity, r.observed,
    r.threshold, r.message, r.run_id, r.evaluated_at
  FROM check_failures f JOIN check_results r ON r.result_id = f.result_id
  WHERE r.severity = 'error'`;

/** A file that counts as "arrived" for freshness: anything but a rejected or withdrawn one. */
const ARRIVED = "status NOT IN ('rejected', 'retracting', 'retracted')";

/**
 * The first day any file arrived for, and which of the days `$1` (comma-separated, never empty)
 * have arrived (comma-separated, NULL for none), in one statement.
 */
export const ARRIVAL = `SELECT (SELECT CAST(min(partition) AS VARCHAR) FROM billing_files WHERE ${ARRIVED}) AS first_day,
    (SELECT string_agg(DISTINCT CAST(partition AS VARCHAR), ',') FROM billing_files
      WHERE ${ARRIVED} AND partition IN (SELECT CAST(unnest(string_to_array(CAST($1 AS VARCHAR), ',')) AS DATE))) AS arrived`;

/**
 * The latest finished run of each trigger that ran in the last 30 days (before the latest finish):
 * the ledger keeps every run, and ranking all of them after every run would grow with history.
 * Canceled runs neither fail nor clear a trigger: someone stopped them, nothing broke or recovered.
 */
export const LATEST_FINISHED_RUNS = `SELECT run_id, trigger, status, error, finished_at,
    array_to_string(selection, ',') AS selection
  FROM (SELECT *, row_number() OVER (PARTITION BY trigger ORDER BY finished_at DESC, created_at DESC, run_id DESC) AS recency
    FROM runs WHERE status IN ('success', 'failed') AND finished_at IS NOT NULL
      AND finished_at >= (SELECT max(finished_at) FROM runs) - INTERVAL '30 days') r
  WHERE recency = 1
  ORDER BY trigger`;

// ---- store (API / CLI) --------------------------------------------------------------------------

/** `$1`: 'open' | 'resolved' | 'all'. Newest first. */
export const LIST_ALERTS = `SELECT ${ALERT_COLUMNS} FROM alerts
  WHERE CAST($1 AS VARCHAR) = 'all' OR state = CAST($1 AS VARCHAR)
  ORDER BY opened_at DESC, alert_id DESC LIMIT CAST($2 AS INTEGER)`;

export const GET_ALERT = `SELECT ${ALERT_COLUMNS} FROM alerts WHERE alert_id = $1`;

/** Outbox counts per alert and status (`$1`: comma-separated alert ids). */
export const OUTBOX_COUNTS = `SELECT alert_id, status, count(*) AS n FROM alert_outbox
  WHERE alert_id = ANY(string_to_array(CAST($1 AS VARCHAR), ',')) GROUP BY alert_id, status`;

const OUTBOX_COLUMNS = `event_id, alert_id, kind, channel, payload, status, attempts, next_attempt_at, claimed_until,
    created_at, delivered_at, last_error`;
/** Oldest first; within one instant 'fired' sorts before 'resolved', as they happen. */
export const ALERT_EVENTS = `SELECT ${OUTBOX_COLUMNS} FROM alert_outbox WHERE alert_id = $1
  ORDER BY created_at, kind, channel, event_id`;

const DELIVERY_COLUMNS = `event_id, alert_id, channel, attempt, attempted_at, status, http_status, error, duration_ms,
    next_attempt_at`;
export const ALERT_ATTEMPTS = `SELECT ${DELIVERY_COLUMNS} FROM alert_deliveries WHERE alert_id = $1
  ORDER BY attempted_at DESC, attempt DESC, event_id, channel`;
export const RECENT_ATTEMPTS = `SELECT ${DELIVERY_COLUMNS} FROM alert_deliveries
  ORDER BY attempted_at DESC, attempt DESC, event_id, channel LIMIT CAST($1 AS INTEGER)`;
