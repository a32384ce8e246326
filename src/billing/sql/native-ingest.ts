import { ident, literal } from '../../warehouse/warehouse.js';
import type { SchemaColumn } from '../schema.js';
import { NORMALIZED_EVENT_COLUMNS } from './tables.js';

/*
 * The DuckDB-native parse of a source file (see ingest/native-parse.ts): read_csv reads the file the
 * downloader wrote (each line prefixed with its physical line number), and SQL applies the rules of
 * row-normalizer.ts and timestamp.ts. It is deliberately narrower than them: a value it cannot vouch
 * for makes the row fall out, and a file with any such row is parsed again by the JS path, which
 * then gives the exact rejection. So every row written here is one the JS path accepts, with the
 * same normalized values.
 */

/** The ASCII characters String.prototype.trim removes (other Unicode spaces send a row to the JS path). */
const WS = "(' ' || chr(9) || chr(10) || chr(11) || chr(12) || chr(13))";
const WS_RE = '[ \\t\\n\\x0b\\x0c\\r]*';

/*
 * timestamp.ts's forms that DuckDB's casts read the same way (checked against the JS rules by
 * test/pipeline/native-ingest.test.ts): `YYYY-MM-DD`, `T` or space, `HH:MM:SS`, up to 9 fraction
 * digits (both truncate to microseconds), and for ZONED `Z` or an offset within ±18:00. Ranges are in
 * the pattern (hour 24, minute 60, offset minutes 60 are JS rejections a cast would take); the
 * calendar date is the cast's. Years before 1000 are left to the JS path.
 */
const TIME = '[1-9][0-9]{3}-[0-9]{2}-[0-9]{2}[T ]([01][0-9]|2[0-3]):[0-5][0-9]:[0-5][0-9](\\.[0-9]{1,9})?';
const UTC_RE = TIME;
const ZONED_RE = `${TIME}(Z|[+-]((0[0-9]|1[0-7])(:?[0-5][0-9])?|18(:?00)?))`;
const BIGINT_RE = '[+-]?[0-9]+';
/** DECIMAL(18,6): at most 12 integer digits past leading zeros, at most 6 written fraction digits, one digit at least. */
const DECIMAL_RE = '[+-]?0*([0-9]{1,12}(\\.[0-9]{0,6})?|\\.[0-9]{1,6})';

const castTimestamp = (v: string): string =>
  `CASE WHEN regexp_full_match(${v}, ${literal(ZONED_RE)}) THEN CAST(TRY_CAST(${v} AS TIMESTAMPTZ) AS TIMESTAMP)
    WHEN regexp_full_match(${v}, ${literal(UTC_RE)}) THEN TRY_CAST(${v} AS TIMESTAMP) END`;

/**
 * The rarer spellings in the form the casts read: `t` and `z` upper-cased, `:00` seconds added to
 * `HH:MM` (only before a zone or the end: `HH:MM.5` stays a JS rejection).
 */
const spelledOut = (v: string): string =>
  `CASE WHEN substr(upper(${v}), 17, 1) IN ('', 'Z', '+', '-')
    THEN left(upper(${v}), 16) || ':00' || substr(upper(${v}), 17) ELSE upper(${v}) END`;

/** The value trimmed as JS would, cheaply when it starts and ends with a visible ASCII character. */
const trimmed = (v: string): string =>
  `CASE WHEN ascii(${v}) BETWEEN 33 AND 126 AND ascii(right(${v}, 1)) BETWEEN 33 AND 126 THEN ${v} ELSE trim(${v}, ${WS}) END`;

export interface NativeParseSql {
  /** The numbered file: `line<delimiter>field…` per data row, header and blank lines left out. */
  path: string;
  delimiter: string;
  fieldCount: number;
  indexes: Record<SchemaColumn, number>;
  fileIndex: number;
  /**
   * Where the normalized events go: NORMALIZED_EVENT_COLUMNS as a Parquet file (uncompressed: it
   * lives a few seconds), which the load reads twice (insert, change keys) much faster than a CSV.
   */
  eventsPath: string;
  /**
   * The file's fields are all ASCII with no whitespace but inner spaces (native-parse.ts checks):
   * each is then its own trimmed value and never blank, so the trims and blank tests go.
   */
  verbatim?: boolean;
}

