import { splitList } from '../../orchestrator/ledger-sql.js';
import { ident, literal } from '../../warehouse/warehouse.js';
import { rateJoin } from '../fx/fx-sql.js';
import type { CheckSettings } from './quality-config.js';
import { medianOf } from './robust-z.js';

/** The type of a sum of DECIMAL(18,6) amounts in DuckDB, spelled out for PostgreSQL. */
const MONEY_SUM = 'DECIMAL(38,6)';

/**
 * SQL of the built-in billing checks, portable (DuckDB and PostgreSQL). Partitions are passed as
 * one comma-separated parameter of `YYYY-MM-DD` days (never empty: callers skip the query when
 * there is nothing to check).
 */

const DAY_LIST = (param: string) => `CAST(unnest(string_to_array(${param}, ',')) AS DATE)`;
export const DAYS = (param: string) => `(SELECT ${DAY_LIST(param)})`;
const PATH_DAY = 'make_date(e.year, e.month, e.day)';

/**
 * The same days as `PATH_DAY IN DAYS(param)`, on the path columns themselves: DuckDB pushes a
 * semi join's key range into the scan only for plain columns, so with this beside it a check of one
 * new day reads that day's row groups instead of every event (issue 12: cost follows the new data).
 */
const PATH_DAY_COLUMNS_IN = (param: string) => `(e.year, e.month, e.day) IN (SELECT EXTRACT(YEAR FROM d),
      EXTRACT(MONTH FROM d), EXTRACT(DAY FROM d) FROM (SELECT ${DAY_LIST(param)} AS d) path_days)`;

/** Events of the given path-day partitions, minus withheld ones (`$2`, only when `withheld`). */
export function releasedEvents(options: { days: string | null; withheld: string | null }): string {
  const where = [
    options.days ? `${PATH_DAY} IN ${DAYS(options.days)} AND ${PATH_DAY_COLUMNS_IN(options.days)}` : null,
    options.withheld ? `${PATH_DAY} NOT IN ${DAYS(options.withheld)}` : null,
  ].filter((x): x is string => x !== null);
  return `billing_events e${where.length > 0 ? ` WHERE ${where.join(' AND ')}` : ''}`;
}

/** Column names of the profile query for a not-null / accepted-values column. */
export const nullCount = (column: string) => `null_${column}`;
export const badCount = (column: string) => `bad_${column}`;
export const badSample = (column: string) => `bad_${column}_sample`;

/** The checked partitions' events (`$1`) grouped by path day, with `measures`. */
const profileScan = (measures: readonly string[]) => `
      SELECT e.year, e.month, e.day, CAST(${PATH_DAY} AS VARCHAR) AS partition,
        ${measures.join(',\n        ')}
      FROM ${releasedEvents({ days: '$1', withheld: null })}
      GROUP BY e.year, e.month, e.day`;

/**
 * One scan of the checked partitions' events computing every row-level measure the event checks
 * need. `$1`: partitions.
 */
