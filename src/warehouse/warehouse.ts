/** A value bound to a `?` / `$n` placeholder. */
export type SqlValue = string | number | boolean | bigint | null;

/** A JSON-safe cell: DECIMAL and out-of-range integers as exact strings, TIMESTAMP as ISO-8601 UTC. */
export type Cell = string | number | boolean | null | Cell[] | { [key: string]: Cell };
export type Row = Record<string, Cell>;

export interface ColumnInfo {
  name: string;
  type: string;
}

export interface QueryResult {
  columns: ColumnInfo[];
  rows: Row[];
}

/** One connection's worth of SQL: the same surface inside and outside a transaction. */
export interface SqlSession {
  exec(sql: string, params?: readonly SqlValue[]): Promise<void>;
  all<T = Row>(sql: string, params?: readonly SqlValue[]): Promise<T[]>;
  query(sql: string, params?: readonly SqlValue[]): Promise<QueryResult>;
  /**
   * Bulk-inserts a headerless CSV file written by the pipeline (values already validated and
   * normalized) into `table`, with `constants` added to every row. This is the dialect seam for
   * bulk loads: DuckDB reads the file with `read_csv`, PostgreSQL would `COPY`.
   */
  insertCsv(options: InsertCsvOptions): Promise<number>;
}

export interface InsertCsvOptions {
  table: string;
  path: string;
  /** Columns of the file, in order, with their SQL types. */
  columns: readonly ColumnInfo[];
  constants?: Readonly<Record<string, SqlValue>>;
}

export interface Warehouse extends SqlSession {
  readonly dialect: 'duckdb';
  /** Where the warehouse lives (file path), for messages. */
  readonly location: string;
  /**
   * Runs `fn` in one write transaction: committed when it resolves, rolled back when it throws.
   * Writes are serialized: the warehouse has one writer.
   */
  transaction<T>(fn: (tx: SqlSession) => Promise<T>): Promise<T>;
  close(): Promise<void>;
}

/** Quotes an identifier for SQL. */
export function ident(name: string): string {
  return `"${name.replaceAll('"', '""')}"`;
}

/** Quotes a string literal for SQL (for the few places parameters cannot go, e.g. file paths in DDL). */
export function literal(value: string): string {
  return `'${value.replaceAll("'", "''")}'`;
}