/** COPY of the valid rows; DuckDB answers with the number written. */
export function nativeParseCopy(o: NativeParseSql): string {
  const columns = [`'source_line': 'BIGINT'`];
  for (let i = 0; i < o.fieldCount; i++) columns.push(`'c${i}': 'VARCHAR'`);
  const c = (column: SchemaColumn): string => `c${o.indexes[column]}`;
  const verbatim = o.verbatim === true;
  // Text is kept verbatim; blank (ASCII whitespace only) is NULL. A first visible ASCII character
  // settles it without a regex.
  const text = (column: SchemaColumn): string =>
    verbatim
      ? c(column)
      : `CASE WHEN ascii(${c(column)}) BETWEEN 33 AND 126 THEN ${c(column)}
      WHEN regexp_full_match(${c(column)}, '${WS_RE}') THEN NULL ELSE ${c(column)} END`;
  // Blank or not by any definition of whitespace: a row with a value only JS could classify goes there.
  const textOk = (column: SchemaColumn): string =>
    `(${c(column)} IS NULL OR ascii(${c(column)}) BETWEEN 33 AND 126 OR regexp_full_match(${c(column)}, '${WS_RE}')
      OR regexp_matches(${c(column)}, '[!-~]'))`;
  const trim = verbatim ? (v: string) => v : trimmed;
  const texts: SchemaColumn[] = [
    'resource_id',
    'region',
    'service_tier',
    'operation_type',
    'resource_type',
    'invoice_id',
    'currency',
  ];
  const textChecks = verbatim ? '' : `\n    AND ${texts.map(textOk).join('\n    AND ')}`;
  return `COPY (
  WITH src AS (
    SELECT * FROM read_csv(${literal(o.path)}, header = false, auto_detect = false, delim = ${literal(o.delimiter)},
      quote = '"', escape = '"', new_line = '\\n', strict_mode = true, null_padding = false,
      ignore_errors = false, columns = {${columns.join(', ')}})
  ), cleaned AS (
    SELECT *, ${trim(c('timestamp'))} AS ts_text, ${trim(c('user_id'))} AS user_text,
      ${trim(c('credit_usage'))} AS credit_text, ${trim(c('success'))} AS success_text
    FROM src
  ), typed AS (
    SELECT *,
      CASE WHEN regexp_full_match(ts_text, ${literal(ZONED_RE)}) THEN CAST(TRY_CAST(ts_text AS TIMESTAMPTZ) AS TIMESTAMP)
        WHEN regexp_full_match(ts_text, ${literal(UTC_RE)}) THEN TRY_CAST(ts_text AS TIMESTAMP)
        ELSE ${castTimestamp(spelledOut('ts_text'))} END AS ts,
      CASE WHEN regexp_full_match(user_text, ${literal(BIGINT_RE)}) THEN TRY_CAST(user_text AS BIGINT) END AS user_value,
      CASE WHEN regexp_full_match(credit_text, ${literal(DECIMAL_RE)}) THEN TRY_CAST(credit_text AS DECIMAL(18,6)) END AS credit_value,
      CASE WHEN success_text IN ('true', '1') THEN true WHEN success_text IN ('false', '0') THEN false
        WHEN lower(success_text) IN ('true', 'yes', 't', 'y') THEN true
        WHEN lower(success_text) IN ('false', 'no', 'f', 'n') THEN false END AS success_value
    FROM cleaned
  )
  SELECT ${o.fileIndex} AS file_index, source_line, CAST(ts AS DATE) AS event_date, ts AS "timestamp",
    ${text('resource_id')} AS resource_id, user_value AS user_id, credit_value AS credit_usage, ${text('region')} AS region,
    ${text('service_tier')} AS service_tier, ${text('operation_type')} AS operation_type, success_value AS success,
    ${text('resource_type')} AS resource_type, ${text('invoice_id')} AS invoice_id, ${text('currency')} AS currency
  FROM typed
  WHERE year(ts) BETWEEN 1000 AND 9999
    AND user_value IS NOT NULL AND credit_value IS NOT NULL AND success_value IS NOT NULL${textChecks}
) TO ${literal(o.eventsPath)} (FORMAT parquet, COMPRESSION uncompressed)`;
}

/** Staged relation of the batch's files the JS path parsed (CSV), beside the natively parsed ones. */
export const STAGED_CSV_EVENTS = 'staged_events_csv';

/**
 * `staged_events` (see sql/events.ts) over the natively parsed files, plus the CSV-staged ones when
 * the batch has both. Typed as NORMALIZED_EVENT_COLUMNS whatever the Parquet writer chose.
 */
export function stageNativeEvents(parquetPaths: readonly string[], withCsv: boolean): string {
  const columns = NORMALIZED_EVENT_COLUMNS.map(
    (c) => `CAST(${ident(c.name)} AS ${c.type}) AS ${ident(c.name)}`,
  );
  const parquet = `SELECT ${columns.join(', ')} FROM read_parquet([${parquetPaths.map(literal).join(', ')}])`;
  const csv = withCsv ? ` UNION ALL SELECT * FROM ${STAGED_CSV_EVENTS}` : '';
  return `CREATE OR REPLACE TEMP VIEW staged_events AS ${parquet}${csv}`;
}