export function eventProfileSql(settings: CheckSettings, dialect: 'duckdb' | 'postgres'): string {
  const measures = ['count(*) AS events'];
  for (const column of settings.not_null.columns) {
    measures.push(`count(*) FILTER (WHERE e.${ident(column)} IS NULL) AS ${ident(nullCount(column))}`);
  }
  for (const [column, values] of Object.entries(settings.accepted_values.columns)) {
    if (!values || values.length === 0) continue;
    const bad = `e.${ident(column)} IS NOT NULL AND e.${ident(column)} NOT IN (${values.map(literal).join(', ')})`;
    measures.push(`count(*) FILTER (WHERE ${bad}) AS ${ident(badCount(column))}`);
    measures.push(`min(e.${ident(column)}) FILTER (WHERE ${bad}) AS ${ident(badSample(column))}`);
  }
  const range = settings.credit_usage_range;
  const outOfRange = [
    range.min === null ? null : `e.credit_usage < CAST(${literal(range.min)} AS DECIMAL(18,6))`,
    range.max === null ? null : `e.credit_usage > CAST(${literal(range.max)} AS DECIMAL(18,6))`,
  ].filter((x) => x !== null);
  measures.push(
    'count(*) FILTER (WHERE e.credit_usage < 0) AS refunds',
    `count(*) FILTER (WHERE ${outOfRange.length > 0 ? outOfRange.join(' OR ') : 'false'}) AS out_of_range`,
    'CAST(min(e.credit_usage) AS VARCHAR) AS min_credit',
    'CAST(max(e.credit_usage) AS VARCHAR) AS max_credit',
    'min(e.credit_usage) AS min_amount',
    'max(e.credit_usage) AS max_amount',
  );
  const tolerance = `INTERVAL '${Math.round(settings.timestamp_window.tolerance_hours * 60)} minutes'`;
  const dayStart = `CAST(${PATH_DAY} AS TIMESTAMP)`;
  measures.push(
    `count(*) FILTER (WHERE e."timestamp" < ${dayStart} - ${tolerance}
      OR e."timestamp" >= ${dayStart} + INTERVAL '1 day' + ${tolerance}) AS outside_window`,
    'CAST(min(e."timestamp") AS VARCHAR) AS first_timestamp',
    'CAST(max(e."timestamp") AS VARCHAR) AS last_timestamp',
    'count(*) FILTER (WHERE e.normalized_credit_usage IS NULL) AS unnormalized',
  );
  // Each extreme's billing currency (amounts are compared as billed, and shown with their currency):
  // the first currency among the partition's rows at that amount. Not an ordered array_agg, which
  // held every row's currency in memory (20M rows in one file ran out of DuckDB's memory limit).
  if (dialect === 'duckdb') {
    // In the same scan: a struct compares field by field and a NULL field sorts last, so the least
    // (amount, currency) is the least amount with the first non-NULL currency at it (the lookup
    // below, decorrelated by DuckDB, grouped every event of the table by amount: 0.2 s of a day).
    const extreme = (amount: string, name: string) =>
      `struct_extract(min({'a': ${amount}, 'c': e.currency}) FILTER (WHERE e.credit_usage IS NOT NULL), 'c') AS ${name}`;
    measures.push(
      extreme('e.credit_usage', 'min_credit_currency'),
      extreme('-e.credit_usage', 'max_credit_currency'),
    );
    return profileScan(measures);
  }
  // PostgreSQL has no such order on rows: looked up after the scan, in the partition's own table.
  const extremeCurrency = (amount: string) => `(SELECT min(x.currency) FROM billing_events x
      WHERE x.year = p.year AND x.month = p.month AND x.day = p.day AND x.credit_usage = p.${amount})`;
  return `WITH p AS (${profileScan(measures)})
    SELECT p.*, ${extremeCurrency('min_amount')} AS min_credit_currency,
      ${extremeCurrency('max_amount')} AS max_credit_currency
    FROM p`;
}

/**
 * Why events of the path-day partitions `$1` have no normalized amount, per partition and currency
 * (`$2`: reporting currency): one query for every failing partition, on the path columns so only
 * their row groups are read (one query per partition on `make_date` read every event each), and
 * the rate looked up once per (currency, day) instead of once per event.
 */
export const UNNORMALIZED_DETAIL = `WITH u AS (
    SELECT CAST(${PATH_DAY} AS VARCHAR) AS partition, e.currency, e.event_date
    FROM billing_events e
    WHERE ${PATH_DAY} IN ${DAYS('$1')} AND ${PATH_DAY_COLUMNS_IN('$1')} AND e.normalized_credit_usage IS NULL
  ),
  r AS (SELECT k.currency, k.event_date, fx.rate
    FROM (SELECT DISTINCT currency, event_date FROM u) k ${rateJoin('k', 'fx')})
  SELECT u.partition, coalesce(u.currency, '(no currency)') AS currency, count(*) AS events,
    CAST(min(u.event_date) AS VARCHAR) AS first_day, CAST(max(u.event_date) AS VARCHAR) AS last_day,
    count(*) FILTER (WHERE r.rate IS NOT NULL OR u.currency = $2) AS too_large
  FROM u LEFT JOIN r ON r.currency = u.currency AND r.event_date = u.event_date
  GROUP BY 1, 2 ORDER BY 1, events DESC, currency`;

