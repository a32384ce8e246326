/**
 * Rejected input and the drill-down from an aggregate figure to its files and source lines.
 * Filters over events come from `eventWhere` (alias `e`); limits and offsets are the last parameters.
 * The SQL runs unchanged on DuckDB and PostgreSQL; optional parameters are cast so PostgreSQL can type them.
 */

import { CURRENCY_KEY, knownTotal } from './insights-sql.js';

/** A rejected row's reason starts with the column it failed on; field-count errors have their own class. */
const CATEGORY = `CASE WHEN reason LIKE 'expected % fields%' THEN 'field count' ELSE split_part(reason, ' ', 1) END`;

export const REJECTED_REASONS = `SELECT ${CATEGORY} AS category, count(*) AS rows, count(DISTINCT source_key) AS files,
    min(reason) AS example
  FROM rejected_rows GROUP BY ${CATEGORY} ORDER BY rows DESC, category`;

/** $1 source_key or NULL, $2 category or NULL, $3 limit, $4 offset. */
const REJECTED_ROWS_WHERE = `WHERE (CAST($1 AS VARCHAR) IS NULL OR source_key = CAST($1 AS VARCHAR))
  AND (CAST($2 AS VARCHAR) IS NULL OR ${CATEGORY} = CAST($2 AS VARCHAR))`;
export const REJECTED_ROWS = `SELECT source_key, line_number, reason, ${CATEGORY} AS category, raw, source_version,
    run_id, rejected_at
  FROM rejected_rows ${REJECTED_ROWS_WHERE}
  ORDER BY source_key, line_number LIMIT $3 OFFSET $4`;
export const REJECTED_ROWS_COUNT = `SELECT count(*) AS total FROM rejected_rows ${REJECTED_ROWS_WHERE}`;

export const REJECTED_FILES = `SELECT r.source_key, r.source_version, r.reason, r.run_id, r.rejected_at,
    f.status AS current_status
  FROM rejected_files r LEFT JOIN billing_files f USING (source_key)
  ORDER BY r.rejected_at DESC, r.source_key`;

/** The file inventory; $1 day or NULL, $2 status or NULL, $3 limit, $4 offset. */
const FILES_WHERE = `WHERE (CAST($1 AS DATE) IS NULL OR partition = CAST($1 AS DATE))
  AND (CAST($2 AS VARCHAR) IS NULL OR status = CAST($2 AS VARCHAR))`;
export const FILES = `SELECT source_key, CAST(partition AS VARCHAR) AS partition, size, version, status, loaded_version,
    loaded_at, loaded_run_id, row_count, rejected_row_count, error, first_seen_at, last_seen_at
  FROM billing_files ${FILES_WHERE} ORDER BY partition DESC, source_key LIMIT $3 OFFSET $4`;
export const FILES_COUNT = `SELECT count(*) AS total FROM billing_files ${FILES_WHERE}`;
export const FILE_STATUS_COUNTS =
  'SELECT status, count(*) AS files FROM billing_files GROUP BY status ORDER BY status';

/** The files behind a (filtered) figure: their events, spend in the reporting currency, where their lines are. */
export function filesBehind(where: string): string {
  return `SELECT e.source_key, f.loaded_version AS version, f.loaded_run_id AS run_id, f.loaded_at,
      CAST(f.partition AS VARCHAR) AS partition,
      count(*) AS events, ${knownTotal('e.normalized_credit_usage')} AS spend,
      min(e.source_line) AS first_line, max(e.source_line) AS last_line
    FROM billing_events e LEFT JOIN billing_files f USING (source_key)
    ${where}
    GROUP BY e.source_key, f.loaded_version, f.loaded_run_id, f.loaded_at, f.partition ORDER BY e.source_key`;
}

/** The same events per file and currency: exact totals in each original currency. */
export function filesBehindByCurrency(where: string): string {
  return `SELECT e.source_key, ${CURRENCY_KEY} AS currency, count(*) AS events,
      sum(e.credit_usage) AS original_total, ${knownTotal('e.normalized_credit_usage')} AS spend,
      count(*) - count(e.normalized_credit_usage) AS unnormalized_events
    FROM billing_events e ${where}
    GROUP BY e.source_key, ${CURRENCY_KEY} ORDER BY e.source_key, 2`;
}

/** The events behind a figure, each with its file and line, its own amount and the normalized one. */
export function sourceRows(where: string, limit: string, offset: string): string {
  return `SELECT e.source_key, e.source_line, e."timestamp", CAST(e.event_date AS VARCHAR) AS event_date,
      e.user_id, e.credit_usage, ${CURRENCY_KEY} AS currency, e.normalized_credit_usage, e.region,
      e.service_tier, e.operation_type, e.resource_type, e.resource_id, e.success, e.invoice_id
    FROM billing_events e ${where}
    ORDER BY e.source_key, e.source_line LIMIT ${limit} OFFSET ${offset}`;
}

export function sourceRowsTotals(where: string): string {
  return `SELECT count(*) AS events, ${knownTotal('e.normalized_credit_usage')} AS spend,
      count(*) - count(e.normalized_credit_usage) AS unnormalized_events
    FROM billing_events e ${where}`;
}

/** The events behind a figure per currency: the exact total in each, and in the reporting currency. */
export function currencyTotals(where: string): string {
  return `SELECT ${CURRENCY_KEY} AS currency, count(*) AS events, sum(e.credit_usage) AS original_total,
      ${knownTotal('e.normalized_credit_usage')} AS spend,
      count(*) - count(e.normalized_credit_usage) AS unnormalized_events
    FROM billing_events e ${where} GROUP BY ${CURRENCY_KEY} ORDER BY 1`;
}

/**
 * The SQL page's schema browser: every table and view with its columns, from information_schema
 * (the same on DuckDB and PostgreSQL). Run through the read-only SQL endpoint's own guard.
 */
export const SCHEMA_COLUMNS = `SELECT c.table_name, c.column_name, c.data_type, t.table_type
  FROM information_schema.columns c
  JOIN information_schema.tables t
    ON t.table_catalog = c.table_catalog AND t.table_schema = c.table_schema AND t.table_name = c.table_name
  WHERE c.table_schema NOT IN ('information_schema', 'pg_catalog') AND c.table_catalog NOT IN ('system', 'temp')
  ORDER BY c.table_name, c.ordinal_position`;
