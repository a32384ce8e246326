import type { Warehouse } from '../warehouse.js';
import { rethrowDuckDBError } from './duckdb-errors.js';
import type { DuckDBWarehouse } from './duckdb-warehouse.js';

/** Runs one statement that DuckDB answers with a row count (COPY … TO). */
export type CountedStatement = (sql: string) => Promise<number>;

/**
 * For an embedded warehouse, a runner of statements on a connection of their own: a file's parse
 * (a COPY reading a local file, touching no table) then runs beside the load transaction of the
 * previous batch instead of waiting for the write lock, and never on the readers' connection.
 * Null for any other warehouse. Told apart without importing the driver (see lazy imports).
 */
export function ownConnectionRunner(warehouse: Warehouse): CountedStatement | null {
  if (warehouse.dialect !== 'duckdb' || !('openConnection' in warehouse)) return null;
  const duckdb = warehouse as DuckDBWarehouse;
  return async (sql) => {
    const connection = await duckdb.openConnection();
    try {
      const reader = await connection.runAndReadAll(sql);
      const [row] = reader.getRows();
      return Number(row?.[0] ?? 0);
    } catch (error) {
      rethrowDuckDBError(error, duckdb.location);
    } finally {
      connection.closeSync();
    }
  };
}