/**
 * Events without a normalized amount in the path-day partitions `$1`, per currency and event day,
 * for the summary over every failing partition (no rate lookup: there may be many such events).
 */
export const UNNORMALIZED_BY_DAY = `SELECT coalesce(e.currency, '(no currency)') AS currency,
    CAST(e.event_date AS VARCHAR) AS day, count(*) AS events
  FROM billing_events e
  WHERE ${PATH_DAY} IN ${DAYS('$1')} AND ${PATH_DAY_COLUMNS_IN('$1')} AND e.normalized_credit_usage IS NULL
  GROUP BY 1, e.event_date ORDER BY 1, e.event_date`;

/**
 * Per file of the partitions (`$1`) that has loaded rows: the parser's counts against what the
 * warehouse holds. Events must equal data rows (valid + rejected, as parsed) minus stored rejected rows.
 */
export const FILE_ROW_RECONCILIATION = `WITH files AS (
    SELECT source_key, CAST(partition AS VARCHAR) AS partition, row_count, rejected_row_count
    FROM billing_files WHERE partition IN ${DAYS('$1')} AND loaded_version IS NOT NULL
  ),
  events AS (
    SELECT source_key, count(*) AS n FROM billing_events
    WHERE source_key IN (SELECT source_key FROM files) GROUP BY source_key
  ),
  rejects AS (
    SELECT source_key, count(*) AS n FROM rejected_rows
    WHERE source_key IN (SELECT source_key FROM files) GROUP BY source_key
  )
  SELECT f.partition, f.source_key, coalesce(f.row_count, 0) + coalesce(f.rejected_row_count, 0) AS data_rows,
    coalesce(r.n, 0) AS rejected_rows, coalesce(v.n, 0) AS events
  FROM files f LEFT JOIN events v USING (source_key) LEFT JOIN rejects r USING (source_key)
  ORDER BY f.partition, f.source_key`;

const partitionsRejectedIn = (run: string) => `SELECT DISTINCT CAST(f.partition AS VARCHAR) AS partition
  FROM rejected_files r JOIN billing_files f USING (source_key) WHERE r.run_id = ${run}`;

const REJECTION_RATE_COLUMNS = `CAST(partition AS VARCHAR) AS partition, source_key, status,
    CASE WHEN status = 'rejected' THEN 1.0
      WHEN coalesce(row_count, 0) + coalesce(rejected_row_count, 0) = 0 THEN 0.0
      ELSE CAST(rejected_row_count AS DOUBLE PRECISION) / (row_count + rejected_row_count) END AS rate,
    coalesce(rejected_row_count, 0) AS rejected_rows, coalesce(row_count, 0) + coalesce(rejected_row_count, 0) AS data_rows`;
const RATED_FILE = "(status = 'rejected' OR loaded_version IS NOT NULL)";

/** Files of the partitions (`$1`) with their rejection rate; a whole rejected file counts as 1. */
export const FILE_REJECTION_RATES = `SELECT ${REJECTION_RATE_COLUMNS}
  FROM billing_files
  WHERE partition IN ${DAYS('$1')} AND ${RATED_FILE}
  ORDER BY partition, rate DESC, source_key`;

/**
 * PARTITIONS_REJECTED_IN_RUN (run `$2`; rows of kind 'rejected', partition only) and then
 * FILE_REJECTION_RATES (kind 'file', in its order) of those partitions plus the days `$1`
 * (comma-separated, may be empty), in one statement.
 */
export const REJECTION_RATES_WITH_RUN = `WITH rejected_now AS (${partitionsRejectedIn('$2')})
  SELECT 'file' AS kind, ${REJECTION_RATE_COLUMNS}
  FROM billing_files
  WHERE (partition IN (SELECT CAST(unnest(${splitList('$1')}) AS DATE))
      OR CAST(partition AS VARCHAR) IN (SELECT partition FROM rejected_now WHERE partition IS NOT NULL))
    AND ${RATED_FILE}
  UNION ALL
  SELECT 'rejected' AS kind, partition, NULL, NULL, NULL, NULL, NULL FROM rejected_now
  ORDER BY kind, partition, rate DESC, source_key`;

