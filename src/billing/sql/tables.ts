import { type SqlDialect, sqlDialect } from '../../warehouse/dialect.js';

/**
 * The event columns an aggregate may group by. The change log records their values for every row a
 * load adds or removes, so each aggregate can rebuild exactly the groups that changed.
 */
export const CHANGE_KEY_COLUMNS = [
  { name: 'event_date', type: 'DATE' },
  { name: 'user_id', type: 'BIGINT' },
  { name: 'region', type: 'VARCHAR' },
  { name: 'service_tier', type: 'VARCHAR' },
  { name: 'resource_type', type: 'VARCHAR' },
  { name: 'operation_type', type: 'VARCHAR' },
  { name: 'currency', type: 'VARCHAR' },
] as const;

/**
 * Held (in a transaction) while creating the ingest tables: CREATE … IF NOT EXISTS from two
 * processes at once can still collide in PostgreSQL's catalog.
 */
export const SETUP_LOCK = 'setup:ingest';

/** The path day's columns, by which PostgreSQL partitions billing_events (one file, one partition). */
export const EVENT_DAY_COLUMNS = ['year', 'month', 'day'] as const;

/**
 * The billing warehouse's base tables. Money is DECIMAL(18,6) on every path; sums widen to
 * DECIMAL(38,6) in DuckDB, never DOUBLE. Every statement is safe to run again, and from several
 * processes at once under one lock (see the assets' setup).
 */
export const billingTables = (dialect: SqlDialect): string[] => [
  `CREATE TABLE IF NOT EXISTS billing_files (
    source_key VARCHAR NOT NULL,
    partition DATE,
    size BIGINT NOT NULL,
    version VARCHAR NOT NULL,
    status VARCHAR NOT NULL,
    needs_load BOOLEAN NOT NULL,
    first_seen_at TIMESTAMP NOT NULL,
    last_seen_at TIMESTAMP NOT NULL,
    loaded_version VARCHAR,
    loaded_at TIMESTAMP,
    loaded_run_id VARCHAR,
    rejected_version VARCHAR,
    row_count BIGINT,
    rejected_row_count BIGINT,
    error VARCHAR,
    content_hash VARCHAR,
    duplicate_of VARCHAR
  )`,
  `CREATE TABLE IF NOT EXISTS billing_events (
    "timestamp" TIMESTAMP NOT NULL,
    resource_id VARCHAR,
    user_id BIGINT NOT NULL,
    credit_usage DECIMAL(18,6) NOT NULL,
    region VARCHAR,
    service_tier VARCHAR,
    operation_type VARCHAR,
    success BOOLEAN NOT NULL,
    resource_type VARCHAR,
    invoice_id VARCHAR,
    currency VARCHAR,
    year INTEGER NOT NULL,
    month INTEGER NOT NULL,
    day INTEGER NOT NULL,
    event_date DATE NOT NULL,
    source_key VARCHAR NOT NULL,
    source_line BIGINT NOT NULL,
    normalized_credit_usage DECIMAL(18,6)
  )${dialect.partitionByDay(EVENT_DAY_COLUMNS)}`,
  `CREATE TABLE IF NOT EXISTS rejected_rows (
    source_key VARCHAR NOT NULL,
    source_version VARCHAR NOT NULL,
    line_number BIGINT NOT NULL,
    reason VARCHAR NOT NULL,
    raw VARCHAR,
    run_id VARCHAR NOT NULL,
    rejected_at TIMESTAMP NOT NULL
  )`,
  `CREATE TABLE IF NOT EXISTS rejected_files (
    source_key VARCHAR NOT NULL,
    source_version VARCHAR NOT NULL,
    reason VARCHAR NOT NULL,
    run_id VARCHAR NOT NULL,
    rejected_at TIMESTAMP NOT NULL
  )`,
  // The keys touched by each file load (old rows and new), consumed by the aggregates through their
  // cursors. Persisting them is what makes a crash between ingest and aggregation recoverable.
  'CREATE SEQUENCE IF NOT EXISTS billing_change_seq START 1',
  `CREATE TABLE IF NOT EXISTS billing_event_changes (
    change_id BIGINT NOT NULL,
    ${CHANGE_KEY_COLUMNS.map((c) => `${c.name} ${c.type}`).join(',\n    ')}
  )`,
  ...dialect.lookupIndexes([
    // One row per file: also what keeps two concurrent listings from adding a file twice.
    'CREATE UNIQUE INDEX IF NOT EXISTS billing_files_source_key ON billing_files (source_key)',
    // A unique key of a partitioned table must hold the partition columns. It makes a doubled
    // event impossible, and serves replacing a file's rows and the per-file reconciliation.
    `CREATE UNIQUE INDEX IF NOT EXISTS billing_events_line ON billing_events (source_key, source_line, ${EVENT_DAY_COLUMNS.join(', ')})`,
    // Aggregates rebuild the groups of changed event days.
    'CREATE INDEX IF NOT EXISTS billing_events_event_date ON billing_events (event_date)',
    'CREATE INDEX IF NOT EXISTS rejected_rows_source_key ON rejected_rows (source_key)',
    'CREATE INDEX IF NOT EXISTS rejected_files_source_key ON rejected_files (source_key)',
    // Every load of a file with rows looks for a loaded copy of its content.
    'CREATE INDEX IF NOT EXISTS billing_files_content_hash ON billing_files (content_hash)',
    'CREATE INDEX IF NOT EXISTS billing_event_changes_id ON billing_event_changes (change_id)',
  ]),
];

