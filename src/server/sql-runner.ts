import {
  type DuckDBConnection,
  DuckDBListVector,
  DuckDBMapVector,
  type DuckDBPreparedStatement,
  type DuckDBResult,
  DuckDBStructVector,
  type DuckDBType,
  DuckDBVarCharVector,
  type DuckDBVector,
} from '@duckdb/node-api';
import { cellConverter, toBindValues } from '../warehouse/duckdb/duckdb-values.js';
import { DuckDBWarehouse } from '../warehouse/duckdb/duckdb-warehouse.js';
import type { Cell, ColumnInfo, Row, SqlValue, Warehouse } from '../warehouse/warehouse.js';
import { type DuckDBCatalog, readDuckDBCatalog, screenDuckDBSql } from './sql-guard-duckdb.js';
import { rowBytes, SqlRefusal, tooLarge } from './sql-refusal.js';

export { SqlRefusal, type SqlRefusalCode } from './sql-refusal.js';

export interface ReadOnlySqlRequest {
  sql: string;
  limit: number;
  params?: readonly SqlValue[];
  timeoutMs: number;
  /** Cap on the JSON bytes of the rows returned (BILLING_SQL_MAX_RESULT_BYTES). */
  maxBytes: number;
  /** Aborting interrupts the query (the daemon's shutdown, a client that went away). */
  signal?: AbortSignal;
}

export interface ReadOnlySqlResult {
  columns: ColumnInfo[];
  rows: Row[];
  /** True when the row limit or the byte cap cut the result. */
  truncated: boolean;
  elapsed_ms: number;
}

export interface DuckDBSqlOptions {
  /** The instance's functions, read once by the caller; read per query without it. */
  catalog?: DuckDBCatalog;
  /**
   * Test-only: skip the parser layer, to show that the read-only transaction alone keeps the
   * warehouse unchanged. Never set outside tests.
   */
  unsafeSkipParserLayer?: boolean;
}

/** How often an interrupt is repeated after the deadline: the query may not have started yet. */
const INTERRUPT_REPEAT_MS = 50;

/**
 * Runs one untrusted statement sent from outside (POST /api/sql) on DuckDB, in two independent
 * layers:
 *
 * 1. DuckDB's parser (sql-guard-duckdb.ts): exactly one plain SELECT, calling only functions
 *    without side effects that reveal nothing about the server.
 * 2. The statement runs on a connection of its own inside `BEGIN TRANSACTION READ ONLY`, which is
 *    always rolled back: DuckDB itself refuses any write, sequence use or EXPLAIN ANALYZE of a
 *    write that got past layer 1. Settings and checkpoints are not transactional; only layer 1
 *    keeps SET and CHECKPOINT out.
 *
 * File and network access is off for the whole instance in the daemon; without that the runner
 * refuses everything. At the time limit (or on abort) the query is interrupted, repeatedly, until
 * it stops. Rows stream chunk by chunk and reading stops at the row limit or the byte cap.
 * On PostgreSQL (`databaseUrl`) see sql-runner-postgres.ts.
 */
export async function runReadOnlySql(
  warehouse: Warehouse,
  request: ReadOnlySqlRequest,
  options: { databaseUrl?: string | null } & DuckDBSqlOptions = {},
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
  let stopped: 'timeout' | 'aborted' | null = null;
  let repeat: NodeJS.Timeout | undefined;
  const stop = (why: 'timeout' | 'aborted') => {
    stopped ??= why;
    connection.interrupt();
    repeat ??= setInterval(() => connection.interrupt(), INTERRUPT_REPEAT_MS);
  };
  const timer = setTimeout(() => stop('timeout'), request.timeoutMs);
  const onAbort = () => stop('aborted');
  request.signal?.addEventListener('abort', onAbort, { once: true });
  if (request.signal?.aborted) onAbort();
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
    if (!options.unsafeSkipParserLayer) {
      await screenDuckDBSql(
        connection,
        options.catalog ?? (await readDuckDBCatalog(connection)),
        request.sql,
      );
    }
    await connection.run('BEGIN TRANSACTION READ ONLY');
    prepared = await extracted.prepare(0);
    if (request.params && request.params.length > 0) prepared.bind(toBindValues(request.params));
    const result = await prepared.stream();
    const read = await readCapped(result, request.limit, request.maxBytes);
    return { ...read, elapsed_ms: Math.round(performance.now() - started) };
  } catch (error) {
    if (error instanceof SqlRefusal) throw error;
    if (stopped === 'timeout') {
      throw new SqlRefusal(
        'timeout',
        `the query ran longer than ${request.timeoutMs} ms and was interrupted`,
      );
    }
    if (stopped === 'aborted') {
      throw new SqlRefusal(
        'shutting_down',
        'the query was interrupted: the server is shutting down, or the client went away',
      );
    }
    const message = error instanceof Error ? error.message : String(error);
    if (/read-only mode|read-only transaction/i.test(message)) {
      throw new SqlRefusal('read_only', `only read-only queries are allowed: ${message}`);
    }
    throw new SqlRefusal('sql_error', message);
  } finally {
    clearTimeout(timer);
    clearInterval(repeat);
    request.signal?.removeEventListener('abort', onAbort);
    // A stream stopped early is still running: interrupt it before the rollback ends it.
    connection.interrupt();
    await connection.run('ROLLBACK').catch(() => {});
    prepared?.destroySync();
    connection.closeSync();
  }
}