/** Partitions of files rejected whole in run `$1` (they load no rows, so no partition reports them). */
export const PARTITIONS_REJECTED_IN_RUN = partitionsRejectedIn('$1');

/**
 * No rows, only the columns: `query().columns` gives each with the type name both warehouses
 * report the same way (the value contract), for the schema contract.
 */
export const TABLE_SCHEMA = (table: string) => `SELECT * FROM ${ident(table)} WHERE false`;

/**
 * The first day any file exists for, and which of the days `$1` have at least one file
 * (comma-separated, NULL for none): freshness' two questions in one statement.
 */
export const FILE_DAYS = `SELECT (SELECT CAST(min(partition) AS VARCHAR) FROM billing_files) AS first_day,
    (SELECT string_agg(DISTINCT CAST(partition AS VARCHAR), ',') FROM billing_files
      WHERE partition IN ${DAYS('$1')}) AS present`;

/**
 * An aggregate's totals against the released events they summarize: per day for a daily aggregate
 * (`$1`: days, `$2`: withheld path days, when any), or over the whole table (`$1`: withheld days).
 */
export function reconciliationSql(options: {
  table: string;
  dayColumn: string | null;
  normalized: boolean;
  withheld: boolean;
}): string {
  const withheldParam = options.dayColumn === null ? '$1' : '$2';
  const events = releasedEvents({ days: null, withheld: options.withheld ? withheldParam : null });
  // Typed NULLs and zeros: PostgreSQL would make a bare NULL text and print a bare 0 without the
  // six decimals DuckDB's DECIMAL(38,6) shows.
  // The billed currencies behind the raw sums: one names the sum's currency, several make it a checksum.
  const evCurrencies = "string_agg(DISTINCT e.currency, ',' ORDER BY e.currency) AS currencies";
  const evNorm = options.normalized
    ? 'count(*) - count(e.normalized_credit_usage) AS unnormalized, sum(e.normalized_credit_usage) AS ns'
    : `0 AS unnormalized, CAST(NULL AS ${MONEY_SUM}) AS ns`;
  const agNorm = options.normalized
    ? 'count(*) FILTER (WHERE a.total_normalized_credit_usage IS NULL) AS null_groups, sum(a.total_normalized_credit_usage) AS ns'
    : `0 AS null_groups, CAST(NULL AS ${MONEY_SUM}) AS ns`;
  const zero = `CAST(0 AS ${MONEY_SUM})`;
  const compare = `coalesce(ev.n, 0) AS events, coalesce(ag.n, 0) AS aggregate_events,
      CAST(coalesce(ev.s, ${zero}) AS VARCHAR) AS credit, CAST(coalesce(ag.s, ${zero}) AS VARCHAR) AS aggregate_credit,
      coalesce(ev.s, ${zero}) = coalesce(ag.s, ${zero}) AS credit_equal,
      coalesce(ev.unnormalized, 0) AS unnormalized, coalesce(ag.null_groups, 0) AS null_groups,
      CAST(coalesce(ev.ns, ${zero}) AS VARCHAR) AS normalized, CAST(coalesce(ag.ns, ${zero}) AS VARCHAR) AS aggregate_normalized,
      coalesce(ev.ns, ${zero}) = coalesce(ag.ns, ${zero}) AS normalized_equal, ev.currencies`;
  const table = ident(options.table);
  if (options.dayColumn === null) {
    return `WITH ev AS (SELECT count(*) AS n, sum(e.credit_usage) AS s, ${evCurrencies}, ${evNorm} FROM ${events}),
      ag AS (SELECT sum(a.event_count) AS n, sum(a.total_credit_usage) AS s, ${agNorm} FROM ${table} a)
      SELECT NULL AS partition, ${compare} FROM ev, ag`;
  }
  const day = ident(options.dayColumn);
  const eventsOfDays = `${events} ${options.withheld ? 'AND' : 'WHERE'} e.event_date IN ${DAYS('$1')}`;
  return `WITH days AS (SELECT ${DAY_LIST('$1')} AS day),
    ev AS (SELECT e.event_date AS day, count(*) AS n, sum(e.credit_usage) AS s, ${evCurrencies}, ${evNorm}
      FROM ${eventsOfDays} GROUP BY e.event_date),
    ag AS (SELECT a.${day} AS day, sum(a.event_count) AS n, sum(a.total_credit_usage) AS s, ${agNorm}
      FROM ${table} a WHERE a.${day} IN ${DAYS('$1')} GROUP BY a.${day})
    SELECT CAST(d.day AS VARCHAR) AS partition, ${compare}
    FROM days d LEFT JOIN ev ON ev.day = d.day LEFT JOIN ag ON ag.day = d.day ORDER BY d.day`;
}

