import type { SqlSession, Warehouse } from './warehouse.js';

/** A join to the latest row of `table` at or before the left row, on equal keys (an "as of" join). */
export interface AsofJoin {
  /** Alias of the left relation. */
  left: string;
  table: string;
  /** Alias of the joined row; its columns are NULL where no row qualifies. */
  alias: string;
  /** `[left column, right column]` pairs that must be equal. */
  equal: readonly (readonly [string, string])[];
  /** `[left column, right column]`: the right row with the greatest value at or before the left one. */
  atOrBefore: readonly [string, string];
}

/**
 * The few constructs the two engines spell differently, as SQL text for the billing SQL to splice
 * in: where portable SQL would do but be slower in DuckDB, or where PostgreSQL needs more (indexes,
 * partitions). Reach it with `sqlDialect(warehouse.dialect)`.
 */
export interface SqlDialect {
  readonly name: Warehouse['dialect'];
  /** `LEFT JOIN`s the as-of row (see AsofJoin). */
  asofLeftJoin(join: AsofJoin): string;
  /** `expr` as DECIMAL(precision, scale), or NULL where it does not fit (instead of an error). */
  decimalOrNull(expr: string, precision: number, scale: number): string;
  /** Drops what `stageCsv` created under `name` (a view in DuckDB, a temp table in PostgreSQL). */
  unstage(name: string): string;
  /** ` PARTITION BY …` for a table partitioned by these day columns, or '' where tables are not. */
  partitionByDay(columns: readonly [string, string, string]): string;
  /**
   * Index DDL (`CREATE [UNIQUE] INDEX IF NOT EXISTS name …`), kept only where the engine needs
   * indexes for keyed lookups and uniqueness (PostgreSQL); DuckDB's zone maps and hash joins do
   * without, and indexes would slow its bulk inserts. On PostgreSQL an index that exists is not
   * touched at all: `CREATE INDEX IF NOT EXISTS` locks its table (SHARE) before it looks, which
   * waits for every load in flight and deadlocks with them when a process starts beside workers.
   */
  lookupIndexes(statements: readonly string[]): readonly string[];
  /**
   * After filling a temp table the planner should size right (PostgreSQL does not analyze temp
   * tables by itself and would guess thousands of rows, then scan every partition instead of
   * probing indexes); nothing in DuckDB.
   */
  refreshStatistics(table: string): readonly string[];
  /**
   * Runs `fn`, an INSERT … SELECT joining a big staged relation (on the left) to small ones, with
   * whatever planner settings keep the small side in memory.
   */
  withLargeJoin<T>(tx: SqlSession, fn: () => Promise<T>): Promise<T>;
}

/** The as-of join in SQL both engines run: one index probe per left row, fine for few left rows. */
export function lateralAsofLeftJoin(j: AsofJoin): string {
  const where = j.equal.map(([l, r]) => `x.${r} = ${j.left}.${l}`);
  where.push(`x.${j.atOrBefore[1]} <= ${j.left}.${j.atOrBefore[0]}`);
  return `LEFT JOIN LATERAL (SELECT * FROM ${j.table} x WHERE ${where.join(' AND ')}
      ORDER BY x.${j.atOrBefore[1]} DESC LIMIT 1) ${j.alias} ON true`;
}

const DUCKDB: SqlDialect = {
  name: 'duckdb',
  asofLeftJoin: (j) => {
    const on = j.equal.map(([l, r]) => `${j.left}.${l} = ${j.alias}.${r}`);
    on.push(`${j.left}.${j.atOrBefore[0]} >= ${j.alias}.${j.atOrBefore[1]}`);
    return `ASOF LEFT JOIN ${j.table} ${j.alias} ON ${on.join(' AND ')}`;
  },
  decimalOrNull: (expr, precision, scale) => `TRY_CAST(${expr} AS DECIMAL(${precision},${scale}))`,
  unstage: (name) => `DROP VIEW IF EXISTS "${name}"`,
  partitionByDay: () => '',
  lookupIndexes: () => [],
  refreshStatistics: () => [],
  async withLargeJoin(tx, fn) {
    // DuckDB estimates a few dozen rows for any read_csv, so it may build the hash join on the big
    // staged side instead of the small one: memory then grows with the file (a 2 GB file runs out of
    // it). With the build/probe swap off, the side written on the right is the one held in memory.
    await tx.exec("SET disabled_optimizers = 'build_side_probe_side'");
    try {
      return await fn();
    } finally {
      // After a failed statement the transaction is aborted and refuses this; fn's error is the one to report.
      await tx.exec('RESET disabled_optimizers').catch(() => {});
    }
  },
};

const POSTGRES: SqlDialect = {
  name: 'postgres',
  // No ASOF join in PostgreSQL.
  asofLeftJoin: lateralAsofLeftJoin,
  // The cast rounds to `scale` digits first; whether the rounded value fits is the test.
  decimalOrNull: (expr, precision, scale) =>
    `CASE WHEN abs(round(${expr}, ${scale})) < 1e${precision - scale} THEN CAST(${expr} AS DECIMAL(${precision},${scale})) END`,
  unstage: (name) => `DROP TABLE IF EXISTS pg_temp."${name}"`,
  partitionByDay: (columns) => ` PARTITION BY RANGE (${columns.join(', ')})`,
  lookupIndexes: (statements) => statements.map(unlessIndexExists),
  refreshStatistics: (table) => [`ANALYZE ${table}`],
  withLargeJoin: (_tx, fn) => fn(),
};

function unlessIndexExists(statement: string): string {
  const name = /^CREATE (?:UNIQUE )?INDEX IF NOT EXISTS (\w+) /.exec(statement)?.[1];
  if (!name) throw new Error(`not an index statement: ${statement}`);
  return `DO $do$ BEGIN IF to_regclass('${name}') IS NULL THEN EXECUTE $ddl$${statement}$ddl$; END IF; END $do$`;
}

export function sqlDialect(name: Warehouse['dialect']): SqlDialect {
  switch (name) {
    case 'duckdb':
      return DUCKDB;
    case 'postgres':
      return POSTGRES;
    default: {
      const unknown: never = name;
      throw new Error(`unknown SQL dialect ${String(unknown)}`);
    }
  }
}
