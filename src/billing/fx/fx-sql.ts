import { type AsofJoin, lateralAsofLeftJoin, type SqlDialect, sqlDialect } from '../../warehouse/dialect.js';
import { CHANGE_KEY_COLUMNS } from '../sql/tables.js';

/**
 * FX rates and currency normalization. Rates are DECIMAL(20,10); a normalized amount is the exact
 * product `credit_usage × rate` (DECIMAL(38,16) in DuckDB) rounded half away from zero to 6 digits.
 */

export const fxTables = (dialect: SqlDialect): string[] => [
  `CREATE TABLE IF NOT EXISTS fx_rates (
    date DATE NOT NULL,
    currency VARCHAR NOT NULL,
    rate DECIMAL(20,10) NOT NULL,
    source_version VARCHAR NOT NULL,
    loaded_run_id VARCHAR NOT NULL,
    loaded_at TIMESTAMP NOT NULL
  )`,
  'CREATE SEQUENCE IF NOT EXISTS fx_change_seq START 1',
  // Every rate added, changed or removed, and every switch of reporting currency (currency and date
  // NULL: "everything"). billing_events re-normalizes from it through its cursor.
  `CREATE TABLE IF NOT EXISTS fx_rate_history (
    change_id BIGINT NOT NULL,
    currency VARCHAR,
    date DATE,
    old_rate DECIMAL(20,10),
    new_rate DECIMAL(20,10),
    note VARCHAR,
    run_id VARCHAR NOT NULL,
    changed_at TIMESTAMP NOT NULL
  )`,
  `CREATE TABLE IF NOT EXISTS fx_state (
    reporting_currency VARCHAR NOT NULL,
    source VARCHAR,
    source_version VARCHAR,
    rate_count BIGINT NOT NULL,
    updated_at TIMESTAMP NOT NULL
  )`,
  ...dialect.lookupIndexes([
    'CREATE UNIQUE INDEX IF NOT EXISTS fx_rates_currency_date ON fx_rates (currency, date)',
    'CREATE INDEX IF NOT EXISTS fx_rate_history_change_id ON fx_rate_history (change_id)',
  ]),
];

/**
 * Held by the transaction that replaces the rates, from before it takes an FX change id until it
 * commits: FX changes then commit in id order, so a reader that saw change N has seen all before it.
 */
export const FX_LOCK = 'fx-rates';

/**
 * The normalized amount of event `e` given the ASOF-joined rate row `fx`; `$param` is the reporting
 * currency, whose rate is 1 without a row. NULL when there is no rate, or when the result does not
 * fit DECIMAL(18,6) (the `fx_rate_available` check reports both).
 */
export function normalizedAmount(
  e: string,
  fx: string,
  reportingParam: string,
  dialect: SqlDialect = sqlDialect('duckdb'),
): string {
  return dialect.decimalOrNull(
    `round(${e}.credit_usage * CASE WHEN ${e}.currency = ${reportingParam}
      THEN CAST(1 AS DECIMAL(20,10)) ELSE ${fx}.rate END, 6)`,
    18,
    6,
  );
}

const rateAsof = (e: string, fx: string): AsofJoin => ({
  left: e,
  table: 'fx_rates',
  alias: fx,
  equal: [['currency', 'currency']],
  atOrBefore: ['event_date', 'date'],
});

/**
 * The rate valid on the event's UTC day: the latest dated on or before it. Without a dialect, SQL
 * both engines run (a lookup per event: for few events); with one, its fastest as-of join.
 */
export function rateJoin(e: string, fx: string, dialect?: SqlDialect): string {
  return dialect ? dialect.asofLeftJoin(rateAsof(e, fx)) : lateralAsofLeftJoin(rateAsof(e, fx));
}

/**
 * A CTE `name` with the rate of every distinct (currency, event_date) of `source`: the rateJoin
 * rate. Joined back on both columns (`dayRateJoin`) it gives every event that same rate. An ASOF
 * join sorts its whole left side, wide rows included; this way only the few distinct pairs are.
 */
