import { SCHEMA_COLUMNS, type SchemaColumn } from '../schema.js';
import type { CsvRecord } from './csv-reader.js';
import { type Problem, parseTimestamp } from './timestamp.js';

/** Where each schema column sits in the file's records, and how many fields every record must have. */
export type HeaderMap = { indexes: Record<SchemaColumn, number>; fieldCount: number };

/** A row ready for DuckDB (one CSV line in `SCHEMA_COLUMNS` order, no line ending), or why it was rejected. */
export type Normalized = { ok: true; csv: string } | { ok: false; reason: string };

/** Why a header cannot be used; the file is rejected whole with this reason. */
export type HeaderProblem =
  | { kind: 'missing'; columns: SchemaColumn[] }
  | { kind: 'duplicated'; column: SchemaColumn; positions: number[] };

/**
 * Finds the schema columns in a header record: names are trimmed and compared case-insensitively, in any
 * order; unknown columns are ignored (repeated or not). A schema column named twice makes the file
 * ambiguous (which `credit_usage` is billed?), so it is a problem, not a guess.
 */
export function mapHeader(
  fields: string[],
): { ok: true; header: HeaderMap } | { ok: false; problem: HeaderProblem } {
  const positions = new Map<string, number[]>();
  fields.forEach((name, index) => {
    const key = name.trim().toLowerCase();
    const list = positions.get(key);
    if (list) list.push(index);
    else positions.set(key, [index]);
  });
  const missing: SchemaColumn[] = [];
  const indexes = {} as Record<SchemaColumn, number>;
  for (const column of SCHEMA_COLUMNS) {
    const found = positions.get(column);
    if (found === undefined) {
      missing.push(column);
      continue;
    }
    if (found.length > 1) return { ok: false, problem: { kind: 'duplicated', column, positions: found } };
    indexes[column] = found[0] as number;
  }
  if (missing.length > 0) return { ok: false, problem: { kind: 'missing', columns: missing } };
  return { ok: true, header: { indexes, fieldCount: fields.length } };
}

/** The rejection reason for a header problem, naming the columns (1-based positions, as a spreadsheet counts). */
export function headerProblemReason(problem: HeaderProblem): string {
  switch (problem.kind) {
    case 'missing':
      return `missing required column(s): ${problem.columns.join(', ')} (the header must name all 11 schema columns)`;
    case 'duplicated':
      return `column ${problem.column} appears ${problem.positions.length} times in the header (columns ${problem.positions
        .map((p) => p + 1)
        .join(', ')}): the file is ambiguous; keep one`;
    default: {
      const unreachable: never = problem;
      throw new Error(`unknown header problem ${String(unreachable)}`);
    }
  }
}

const EMPTY: Problem = { problem: 'is empty' };
const NOT_INTEGER: Problem = { problem: 'is not an integer' };
const NOT_INT64: Problem = { problem: 'does not fit in a signed 64-bit integer' };
const NOT_DECIMAL: Problem = { problem: 'is not a decimal number' };
const FRACTION_TOO_LONG: Problem = { problem: 'has more than 6 fraction digits' };
const INTEGER_TOO_LONG: Problem = { problem: 'has more than 12 integer digits' };
const NOT_BOOLEAN: Problem = { problem: 'is not a boolean (true/false, 1/0, yes/no, t/f, y/n)' };

const INT64_MAX = '9223372036854775807';
const INT64_MIN_ABS = '9223372036854775808';
const SHOWN_VALUE_LENGTH = 40;
/** Scratch for building output lines; safe to share since normalizeRecord never yields. */
const OUTPUT: string[] = new Array<string>(SCHEMA_COLUMNS.length).fill('');

/**
 * Validates a record against the schema rules and encodes it for DuckDB's CSV reader: NULL is an empty
 * unquoted field, text is always double-quoted (quotes doubled), numbers, booleans and timestamps are bare.
 * The first failing rule decides the reason.
 *
 * Text columns are kept verbatim (not trimmed) so the warehouse holds exactly what the file said; only a
 * value that is empty or all whitespace (as `String.prototype.trim` defines it) becomes NULL. Numeric,
 * boolean and timestamp values are trimmed before parsing.
 */
export function normalizeRecord(record: CsvRecord, header: HeaderMap): Normalized {
  if (record.error !== undefined) return { ok: false, reason: record.error };
  const fields = record.fields;
  if (fields.length !== header.fieldCount) {
    return {
      ok: false,
      reason: `expected ${header.fieldCount} fields as in the header, found ${fields.length}`,
    };
  }
  const ix = header.indexes;

  const rawTimestamp = fields[ix.timestamp] ?? '';
  const timestamp = isBlank(rawTimestamp) ? EMPTY : parseTimestamp(rawTimestamp);
  if (typeof timestamp !== 'string') return reject('timestamp', rawTimestamp, timestamp);

  const rawUserId = fields[ix.user_id] ?? '';
  const userId = parseBigint(rawUserId);
  if (typeof userId !== 'string') return reject('user_id', rawUserId, userId);

  const rawCredit = fields[ix.credit_usage] ?? '';
  const credit = parseDecimal(rawCredit);
  if (typeof credit !== 'string') return reject('credit_usage', rawCredit, credit);

  const rawSuccess = fields[ix.success] ?? '';
  const success = parseBoolean(rawSuccess);
  if (typeof success !== 'string') return reject('success', rawSuccess, success);

  // Joining a reused array yields one flat string; a long template literal would leave a tree of ~20
  // cons strings per row that keeps every field alive and costs noticeably more garbage collection.
  const out = OUTPUT;
  out[0] = timestamp;
  out[1] = text(fields[ix.resource_id]);
  out[2] = userId;
  out[3] = credit;
  out[4] = text(fields[ix.region]);
  out[5] = text(fields[ix.service_tier]);
  out[6] = text(fields[ix.operation_type]);
  out[7] = success;
  out[8] = text(fields[ix.resource_type]);
  out[9] = text(fields[ix.invoice_id]);
  out[10] = text(fields[ix.currency]);
  const csv = out.join(',');
  return { ok: true, csv };
}

