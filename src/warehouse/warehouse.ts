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

/**
 * One connection's worth of SQL, the same inside and outside a transaction. Every dialect provides
 * `utc_now()`: the current instant as a naive UTC TIMESTAMP, whatever the process's time zone.
 */
export interface SqlSession {
  exec(sql: string, params?: readonly SqlValue[]): Promise<void>;
  all<T = Row>(sql: string, params?: readonly SqlValue[]): Promise<T[]>;
  query(sql: string, params?: readonly SqlValue[]): Promise<QueryResult>;
  /**
   * Makes headerless CSV files written by the pipeline (values already validated and normalized)
   * queryable as the temporary relation `name`. This is the dialect seam for bulk loads: DuckDB
   * reads the files in place with `read_csv`; PostgreSQL would `COPY` them into a temp table.
   */
  stageCsv(options: StageCsvOptions): Promise<void>;
  /**
   * Takes a lock named `key` until the transaction ends: how concurrent writers (scale-out workers)
   * keep apart on one file, one day or one change log. `shared` holders exclude only `exclusive`
   * ones. A no-op where the warehouse has a single writer anyway (DuckDB); PostgreSQL uses
   * transaction-level advisory locks. Only meaningful inside `transaction`.
   */
  lock(key: string, mode?: 'exclusive' | 'shared'): Promise<void>;
}

export interface StageCsvOptions {
  name: string;
  paths: readonly string[];
  /** Columns of the files, in order, with their SQL types. */
  columns: readonly ColumnInfo[];
}

export interface Warehouse extends SqlSession {
  readonly dialect: 'duckdb' | 'postgres';
  /** Where the warehouse lives (file path), for messages. */
  readonly location: string;
  /**
   * Runs `fn` in one write transaction: committed when it resolves, rolled back when it throws.
   * Writes are serialized: the warehouse has one writer.
   */
  transaction<T>(fn: (tx: SqlSession) => Promise<T>): Promise<T>;
  /**
   * Runs `fn` while holding the lock `key` across processes (not bound to a transaction): e.g.
   * creating tables when several workers start at once. Just runs `fn` where there is one process.
   */
  exclusive<T>(key: string, fn: () => Promise<T>): Promise<T>;
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

/**
 * One multi-row INSERT per chunk: per-statement overhead, not row count, dominates small
 * writes (ledger records, a batch's file list). `values` is one row's tuple with `$1..$n` placeholders, renumbered per row.
 */
export async function insertMany(
  tx: SqlSession,
  head: string,
  values: string,
  rows: readonly SqlValue[][],
): Promise<void> {
  const width = rows[0]?.length ?? 0;
  for (let start = 0; start < rows.length; start += 500) {
    const chunk = rows.slice(start, start + 500);
    const tuples = chunk.map((_, r) =>
      values.replace(/\$(\d+)/g, (_m, n: string) => `$${r * width + Number(n)}`),
    );
    await tx.exec(`${head} VALUES ${tuples.join(', ')}`, chunk.flat());
  }
}