export function dayRates(name: string, source: string, dialect: SqlDialect): string {
  return `${name} AS (
    SELECT k.currency, k.event_date, fx.rate
    FROM (SELECT DISTINCT currency, event_date FROM ${source}) k ${rateJoin('k', 'fx', dialect)})`;
}

/** Joins the rates of `dayRates` to event alias `e` as alias `fx` (no row: no rate, like rateJoin). */
export function dayRateJoin(e: string, fx: string, rates: string): string {
  return `LEFT JOIN ${rates} ${fx} ON ${e}.currency = ${fx}.currency AND ${e}.event_date = ${fx}.event_date`;
}

/**
 * A sum of normalized amounts that is NULL unless every amount is known: a missing rate must show
 * as "unknown", never as a smaller total.
 */
export function completeSum(column: string): string {
  return `CASE WHEN count(${column}) = count(*) THEN sum(${column}) END`;
}

/** Events with no normalized amount, per currency: what a run without an FX source reports. */
export const UNNORMALIZED_CURRENCIES = `SELECT coalesce(currency, '(no currency)') AS currency, count(*) AS events
  FROM billing_events WHERE normalized_credit_usage IS NULL GROUP BY 1 ORDER BY 1`;

/**
 * The flag beside every normalized total: how many of the group's events have no normalized
 * amount (no rate, or too large). Non-zero exactly when the total is NULL.
 */
export const UNNORMALIZED_COLUMN = 'unnormalized_event_count BIGINT NOT NULL';
export const unnormalizedCount = (column: string) => `count(*) - count(${column})`;

export const FX_STATE = `SELECT reporting_currency, source, source_version, rate_count FROM fx_state`;

export const CREATE_NEW_RATES = [
  'DROP TABLE IF EXISTS new_fx_rates',
  'CREATE TEMP TABLE new_fx_rates (date DATE, currency VARCHAR, rate DECIMAL(20,10))',
];
/**
 * All validated rates in one statement: `$1`, `$2`, `$3` are the dates, currencies and rates, each
 * joined with commas (validation leaves none inside a value). Three parameters instead of three per
 * rate: binding thousands of parameters in 500-row chunks cost far more than the rows themselves.
 * The unnests in one select list run in lockstep in both warehouses.
 */
export const INSERT_NEW_RATES = `INSERT INTO new_fx_rates
  SELECT CAST(d AS DATE), c, CAST(r AS DECIMAL(20,10)) FROM (
    SELECT unnest(string_to_array(CAST($1 AS VARCHAR), ',')) AS d,
      unnest(string_to_array(CAST($2 AS VARCHAR), ',')) AS c,
      unnest(string_to_array(CAST($3 AS VARCHAR), ',')) AS r
  ) x`;

export const NEXT_FX_CHANGE_ID = "SELECT nextval('fx_change_seq') AS id";

/** Rates added (old NULL), removed (new NULL) or changed. `$1`: change id, `$2`: run id. */
export const RECORD_RATE_CHANGES = `INSERT INTO fx_rate_history
  SELECT CAST($1 AS BIGINT), coalesce(n.currency, o.currency), coalesce(n.date, o.date), o.rate, n.rate, NULL, $2, utc_now()
  FROM fx_rates o FULL OUTER JOIN new_fx_rates n ON o.currency = n.currency AND o.date = n.date
  WHERE o.rate IS DISTINCT FROM n.rate`;

/** Everything must be normalized again (first load, or a new reporting currency). */
export const RECORD_FULL_RENORMALIZATION = `INSERT INTO fx_rate_history
  VALUES ($1, NULL, NULL, NULL, NULL, $3, $2, utc_now())`;

export const COUNT_CHANGES = 'SELECT count(*) AS n FROM fx_rate_history WHERE change_id = $1';

export const REPLACE_RATES = [
  'DELETE FROM fx_rates',
  `INSERT INTO fx_rates SELECT date, currency, rate, $1, $2, utc_now() FROM new_fx_rates`,
  'DROP TABLE new_fx_rates',
];

export const REPLACE_STATE = [
  'DELETE FROM fx_state',
  'INSERT INTO fx_state VALUES ($1, $2, $3, $4, utc_now())',
];

