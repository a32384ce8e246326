import type { Warehouse } from '../../src/warehouse/warehouse.js';

/**
 * Attempts to make POST /api/sql write, persist, take the warehouse down or reveal server paths,
 * from the attack pass of issue 15 and their relatives. One list, run against DuckDB
 * (test/web/api-sql.test.ts) and against both backends (test/server/api-postgres.test.ts); after
 * each the warehouse must be unchanged (see `fingerprint`).
 */
export const ESCAPES: readonly string[] = [
  'EXPLAIN/**/ANALYZE UPDATE billing_events SET credit_usage=credit_usage*1000',
  'EXPLAIN\nANALYZE UPDATE billing_events SET credit_usage = credit_usage * 1000',
  'EXPLAIN -- comment\n ANALYSE DELETE FROM runs',
  'EXPLAIN (FORMAT JSON, ANALYZE) DELETE FROM runs',
  'EXPLAIN (ANALYZE) DROP TABLE runs',
  'EXPLAIN ANALYZE CREATE TABLE evil AS SELECT 1',
  'DROP TABLE runs',
  'DELETE FROM runs',
  'UPDATE billing_events SET credit_usage = 0',
  'INSERT INTO runs SELECT * FROM runs',
  'CREATE TABLE evil AS SELECT 1',
  'WITH d AS (DELETE FROM runs RETURNING *) SELECT count(*) FROM d',
  'SELECT 1; DELETE FROM runs',
  'BEGIN; DELETE FROM runs; COMMIT',
  "SET memory_limit='1MB'",
  "SET GLOBAL memory_limit='1MB'",
  'CHECKPOINT',
  'FORCE CHECKPOINT',
  'CALL checkpoint()',
  'SELECT * FROM checkpoint()',
  'SELECT * FROM force_checkpoint()',
  'SELECT checkpoint()',
  "SELECT nextval('check_result_seq')",
  "SELECT currval('check_result_seq')",
  'SELECT setseed(0.5)',
  "SELECT current_setting('temp_directory')",
  "SELECT current_setting('data_directory')",
  'SELECT * FROM duckdb_settings()',
  'SELECT * FROM duckdb_settings',
  'SELECT * FROM pg_catalog.pg_settings',
  'SELECT * FROM pg_settings',
  'SELECT path FROM duckdb_databases()',
  'SELECT * FROM duckdb_databases',
  'SELECT * FROM duckdb_temporary_files()',
  'SELECT * FROM duckdb_extensions()',
  'PRAGMA database_list',
  "PRAGMA memory_limit='1MB'",
  'SHOW config_file',
  'SHOW data_directory',
  "ATTACH ':memory:' AS other",
  "COPY runs TO '/tmp/api-sql-escape.csv'",
  "EXPORT DATABASE '/tmp/api-sql-escape'",
  "SELECT * FROM read_text('/etc/passwd')",
  "SELECT * FROM glob('/*')",
  "SELECT * FROM query('DELETE FROM runs')",
  "SELECT * FROM query_table('runs')",
  "SELECT * FROM sniff_csv('/etc/passwd')",
  "SELECT pg_read_file('/etc/passwd')",
  'LOAD json',
  'INSTALL httpfs',
];

/**
 * The escapes that DuckDB's read-only, rolled-back transaction alone (layer 2) must hold, with the
 * parser layer switched off: every write to the database. SET and CHECKPOINT are not
 * transactional; only the parser layer keeps those out (docs/security.md).
 */
export const TRANSACTIONAL_ESCAPES: readonly string[] = [
  'EXPLAIN/**/ANALYZE UPDATE billing_events SET credit_usage=credit_usage*1000',
  'EXPLAIN (FORMAT JSON, ANALYZE) DELETE FROM runs',
  'EXPLAIN ANALYZE CREATE TABLE evil AS SELECT 1',
  'DROP TABLE runs',
  'DELETE FROM runs',
  'UPDATE billing_events SET credit_usage = 0',
  'INSERT INTO runs SELECT * FROM runs',
  'CREATE TABLE evil AS SELECT 1',
  "SELECT nextval('check_result_seq')",
  "SELECT * FROM query('DELETE FROM runs')",
];

/** What an escape could change: billed amounts, the run history, the tables, a sequence, the memory limit. */
export async function fingerprint(warehouse: Warehouse): Promise<unknown> {
  const [row] = await warehouse.all(
    `SELECT
       (SELECT CAST(sum(credit_usage) AS VARCHAR) FROM billing_events) AS credits,
       (SELECT count(*) FROM billing_events) AS events,
       (SELECT count(*) FROM runs) AS runs,
       (SELECT count(*) FROM daily_aggregates) AS days,
       (SELECT string_agg(table_name, ',' ORDER BY table_name) FROM information_schema.tables
         WHERE table_schema NOT IN ('pg_catalog', 'information_schema')) AS tables`,
  );
  const settings =
    warehouse.dialect === 'duckdb'
      ? await warehouse.all("SELECT current_setting('memory_limit') AS memory_limit")
      : [];
  return { ...row, settings };
}
