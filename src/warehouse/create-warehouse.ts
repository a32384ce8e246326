import { DuckDBWarehouse, type DuckDBWarehouseOptions } from './duckdb/duckdb-warehouse.js';
import type { Warehouse } from './warehouse.js';

export type WarehouseOptions = DuckDBWarehouseOptions;

/** Opens the configured warehouse. DuckDB is the embedded default; other dialects plug in here. */
export function openWarehouse(options: WarehouseOptions): Promise<Warehouse> {
  return DuckDBWarehouse.open(options);
}