export const RATE_SUMMARY = `SELECT count(DISTINCT currency) AS currencies,
    CAST(min(date) AS VARCHAR) AS first_date, CAST(max(date) AS VARCHAR) AS last_date
  FROM fx_rates`;

const KEYS = CHANGE_KEY_COLUMNS.map((c) => c.name);

/** The newest change id; `$1`: the last one billing_events applied. */
export const FX_CHANGES_SINCE = `SELECT max(change_id) AS latest FROM fx_rate_history WHERE change_id > $1`;

/** The latest FX change id (NULL before any): the rates in effect are those as of this change. */
export const FX_HEAD = 'SELECT max(change_id) AS head FROM fx_rate_history';

/**
 * Re-normalizing after rate changes, in one transaction with billing_events' cursor move. `$1`/`$2`:
 * change ids (exclusive/inclusive), `$3`: reporting currency. Only events inside the changed
 * (currency, from-date) scope whose amount actually differs are touched and logged as changes.
 * `$4`/`$5`: the FX head when billing_events started loading files in run `$5`. While it is still
 * the head, the events of files that run loaded were normalized with today's rates and cannot
 * differ, so they are not scanned (on a first load that is every event).
 */
export const collectRenormalized = (dialect: SqlDialect): string[] => [
  'DROP TABLE IF EXISTS fx_renormalized',
  `CREATE TEMP TABLE fx_renormalized AS
  WITH scope AS (
    SELECT currency, CASE WHEN bool_or(date IS NULL) THEN NULL ELSE min(date) END AS from_date
    FROM fx_rate_history WHERE change_id > $1 AND change_id <= $2 GROUP BY currency
  ),
  candidates AS (
    SELECT * FROM billing_events e
    WHERE EXISTS (SELECT 1 FROM scope s
        WHERE (s.currency IS NULL OR s.currency = e.currency) AND (s.from_date IS NULL OR e.event_date >= s.from_date))
      AND NOT (e.source_key IN (SELECT source_key FROM billing_files WHERE loaded_run_id = $5)
        AND (SELECT max(change_id) FROM fx_rate_history) IS NOT DISTINCT FROM CAST($4 AS BIGINT))
  ),
  ${dayRates('rates', 'candidates', dialect)}
  SELECT e.source_key, e.source_line, e.year, e.month, e.day, ${KEYS.map((k) => `e.${k}`).join(', ')},
    ${normalizedAmount('e', 'fx', '$3', dialect)} AS normalized
  FROM candidates e ${dayRateJoin('e', 'fx', 'rates')}
  WHERE e.normalized_credit_usage IS DISTINCT FROM ${normalizedAmount('e', 'fx', '$3', dialect)}`,
];

// The day columns too: they lead PostgreSQL to the one partition (and its index) holding the row.
export const APPLY_RENORMALIZED = `UPDATE billing_events e SET normalized_credit_usage = r.normalized
  FROM fx_renormalized r WHERE e.source_key = r.source_key AND e.source_line = r.source_line
    AND e.year = r.year AND e.month = r.month AND e.day = r.day`;

export const RECORD_RENORMALIZED_KEYS = `INSERT INTO billing_event_changes
  SELECT DISTINCT CAST($1 AS BIGINT), ${KEYS.join(', ')} FROM fx_renormalized`;

export const RENORMALIZED_PARTITIONS = `SELECT CAST(make_date(year, month, day) AS VARCHAR) AS partition,
    count(*) AS events
  FROM fx_renormalized GROUP BY year, month, day ORDER BY 1`;

export const DROP_RENORMALIZED = 'DROP TABLE fx_renormalized';

/**
 * Files holding events that run `$1` did not load (a file's events exist only while it has a
 * `loaded_version`): none means COLLECT's candidates are empty while the FX head is unchanged.
 */
export const FILES_LOADED_BY_OTHER_RUNS = `SELECT count(*) AS n FROM billing_files
  WHERE loaded_version IS NOT NULL AND loaded_run_id IS DISTINCT FROM $1`;
