import { createRequire } from 'node:module';
import type * as DuckDBApi from '@duckdb/node-api';
import type { DuckDBTimestampValue, DuckDBValueConverter } from '@duckdb/node-api';
import type { Cell, SqlValue } from '../warehouse.js';

// Required, not imported, like duckdb-warehouse.ts: Node's named-export scan costs every start.
const {
  arrayFromArrayValue,
  arrayFromListValue,
  createDuckDBValueConverter,
  DuckDBTypeId,
  JsonDuckDBValueConverter,
  objectFromStructValue,
} = createRequire(import.meta.url)('@duckdb/node-api') as typeof DuckDBApi;
type DuckDBTypeId = DuckDBApi.DuckDBTypeId;

const MAX_SAFE = BigInt(Number.MAX_SAFE_INTEGER);
const MIN_SAFE = BigInt(Number.MIN_SAFE_INTEGER);

/** Integers become numbers while exact, else exact strings; money stays a decimal string. */
const integerCell: DuckDBValueConverter<Cell> = (value) => {
  const n = typeof value === 'bigint' ? value : BigInt(String(value));
  return n <= MAX_SAFE && n >= MIN_SAFE ? Number(n) : n.toString();
};

/** `2025-04-23T10:00:00.123456Z`: ISO-8601 UTC keeping DuckDB's microseconds. */
export function isoFromMicros(micros: bigint): string {
  // Floor, not BigInt's truncation toward zero: before 1970 the fraction belongs to the earlier second.
  let seconds = micros / 1_000_000n;
  if (micros < 0n && seconds * 1_000_000n !== micros) seconds -= 1n;
  const frac = micros - seconds * 1_000_000n;
  const base = new Date(Number(seconds) * 1000).toISOString().slice(0, 19);
  return frac === 0n ? `${base}Z` : `${base}.${frac.toString().padStart(6, '0')}Z`;
}

const timestampCell: DuckDBValueConverter<Cell> = (value) => {
  const ts = value as DuckDBTimestampValue;
  return ts.isFinite ? isoFromMicros(ts.micros) : String(ts);
};

const byType = (_typeId: DuckDBTypeId, value: unknown, type: unknown): Cell =>
  JsonDuckDBValueConverter(value as never, type as never, JsonDuckDBValueConverter) as Cell;

/**
 * The converter behind every query result: JSON-safe, exact for money, ISO for time.
 * Built from the library's JSON converter with integers and timestamps overridden.
 */
export const cellConverter: DuckDBValueConverter<Cell> = createDuckDBValueConverter<Cell>(
  Object.fromEntries(
    Object.values(DuckDBTypeId)
      .filter((id): id is DuckDBTypeId => typeof id === 'number')
      .map((id) => {
        switch (id) {
          case DuckDBTypeId.BIGINT:
          case DuckDBTypeId.UBIGINT:
          case DuckDBTypeId.HUGEINT:
          case DuckDBTypeId.UHUGEINT:
            return [id, integerCell];
          case DuckDBTypeId.TIMESTAMP:
          case DuckDBTypeId.TIMESTAMP_TZ:
            return [id, timestampCell];
          case DuckDBTypeId.LIST:
            return [id, arrayFromListValue];
          case DuckDBTypeId.ARRAY:
            return [id, arrayFromArrayValue];
          case DuckDBTypeId.STRUCT:
            return [id, objectFromStructValue];
          default:
            return [id, (value: unknown, type: unknown) => byType(id, value, type)];
        }
      }),
  ) as Record<DuckDBTypeId, DuckDBValueConverter<Cell>>,
);

/** Bind values: JS numbers that are integers bind as BIGINT so they compare with integer columns. */
export function toBindValues(params: readonly SqlValue[]): (string | number | boolean | bigint | null)[] {
  return params.map((p) => (typeof p === 'number' && Number.isInteger(p) ? BigInt(p) : p));
}