function reject(column: SchemaColumn, value: string, problem: Problem): Normalized {
  if (problem === EMPTY) return { ok: false, reason: `${column} is empty` };
  // JSON quoting makes control characters and surrounding spaces visible in the reason; escapes can make
  // it longer than the value, hence the second cut.
  let shown = JSON.stringify(
    value.length > SHOWN_VALUE_LENGTH ? `${value.slice(0, SHOWN_VALUE_LENGTH)}…` : value,
  );
  if (shown.length > SHOWN_VALUE_LENGTH + 3) shown = `${shown.slice(0, SHOWN_VALUE_LENGTH + 1)}…"`;
  return { ok: false, reason: `${column} ${shown} ${problem.problem}` };
}

function isBlank(value: string): boolean {
  if (value.length === 0) return true;
  const c = value.charCodeAt(0);
  // A visible ASCII first character settles it without allocating a trimmed copy.
  return (c <= 32 || c > 126) && value.trim().length === 0;
}

function trimmed(value: string): string {
  const len = value.length;
  if (len === 0) return value;
  const a = value.charCodeAt(0);
  const b = value.charCodeAt(len - 1);
  return a <= 32 || a > 126 || b <= 32 || b > 126 ? value.trim() : value;
}

function isDigitAt(s: string, i: number): boolean {
  const d = s.charCodeAt(i) - 48;
  return d >= 0 && d <= 9;
}

/** Optional sign and digits, within BIGINT; returns the canonical form (no `+`, no leading zeros, no `-0`). */
function parseBigint(value: string): string | Problem {
  const s = trimmed(value);
  const len = s.length;
  if (len === 0) return EMPTY;
  const c = s.charCodeAt(0);
  const negative = c === 45; /* - */
  let i = negative || c === 43 /* + */ ? 1 : 0;
  if (i === len) return NOT_INTEGER;
  for (let k = i; k < len; k++) if (!isDigitAt(s, k)) return NOT_INTEGER;
  while (i < len - 1 && s.charCodeAt(i) === 48) i++;
  const n = len - i;
  if (n > 19 || (n === 19 && s.slice(i) > (negative ? INT64_MIN_ABS : INT64_MAX))) return NOT_INT64;
  if (i === 0) return s;
  const digits = s.slice(i);
  return negative && digits !== '0' ? `-${digits}` : digits;
}

/**
 * A DECIMAL(18,6) literal: `[+-]` then digits with an optional `.` and fraction (`1.`, `.5` allowed).
 * Checked as text so no value ever passes through a binary float. Leading zeros do not count towards the
 * 12 integer digits, but every written fraction digit counts towards the 6 (a 7th digit claims a
 * precision the column cannot hold, even if it is 0). Returns the canonical form: no `+`, no leading or
 * trailing zeros, no `-0`, e.g. `-0012.50` -> `-12.5`, `.5` -> `0.5`, `3.000` -> `3`.
 */
function parseDecimal(value: string): string | Problem {
  const s = trimmed(value);
  const len = s.length;
  if (len === 0) return EMPTY;
  const c = s.charCodeAt(0);
  const negative = c === 45;
  let i = negative || c === 43 ? 1 : 0;
  const intStart = i;
  while (i < len && isDigitAt(s, i)) i++;
  const intEnd = i;
  let fracStart = i;
  let fracEnd = i;
  if (i < len && s.charCodeAt(i) === 46 /* . */) {
    fracStart = ++i;
    while (i < len && isDigitAt(s, i)) i++;
    fracEnd = i;
  }
  if (i !== len || (intEnd === intStart && fracEnd === fracStart)) return NOT_DECIMAL;
  if (fracEnd - fracStart > 6) return FRACTION_TOO_LONG;
  let sig = intStart;
  while (sig < intEnd && s.charCodeAt(sig) === 48) sig++;
  if (intEnd - sig > 12) return INTEGER_TOO_LONG;
  let fe = fracEnd;
  while (fe > fracStart && s.charCodeAt(fe - 1) === 48) fe--;
  if (sig === intEnd && fe === fracStart) return '0';
  const hasFraction = fe > fracStart;
  // Already canonical (the usual case): no sign, no leading zero, and either no `.` or a fraction without
  // trailing zeros.
  if (sig === 0 && sig < intEnd && (hasFraction ? fe === len : intEnd === len)) return s;
  const integer = sig < intEnd ? s.slice(sig, intEnd) : '0';
  const body = hasFraction ? `${integer}.${s.slice(fracStart, fe)}` : integer;
  return negative ? `-${body}` : body;
}

function parseBoolean(value: string): string | Problem {
  switch (value) {
    case 'true':
    case '1':
      return 'true';
    case 'false':
    case '0':
      return 'false';
  }
  const s = value.trim();
  if (s.length === 0) return EMPTY;
  if (s.length > 5) return NOT_BOOLEAN;
  switch (s.toLowerCase()) {
    case 'true':
    case '1':
    case 'yes':
    case 't':
    case 'y':
      return 'true';
    case 'false':
    case '0':
    case 'no':
    case 'f':
    case 'n':
      return 'false';
  }
  return NOT_BOOLEAN;
}

/** NULL (empty) for missing or blank values, otherwise the value quoted for CSV. */
function text(value: string | undefined): string {
  if (value === undefined || isBlank(value)) return '';
  return value.indexOf('"') === -1 ? `"${value}"` : `"${value.replaceAll('"', '""')}"`;
}
