import type { DuckDBConnection } from '@duckdb/node-api';
import { SqlRefusal } from './sql-refusal.js';

/**
 * The first layer of the DuckDB SQL sandbox: what DuckDB's own parser says the statement is. The
 * text is parsed by `json_serialize_sql` (the built-in json extension), which serializes only
 * plain SELECTs (with WITH, set operations, DESCRIBE, SHOW, SUMMARIZE, FROM-first, VALUES) and
 * answers an error for EXPLAIN, PRAGMA, SET, CALL, CHECKPOINT, ATTACH, COPY, EXPORT and every
 * write. The parse tree then names every function and relation the query uses:
 *
 * - scalar, aggregate and window functions must be DuckDB's own (from `duckdb_functions()`) and
 *   free of side effects, minus the ones below that change or reveal state;
 * - table functions (and names that DuckDB would resolve to one, such as `FROM duckdb_settings`)
 *   must be on the short list below: no files, globs, settings, secrets, databases or checkpoints;
 * - a relation that looks like a path or URL (`FROM '/etc/passwd'`) is refused outright.
 *
 * Nothing here matches the SQL text itself; the second layer (a read-only transaction that is
 * always rolled back, sql-runner.ts) holds even if something slips through.
 */

/** Table functions and table macros a reader may call: generators, catalog listings, JSON helpers. */
const TABLE_FUNCTIONS = new Set([
  'range',
  'generate_series',
  'unnest',
  'repeat',
  'repeat_row',
  'json_each',
  'json_tree',
  'histogram',
  'histogram_values',
  'duckdb_tables',
  'duckdb_columns',
  'duckdb_views',
  'duckdb_schemas',
  'duckdb_constraints',
  'duckdb_indexes',
  'duckdb_types',
  'duckdb_functions',
  'duckdb_keywords',
  'duckdb_sequences',
  'duckdb_dependencies',
  'pragma_table_info',
  'table_info',
  'pragma_show',
  'show',
  'show_tables',
  'show_tables_expanded',
  'show_databases',
  'summary',
  'pragma_version',
  'version',
  'pragma_platform',
  'platform',
  'pragma_collations',
  'collations',
  'pg_timezone_names',
  'icu_calendar_names',
]);

/**
 * Scalar functions that are free of side effects in DuckDB's catalog but reveal the server's
 * state (settings such as temp_directory hold paths) or are side effects in all but name.
 */
const FORBIDDEN_SCALARS = new Set([
  'current_setting',
  'getvariable',
  'current_query',
  'json_deserialize_sql',
  'pg_sleep',
]);

/** Side-effect functions that touch nothing but the query's own values. */
const HARMLESS_VOLATILE = new Set(['random', 'uuid', 'gen_random_uuid', 'uuidv4', 'uuidv7', 'error']);

/** Built-in views that show paths or settings (the database file, temp_directory, logs). */
const FORBIDDEN_VIEWS = new Set([
  'duckdb_databases',
  'pragma_database_list',
  'pg_settings',
  'duckdb_logs',
  'pg_prepared_statements',
]);

/** `SHOW TABLES`, `SHOW ALL TABLES`, `SHOW DATABASES`: the parser names these pseudo-tables. */
const SHOW_TARGETS = new Set(['"tables"', '__show_tables_expanded', '"databases"', '']);

const PATH_LIKE = /[/\\:*?]|\.[a-z0-9]+$/i;

export interface DuckDBCatalog {
  /** Scalar, aggregate and window functions and macros the query may call. */
  scalars: ReadonlySet<string>;
  /** Every table function name DuckDB knows, allowed or not. */
  tableFunctions: ReadonlySet<string>;
}

/** What the instance offers, read once per app: functions do not change while it is open. */
export async function readDuckDBCatalog(connection: DuckDBConnection): Promise<DuckDBCatalog> {
  const reader = await connection.runAndReadAll(
    `SELECT DISTINCT function_name AS name, function_type AS type, has_side_effects AS effects
       FROM duckdb_functions() WHERE function_type <> 'pragma'`,
  );
  const scalars = new Set<string>();
  const tableFunctions = new Set<string>();
  for (const row of reader.getRowObjects()) {
    const name = String(row.name).toLowerCase();
    const table = row.type === 'table' || row.type === 'table_macro';
    if (table) tableFunctions.add(name);
    else if ((row.effects !== true || HARMLESS_VOLATILE.has(name)) && !FORBIDDEN_SCALARS.has(name)) {
      scalars.add(name);
    }
  }
  return { scalars, tableFunctions };
}

