export type SqlRefusalCode =
  | 'empty_sql'
  | 'multiple_statements'
  | 'read_only'
  | 'timeout'
  | 'sql_error'
  | 'unsandboxed'
  | 'unsupported'
  | 'forbidden_function'
  | 'busy'
  | 'result_too_large'
  | 'shutting_down';

/** SQL the endpoint will not run, or that failed, with a code a client can act on. */
export class SqlRefusal extends Error {
  override name = 'SqlRefusal';
  constructor(
    readonly code: SqlRefusalCode,
    message: string,
    /** For `busy`: when to try again, in seconds. */
    readonly retryAfterSeconds?: number,
  ) {
    super(message);
  }
}

/** JSON bytes of one row as it goes out, the unit of BILLING_SQL_MAX_RESULT_BYTES. */
export const rowBytes = (row: unknown): number => Buffer.byteLength(JSON.stringify(row)) + 1;

/**
 * The rows that fit in `maxBytes` of JSON. None fitting is an error of its own: an empty,
 * "truncated" answer would read as "no rows".
 */
export function capRowsByBytes<T>(rows: readonly T[], maxBytes: number): { rows: T[]; cut: boolean } {
  let used = 2;
  for (let i = 0; i < rows.length; i++) {
    used += rowBytes(rows[i]);
    if (used > maxBytes) {
      if (i === 0) throw tooLarge(maxBytes);
      return { rows: rows.slice(0, i), cut: true };
    }
  }
  return { rows: [...rows], cut: false };
}

export const tooLarge = (maxBytes: number) =>
  new SqlRefusal(
    'result_too_large',
    `the first row alone is larger than the ${maxBytes}-byte result cap (BILLING_SQL_MAX_RESULT_BYTES); select fewer or smaller columns, or aggregate`,
  );