/**
 * Reads rows chunk by chunk until the row limit or the byte cap. Each value is converted only
 * after its row is known to fit: a nested value's elements are counted first, so a 30-million
 * element `list()` is refused without ever being built in JavaScript.
 */
async function readCapped(
  result: DuckDBResult,
  limit: number,
  maxBytes: number,
): Promise<Pick<ReadOnlySqlResult, 'columns' | 'rows' | 'truncated'>> {
  const names = result.columnNames();
  const types = result.columnTypes();
  const columns = names.map((name, i) => ({ name, type: String(types[i]) }));
  const rows: Row[] = [];
  // The rows' JSON array: its brackets, each row and a comma.
  let used = 2;
  for (;;) {
    const chunk = await result.fetchChunk();
    if (!chunk || chunk.rowCount === 0) return { columns, rows, truncated: false };
    const vectors = names.map((_, c) => chunk.getColumnVector(c));
    for (let r = 0; r < chunk.rowCount; r++) {
      if (rows.length === limit) return { columns, rows, truncated: true };
      // At least two bytes per value ("1,"), so this bound is met before a value is converted.
      const budget = (maxBytes - used) / 2;
      const leaves = vectors.reduce((sum, v) => sum + leafCount(v, r, budget), 0);
      const row = used + 2 * leaves <= maxBytes ? convertRow(vectors, types, names, r) : null;
      const bytes = row ? rowBytes(row) : Number.POSITIVE_INFINITY;
      if (!row || used + bytes > maxBytes) {
        if (rows.length === 0) throw tooLarge(maxBytes);
        return { columns, rows, truncated: true };
      }
      used += bytes;
      rows.push(row);
    }
  }
}

function convertRow(
  vectors: readonly DuckDBVector[],
  types: readonly DuckDBType[],
  names: readonly string[],
  r: number,
): Row {
  const row: Record<string, Cell> = {};
  vectors.forEach((vector, c) => {
    const type = types[c] as DuckDBType;
    row[names[c] as string] = cellConverter(vector.getItem(r), type, cellConverter);
  });
  return row as Row;
}

/**
 * A MAP is a list of key/value structs underneath; the library keeps that list private, so it is
 * read here only if present (a later version without it counts a map as one value).
 */
function mapEntries(vector: DuckDBMapVector): DuckDBListVector | null {
  const list = (vector as unknown as { listVector?: unknown }).listVector;
  return list instanceof DuckDBListVector ? list : null;
}

/**
 * The byte length of a VARCHAR without decoding it: DuckDB's 16-byte string header starts with the
 * length. The library keeps the buffer and validity private; without them (a later version) a
 * string counts as one value.
 *
 * A NULL's header is not cleared: it keeps whatever the slot held (an ORDER BY's or a join's
 * scratch, the old value of an updated row), so it is read only for valid items, or a NULL counts
 * as a string that may be megabytes long and cuts the result short. A slice's (a list's or a
 * struct's) data view already starts at its first item, so `r` indexes it directly.
 */
function stringBytes(vector: DuckDBVarCharVector, r: number): number {
  const raw = vector as unknown as { dataView?: unknown; validity?: { itemValid?: unknown } };
  const validity = raw.validity;
  if (!(raw.dataView instanceof DataView) || typeof validity?.itemValid !== 'function') return 1;
  if (!(validity.itemValid as (index: number) => boolean).call(validity, r)) return 1;
  const at = r * 16;
  return at + 4 <= raw.dataView.byteLength ? raw.dataView.getUint32(at, true) : 1;
}

/**
 * How many scalar values row `r` of `vector` holds (nested lists, maps and structs counted
 * through); counting stops once past `stop`, which is all the caller needs to know.
 */
function leafCount(vector: DuckDBVector, r: number, stop: number): number {
  // A string of n bytes is at least n bytes of JSON: n/2 two-byte values.
  if (vector instanceof DuckDBVarCharVector) return Math.max(1, Math.ceil(stringBytes(vector, r) / 2));
  if (vector instanceof DuckDBMapVector) {
    const entries = mapEntries(vector);
    return entries ? leafCount(entries, r, stop) : 1;
  }
  if (vector instanceof DuckDBListVector) {
    const items = vector.getItemVector(r);
    if (!items) return 1;
    if (
      !(
        items instanceof DuckDBListVector ||
        items instanceof DuckDBStructVector ||
        items instanceof DuckDBMapVector
      )
    ) {
      return Math.max(1, items.itemCount);
    }
    let sum = 0;
    for (let i = 0; i < items.itemCount && sum <= stop; i++) sum += leafCount(items, i, stop);
    return Math.max(1, sum);
  }
  if (vector instanceof DuckDBStructVector) {
    let sum = 0;
    for (let i = 0; i < vector.type.entryCount && sum <= stop; i++) {
      sum += leafCount(vector.entryVectorAt(i), r, stop);
    }
    return Math.max(1, sum);
  }
  return 1;
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
