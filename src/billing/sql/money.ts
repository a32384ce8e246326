/**
 * Exact money arithmetic in SQL. DuckDB divides DECIMALs as DOUBLE (so does `avg`), which would put
 * floating point on the money path; these helpers divide in integer micro-units instead. Portable:
 * `div(a, b)` (the integer quotient, truncated) is built into PostgreSQL and a macro the DuckDB
 * warehouse installs; PostgreSQL gets DuckDB's `round(DOUBLE, n)` from its warehouse likewise.
 */

/**
 * The mean of a DECIMAL(_,6) sum over a count, rounded half away from zero to 6 fraction digits,
 * as DECIMAL(38,6).
 */
export function exactMean(sum: string, count: string): string {
  const micros = `CAST((${sum}) * 1000000 AS DECIMAL(38,0))`;
  return `CAST(CAST(sign(${micros}) * div(2 * abs(${micros}) + (${count}), 2 * (${count})) AS DECIMAL(38,0)) * CAST(0.000001 AS DECIMAL(7,6)) AS DECIMAL(38,6))`;
}

/** A ratio of two counts (not money) as DECIMAL(9,6), e.g. a success rate. */
export function ratio(part: string, whole: string): string {
  return `CAST(round(CAST(${part} AS DOUBLE PRECISION) / nullif(${whole}, 0), 6) AS DECIMAL(9,6))`;
}