/** The user's own tables and views, which may share no rule with the built-ins. */
async function userRelations(connection: DuckDBConnection): Promise<Set<string>> {
  const reader = await connection.runAndReadAll(
    `SELECT table_name AS name FROM duckdb_tables() WHERE NOT internal
     UNION SELECT view_name FROM duckdb_views() WHERE NOT internal`,
  );
  return new Set(reader.getRowObjects().map((r) => String(r.name).toLowerCase()));
}

type Node = Record<string, unknown>;
const isNode = (value: unknown): value is Node => typeof value === 'object' && value !== null;

const forbidden = (what: string, why: string) =>
  new SqlRefusal('forbidden_function', `${what} is not allowed here: ${why}`);

/**
 * Refuses the statement unless DuckDB's parser sees one plain SELECT that calls only allowed
 * functions and reads only tables, views and allowed catalog functions.
 */
export async function screenDuckDBSql(
  connection: DuckDBConnection,
  catalog: DuckDBCatalog,
  sql: string,
): Promise<void> {
  const reader = await connection.runAndReadAll('SELECT json_serialize_sql($1::VARCHAR) AS tree', [sql]);
  const tree = JSON.parse(String(reader.getRowObjects()[0]?.tree)) as {
    error: boolean;
    error_message?: string;
    statements?: unknown[];
  };
  if (tree.error) {
    const message = tree.error_message ?? 'not a SELECT';
    if (/only select statements/i.test(message)) {
      throw new SqlRefusal(
        'read_only',
        'only plain queries are allowed (SELECT, WITH … SELECT, VALUES, DESCRIBE, SHOW, SUMMARIZE); EXPLAIN, PRAGMA, SET, CALL, CHECKPOINT, ATTACH, COPY and writes are refused',
      );
    }
    throw new SqlRefusal('sql_error', message);
  }
  if (tree.statements?.length !== 1) {
    throw new SqlRefusal('multiple_statements', 'one statement per request');
  }
  const relations = await userRelations(connection);
  const visit = (value: unknown): void => {
    if (Array.isArray(value)) {
      for (const item of value) visit(item);
      return;
    }
    if (!isNode(value)) return;
    if (value.type === 'TABLE_FUNCTION' && isNode(value.function)) {
      const name = String(value.function.function_name ?? '').toLowerCase();
      if (!TABLE_FUNCTIONS.has(name)) {
        throw forbidden(
          `${name}()`,
          'the SQL endpoint reads tables, not files, settings, secrets or database internals',
        );
      }
      for (const [key, child] of Object.entries(value)) {
        visit(key === 'function' ? value.function.children : child);
      }
      return;
    }
    if (value.type === 'BASE_TABLE' && typeof value.table_name === 'string') {
      checkRelation(value.table_name, relations, catalog);
    }
    if (value.type === 'SHOW_REF' && typeof value.table_name === 'string') {
      if (!SHOW_TARGETS.has(value.table_name)) checkRelation(value.table_name, relations, catalog);
    }
    if (typeof value.function_name === 'string') {
      const name = value.function_name.toLowerCase();
      if (!catalog.scalars.has(name)) {
        throw forbidden(
          `${name}()`,
          catalog.tableFunctions.has(name)
            ? 'it is not a function a query may call'
            : 'it changes or reveals the server state (sequences, settings, checkpoints), or is unknown',
        );
      }
    }
    for (const child of Object.values(value)) visit(child);
  };
  visit(tree.statements);
}

function checkRelation(raw: string, relations: ReadonlySet<string>, catalog: DuckDBCatalog): void {
  const name = raw.toLowerCase();
  if (relations.has(name)) return;
  if (PATH_LIKE.test(raw)) {
    throw forbidden(`'${raw}'`, 'files and URLs are not tables; query the warehouse tables instead');
  }
  // DuckDB resolves an unknown name to a table function of that name (FROM duckdb_settings).
  if (FORBIDDEN_VIEWS.has(name) || (catalog.tableFunctions.has(name) && !TABLE_FUNCTIONS.has(name))) {
    throw forbidden(name, 'it shows paths, settings or database internals');
  }
}