/** The DuckDB tables (for DuckDB-only tools such as the raw-DuckDB benchmark). */
export const BILLING_TABLES = billingTables(sqlDialect('duckdb'));

/**
 * Warehouses made before currency normalization: the column appears empty and the first fx_rates
 * run asks billing_events to fill it for every event. Run only when missing: ALTER TABLE locks the
 * table exclusively even when there is nothing to add, which would stall other workers' loads.
 */
export const HAS_NORMALIZED_COLUMN = `SELECT count(*) AS n FROM information_schema.columns
  WHERE table_name = 'billing_events' AND column_name = 'normalized_credit_usage'`;
export const ADD_NORMALIZED_COLUMN =
  'ALTER TABLE billing_events ADD COLUMN IF NOT EXISTS normalized_credit_usage DECIMAL(18,6)';

/**
 * Warehouses made before keys without a day were recorded (`partition` NULL, status `rejected`) and
 * before content hashes: what `billing_files` lacks, from information_schema. Run only what is
 * missing, for the same reason as ADD_NORMALIZED_COLUMN.
 */
export const BILLING_FILES_COLUMNS = `SELECT column_name, is_nullable FROM information_schema.columns
  WHERE table_name = 'billing_files'`;

export function billingFilesMigration(
  dialect: SqlDialect,
  columns: readonly { column_name: string; is_nullable: string }[],
): string[] {
  const byName = new Map(columns.map((c) => [c.column_name, c.is_nullable]));
  const out: string[] = [];
  if (byName.get('partition') === 'NO') {
    // DuckDB cannot alter a column of an indexed table; older DuckDB warehouses had this index
    // (the current ones create none, see lookupIndexes), and PostgreSQL keeps its own.
    if (dialect.name === 'duckdb') out.push('DROP INDEX IF EXISTS billing_files_source_key');
    out.push('ALTER TABLE billing_files ALTER COLUMN partition DROP NOT NULL');
  }
  for (const column of ['content_hash', 'duplicate_of']) {
    if (!byName.has(column)) out.push(`ALTER TABLE billing_files ADD COLUMN IF NOT EXISTS ${column} VARCHAR`);
  }
  return out;
}

/** Columns of the normalized CSV the ingest writes, in file order, with their types; `file_index` ties a line to its file in the batch. */
export const NORMALIZED_EVENT_COLUMNS = [
  { name: 'file_index', type: 'INTEGER' },
  { name: 'source_line', type: 'BIGINT' },
  { name: 'event_date', type: 'DATE' },
  { name: 'timestamp', type: 'TIMESTAMP' },
  { name: 'resource_id', type: 'VARCHAR' },
  { name: 'user_id', type: 'BIGINT' },
  { name: 'credit_usage', type: 'DECIMAL(18,6)' },
  { name: 'region', type: 'VARCHAR' },
  { name: 'service_tier', type: 'VARCHAR' },
  { name: 'operation_type', type: 'VARCHAR' },
  { name: 'success', type: 'BOOLEAN' },
  { name: 'resource_type', type: 'VARCHAR' },
  { name: 'invoice_id', type: 'VARCHAR' },
  { name: 'currency', type: 'VARCHAR' },
] as const;

export const REJECTED_ROW_COLUMNS = [
  { name: 'file_index', type: 'INTEGER' },
  { name: 'line_number', type: 'BIGINT' },
  { name: 'reason', type: 'VARCHAR' },
  { name: 'raw', type: 'VARCHAR' },
] as const;
