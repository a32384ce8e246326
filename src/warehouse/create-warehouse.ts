import type { DuckDBWarehouseOptions } from './duckdb/duckdb-warehouse.js';
import type { PostgresWarehouseOptions } from './postgres/postgres-warehouse.js';
import type { Warehouse } from './warehouse.js';

export interface WarehouseOptions extends DuckDBWarehouseOptions {
  /** A `postgres://` URL: opens PostgreSQL there instead, and the DuckDB options are not used. */
  databaseUrl?: string | undefined;
  /** Pool settings for PostgreSQL, when `databaseUrl` is set. */
  postgres?: Omit<PostgresWarehouseOptions, 'url'>;
}

/** Opens the configured warehouse. DuckDB is the embedded default; a database URL selects PostgreSQL. */
export async function openWarehouse(options: WarehouseOptions): Promise<Warehouse> {
  if (options.databaseUrl) {
    // Loaded only when asked for, so the embedded mode never pays for the PostgreSQL driver.
    const { PostgresWarehouse } = await import('./postgres/postgres-warehouse.js');
    return PostgresWarehouse.open({ ...options.postgres, url: options.databaseUrl });
  }
  // Likewise the scale-out mode never loads DuckDB's native module.
  const { DuckDBWarehouse } = await import('./duckdb/duckdb-warehouse.js');
  return DuckDBWarehouse.open(options);
}