/**
 * For each day (`$1`) of daily_aggregates: its volume and normalized spend and the median / MAD of
 * the `$2` days before it. MAD is the median of the absolute deviations from the median (a second
 * pass over the window, as PostgreSQL has no `mad`); NULL spends are left out of the spend figures.
 */
export const VOLUME_BASELINE = `WITH days AS (SELECT ${DAY_LIST('$1')} AS day),
  hist AS (
    SELECT d.day, CAST(h.event_count AS DOUBLE PRECISION) AS n,
      CAST(h.total_normalized_credit_usage AS DOUBLE PRECISION) AS s
    FROM days d JOIN daily_aggregates h ON h.day < d.day AND h.day >= d.day - CAST($2 AS INTEGER)
  ),
  medians AS (
    SELECT day, count(*) AS history_days, ${medianOf('n')} AS median_events,
      count(s) AS spend_days, ${medianOf('s')} AS median_spend
    FROM hist GROUP BY day
  ),
  base AS (
    SELECT m.day, m.history_days, m.median_events, ${medianOf('abs(h.n - m.median_events)')} AS mad_events,
      m.spend_days, m.median_spend, ${medianOf('abs(h.s - m.median_spend)')} AS mad_spend
    FROM medians m JOIN hist h ON h.day = m.day
    GROUP BY m.day, m.history_days, m.median_events, m.spend_days, m.median_spend
  )
  SELECT CAST(d.day AS VARCHAR) AS partition, t.event_count,
    CAST(t.total_normalized_credit_usage AS DOUBLE PRECISION) AS spend,
    CAST(t.total_normalized_credit_usage AS VARCHAR) AS exact_spend,
    coalesce(b.history_days, 0) AS history_days, b.median_events, b.mad_events,
    coalesce(b.spend_days, 0) AS spend_days, b.median_spend, b.mad_spend
  FROM days d LEFT JOIN daily_aggregates t ON t.day = d.day LEFT JOIN base b ON b.day = d.day
  ORDER BY d.day`;

/**
 * Reconciliation of a merged whole-history aggregate (see aggregates/merge-sql.ts) without reading
 * all history: the table's totals against the sum of its per-day partials (`partialsTable`, one
 * row per day and key), and, in `mergedPartialsSql`, the partials of the days the last merge
 * rebuilt against those days' released events. Earlier days' partials were checked when they
 * changed, so each run costs the changed days' events plus one pass over the partials.
 * Same row shape as `reconciliationSql`; `$1`: withheld path days, when any (not used here).
 */
