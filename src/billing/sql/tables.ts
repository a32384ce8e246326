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
 * The billing warehouse's base tables. Money is DECIMAL(18,6) on every path; sums widen to
 * DECIMAL(38,6) in DuckDB, never DOUBLE.
 */
export const BILLING_TABLES = [
  `CREATE TABLE IF NOT EXISTS billing_files (
    source_key VARCHAR NOT NULL,
    partition DATE NOT NULL,
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
    error VARCHAR
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
  )`,
  // Warehouses made before currency normalization: the column appears empty and the first fx_rates
  // run asks billing_events to fill it for every event.
  'ALTER TABLE billing_events ADD COLUMN IF NOT EXISTS normalized_credit_usage DECIMAL(18,6)',
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
];

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
