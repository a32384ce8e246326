import type { DuckDBConnection, DuckDBPreparedStatement } from '@duckdb/node-api';
import { StatementType } from '@duckdb/node-api';
import { cellConverter, toBindValues } from '../warehouse/duckdb/duckdb-values.js';
import { DuckDBWarehouse } from '../warehouse/duckdb/duckdb-warehouse.js';
import type { ColumnInfo, Row, SqlValue, Warehouse } from '../warehouse/warehouse.js';

export interface ReadOnlySqlRequest {
  sql: string;
  limit: number;
  params?: readonly SqlValue[];
  timeoutMs: number;
}

export interface ReadOnlySqlResult {
  columns: ColumnInfo[];
  rows: Row[];
  truncated: boolean;
  elapsed_ms: number;
}

export type SqlRefusalCode =
  | 'empty_sql'
  | 'multiple_statements'
  | 'read_only'
  | 'timeout'
  | 'sql_error'
  | 'unsandboxed'
  | 'unsupported'
  | 'forbidden_function';

/** SQL the endpoint will not run, or that failed, with a code a client can act on. */
export class SqlRefusal extends Error {
  override name = 'SqlRefusal';
  constructor(
    readonly code: SqlRefusalCode,
    message: string,
  ) {
    super(message);
  }
}

/** EXPLAIN ANALYZE executes the statement it explains, so it is only as safe as that statement. */
const EXPLAIN_ANALYZE = /\bexplain\s*\(?\s*analy[sz]e\b/i;

const typeName = (type: StatementType): string => StatementType[type] ?? `statement type ${type}`;

/**
 * Runs one read-only statement sent from outside, on a connection of its own so it can be
 * interrupted at the time limit without disturbing the pipeline's connections. Each statement's
 * type comes from DuckDB's parser (`extractStatements` + `prepare`), not from guessing at the
 * text: SELECT (with WITH, DESCRIBE, SHOW, SUMMARIZE, FROM-first, PRAGMA table_info) and
 * EXPLAIN only. File and network access is off for the whole instance in the daemon; without
 * that the runner refuses everything. On PostgreSQL (`databaseUrl`) see sql-runner-postgres.ts.
 */
export async function runReadOnlySql(
  warehouse: Warehouse,
  request: ReadOnlySqlRequest,
  options: { databaseUrl?: string | null } = {},
): Promise<ReadOnlySqlResult> {
  if (warehouse.dialect === 'postgres') {
    if (!options.databaseUrl) {
      throw new SqlRefusal('unsupported', 'the SQL endpoint on PostgreSQL needs the database URL');
    }
    // Loaded only here, so the embedded mode never loads the PostgreSQL driver.
    const { runReadOnlyPostgres } = await import('./sql-runner-postgres.js');
    return runReadOnlyPostgres(warehouse, options.databaseUrl, request);
  }
  if (!(warehouse instanceof DuckDBWarehouse)) {
    throw new SqlRefusal('unsupported', 'the SQL endpoint needs a DuckDB warehouse');
  }
  const started = performance.now();
  const connection: DuckDBConnection = await warehouse.openConnection();
  let timedOut = false;
  const timer = setTimeout(() => {
    timedOut = true;
    connection.interrupt();
  }, request.timeoutMs);
  let prepared: DuckDBPreparedStatement | null = null;
  try {
    // The sandbox is set when the warehouse opens (the daemon does); an app built over any other
    // warehouse must not hand out read_text('/etc/passwd').
    const sandbox = await connection.runAndReadAll(
      "SELECT current_setting('enable_external_access') AS external",
    );
    if (sandbox.getRowObjects()[0]?.external !== false) {
      throw new SqlRefusal(
        'unsandboxed',
        'the SQL endpoint is off: this warehouse was opened with file and network access on',
      );
    }
    const extracted = await connection.extractStatements(request.sql).catch(async (error: unknown) => {
      throw await explainParseFailure(connection, request.sql, error);
    });
    if (extracted.count === 0) throw new SqlRefusal('empty_sql', 'no SQL statement given');
    if (extracted.count > 1) {
      throw new SqlRefusal(
        'multiple_statements',
        `one statement per request; got ${extracted.count} (remove the extra ";"-separated statements)`,
      );
    }
    prepared = await extracted.prepare(0);
    const type = prepared.statementType;
    const readable =
      type === StatementType.SELECT || (type === StatementType.EXPLAIN && !EXPLAIN_ANALYZE.test(request.sql));
    if (!readable) {
      throw new SqlRefusal(
        'read_only',
        `only read-only queries are allowed (SELECT, WITH … SELECT, DESCRIBE, SHOW, EXPLAIN); this is ${typeName(type)}`,
      );
    }
    if (request.params && request.params.length > 0) prepared.bind(toBindValues(request.params));
    // Streaming stops reading once the limit is passed: a huge result is never materialized.
    const reader = await prepared.streamAndReadUntil(request.limit + 1);
    const names = reader.columnNames();
    const types = reader.columnTypes();
    const all = reader.convertRowObjects(cellConverter) as Row[];
    return {
      columns: names.map((name, i) => ({ name, type: String(types[i]) })),
      rows: all.slice(0, request.limit),
      truncated: all.length > request.limit,
      elapsed_ms: Math.round(performance.now() - started),
    };
  } catch (error) {
    if (error instanceof SqlRefusal) throw error;
    if (timedOut) {
      throw new SqlRefusal(
        'timeout',
        `the query ran longer than ${request.timeoutMs} ms and was interrupted`,
      );
    }
    throw new SqlRefusal('sql_error', error instanceof Error ? error.message : String(error));
  } finally {
    clearTimeout(timer);
    prepared?.destroySync();
    connection.closeSync();
  }
}

/**
 * extractStatements fails with a bare "Error in native callback" on text without statements
 * (blank, only comments or semicolons). Preparing the text, which never executes it, yields
 * DuckDB's own message instead.
 */
async function explainParseFailure(
  connection: DuckDBConnection,
  sql: string,
  original: unknown,
): Promise<SqlRefusal> {
  try {
    (await connection.prepare(sql)).destroySync();
  } catch (error) {
    const message = error instanceof Error ? error.message : String(error);
    if (/no statement to prepare/i.test(message)) {
      return new SqlRefusal('empty_sql', 'no SQL statement given');
    }
    return new SqlRefusal('sql_error', message);
  }
  return new SqlRefusal('sql_error', original instanceof Error ? original.message : String(original));
}