export function mergedTableSql(options: { table: string; partialsTable: string }): string {
  const zero = `CAST(0 AS ${MONEY_SUM})`;
  return `WITH ev AS (SELECT sum(d.event_count) AS n, sum(d.total_credit_usage) AS s,
        sum(d.unnormalized_event_count) AS unnormalized, sum(d.normalized_known) AS ns
        FROM ${ident(options.partialsTable)} d),
      ag AS (SELECT sum(a.event_count) AS n, sum(a.total_credit_usage) AS s,
        count(*) FILTER (WHERE a.total_normalized_credit_usage IS NULL) AS null_groups,
        sum(a.total_normalized_credit_usage) AS ns FROM ${ident(options.table)} a)
    SELECT NULL AS partition, coalesce(ev.n, 0) AS events, coalesce(ag.n, 0) AS aggregate_events,
      CAST(coalesce(ev.s, ${zero}) AS VARCHAR) AS credit, CAST(coalesce(ag.s, ${zero}) AS VARCHAR) AS aggregate_credit,
      coalesce(ev.s, ${zero}) = coalesce(ag.s, ${zero}) AS credit_equal,
      coalesce(ev.unnormalized, 0) AS unnormalized, coalesce(ag.null_groups, 0) AS null_groups,
      CAST(coalesce(ev.ns, ${zero}) AS VARCHAR) AS normalized, CAST(coalesce(ag.ns, ${zero}) AS VARCHAR) AS aggregate_normalized,
      coalesce(ev.ns, ${zero}) = coalesce(ag.ns, ${zero}) AS normalized_equal,
      CAST(NULL AS VARCHAR) AS currencies
    FROM ev, ag`;
}

/**
 * `mergedTableSql`'s row beside each row of `mergedPartialsSql` (the drift_ columns), in one
 * statement: one row with NULL drift_day when all agree. `$1` as in `mergedPartialsSql`.
 */
export function mergedReconciliationSql(options: {
  table: string;
  partialsTable: string;
  changedDaysTable: string;
  withheld: boolean;
}): string {
  return `WITH totals AS (${mergedTableSql(options)}),
    drift AS (${mergedPartialsSql(options)})
    SELECT totals.*, drift.day AS drift_day, drift.events AS drift_events,
      drift.partial_events AS drift_partial_events, drift.credit AS drift_credit,
      drift.partial_credit AS drift_partial_credit
    FROM totals LEFT JOIN drift ON true
    ORDER BY drift.day`;
}

/**
 * The changed days (`changedDaysTable`) whose per-day partials differ from their released events
 * (`$1`: withheld path days, when `withheld`): no rows when all agree.
 */
export function mergedPartialsSql(options: {
  partialsTable: string;
  changedDaysTable: string;
  withheld: boolean;
}): string {
  const zero = `CAST(0 AS ${MONEY_SUM})`;
  const events = releasedEvents({ days: null, withheld: options.withheld ? '$1' : null });
  const changed = `(SELECT event_date FROM ${ident(options.changedDaysTable)})`;
  return `WITH ev AS (SELECT e.event_date AS day, count(*) AS n, sum(e.credit_usage) AS s,
        count(*) - count(e.normalized_credit_usage) AS unnormalized, sum(e.normalized_credit_usage) AS ns
        FROM ${events} ${options.withheld ? 'AND' : 'WHERE'} e.event_date IN ${changed} GROUP BY e.event_date),
      pd AS (SELECT d.event_date AS day, sum(d.event_count) AS n, sum(d.total_credit_usage) AS s,
        sum(d.unnormalized_event_count) AS unnormalized, sum(d.normalized_known) AS ns
        FROM ${ident(options.partialsTable)} d WHERE d.event_date IN ${changed} GROUP BY d.event_date)
    SELECT CAST(c.event_date AS VARCHAR) AS day, coalesce(ev.n, 0) AS events, coalesce(pd.n, 0) AS partial_events,
      CAST(coalesce(ev.s, ${zero}) AS VARCHAR) AS credit, CAST(coalesce(pd.s, ${zero}) AS VARCHAR) AS partial_credit
    FROM ${ident(options.changedDaysTable)} c LEFT JOIN ev ON ev.day = c.event_date LEFT JOIN pd ON pd.day = c.event_date
    WHERE coalesce(ev.n, 0) <> coalesce(pd.n, 0) OR coalesce(ev.s, ${zero}) <> coalesce(pd.s, ${zero})
      OR coalesce(ev.unnormalized, 0) <> coalesce(pd.unnormalized, 0) OR coalesce(ev.ns, ${zero}) <> coalesce(pd.ns, ${zero})
    ORDER BY c.event_date`;
}
