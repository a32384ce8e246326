import pg from 'pg';
import { rawText, withSessionOptions } from '../warehouse/postgres/postgres-connect.js';
import { toQueryResult } from '../warehouse/postgres/postgres-values.js';
import type { Warehouse } from '../warehouse/warehouse.js';
import { capRowsByBytes, SqlRefusal } from './sql-refusal.js';
import type { ReadOnlySqlRequest, ReadOnlySqlResult } from './sql-runner.js';

/**
 * `POST /api/sql` on PostgreSQL. There is no DuckDB-style parser to ask for a statement's type, so
 * the guard is in layers, each of which PostgreSQL itself enforces where it can:
 *
 * 1. The statement must start with SELECT, WITH, VALUES, TABLE, SHOW or EXPLAIN (not EXPLAIN
 *    ANALYZE, which runs the statement), and name none of the server-file, admin and escape-hatch
 *    functions below (anywhere in the text, string literals included, so a string handed to
 *    query_to_xml cannot smuggle one in).
 * 2. It runs on a connection of its own in `BEGIN READ ONLY` with `SET LOCAL statement_timeout`:
 *    PostgreSQL refuses every write, data-modifying CTEs, nextval and the like.
 * 3. The extended query protocol takes exactly one statement: `SELECT 1; DROP …` is refused by the
 *    server, not by a regex.
 * 4. Queries read through a cursor (`DECLARE … CURSOR` + `FETCH limit+1`): a huge result is never
 *    materialized in this process.
 * 5. A client-side timer cancels the backend too, in case the timeout was somehow not in force.
 *
 * The deployment's role must not be a superuser (nor hold pg_read_server_files,
 * pg_execute_server_program or pg_write_server_files): the denylist is defense in depth, and only
 * privileges make server files and programs unreachable. A role that can read the billing tables
 * is enough for this endpoint.
 */

const ALLOWED_FIRST_WORDS = new Set(['select', 'with', 'values', 'table', 'show', 'explain']);
const CURSOR_WORDS = new Set(['select', 'with', 'values', 'table']);

/** Functions (and syntax) a read-only query has no business calling: files, programs, other sessions, settings. */
const FORBIDDEN = [
  /\bpg_read_(binary_)?file\b/i,
  /\bpg_ls_\w+/i,
  /\bpg_stat_file\b/i,
  /\bpg_file_\w+/i,
  /\bpg_logdir_ls\b/i,
  /\blo_\w+/i,
  /\bdblink\w*/i,
  /\bset_config\b/i,
  /\bquery_to_xml\w*/i,
  /\bcursor_to_xml\w*/i,
  /\bpg_(try_)?advisory_\w+/i,
  /\bpg_(terminate|cancel)_backend\b/i,
  /\bpg_reload_conf\b/i,
  /\bpg_rotate_logfile\b/i,
  /\bpg_notify\b/i,
  /\bpg_(switch_wal|promote|create_restore_point|log_backend_memory_contexts)\b/i,
  /\bpg_(start|stop)_backup\b|\bpg_backup_(start|stop)\b/i,
  // Settings hold paths (data_directory, config_file) and reveal the deployment.
  /\bcurrent_setting\b/i,
  /\bsetseed\b/i,
  /\bpg_(show_all_|file_|db_role_)?settings\b/i,
  /\bpg_show_all_file_settings\b/i,
  /\bpg_hba_file_rules\b/i,
  // Unicode-escaped identifiers and strings could spell any of the names above.
  /\bu&["']/i,
];

/** SHOW of a harmless session setting, nothing else (not SHOW ALL, not data_directory). */
const SHOWABLE =
  /^\s*show\s+"?(timezone|time\s+zone|datestyle|intervalstyle|search_path|server_version|server_encoding|client_encoding|standard_conforming_strings|transaction_isolation)"?\s*;?\s*$/i;

/** The statement's first keyword, past comments, whitespace and opening parentheses; '' if none. */
export function firstKeyword(sql: string): string {
  let rest = sql;
  for (;;) {
    const trimmed = rest.replace(/^[\s(;]+/, '');
    if (trimmed.startsWith('--')) {
      const end = trimmed.indexOf('\n');
      rest = end < 0 ? '' : trimmed.slice(end + 1);
    } else if (trimmed.startsWith('/*')) {
      const end = trimmed.indexOf('*/');
      rest = end < 0 ? '' : trimmed.slice(end + 2);
    } else {
      return (/^[a-z_]+/i.exec(trimmed)?.[0] ?? '').toLowerCase();
    }
  }
}

/** Refuses what the text alone shows to be out of bounds; returns the first keyword. */
export function screenPostgresSql(sql: string): string {
  const keyword = firstKeyword(sql);
  if (keyword === '') throw new SqlRefusal('empty_sql', 'no SQL statement given');
  if (!ALLOWED_FIRST_WORDS.has(keyword) || (keyword === 'explain' && /\banaly[sz]e\b/i.test(sql))) {
    throw new SqlRefusal(
      'read_only',
      `only read-only queries are allowed (SELECT, WITH … SELECT, VALUES, TABLE, SHOW, EXPLAIN); this starts with ${keyword.toUpperCase()}`,
    );
  }
  if (keyword === 'show' && !SHOWABLE.test(sql)) {
    throw new SqlRefusal(
      'forbidden_function',
      'SHOW is limited to the session settings a query needs (TimeZone, DateStyle, search_path, server_version…); server settings hold paths',
    );
  }
  const forbidden = FORBIDDEN.map((re) => re.exec(sql)?.[0]).find((m) => m !== undefined);
  if (forbidden !== undefined) {
    throw new SqlRefusal(
      'forbidden_function',
      `${forbidden.trim()} is not allowed here: the SQL endpoint reads tables, not server files, settings or other sessions`,
    );
  }
  return keyword;
}

/** A server error as a refusal a client can act on. */
function refusalOf(error: unknown, timedOut: boolean, timeoutMs: number): SqlRefusal {
  if (error instanceof SqlRefusal) return error;
  const code = (error as { code?: string }).code;
  const message = error instanceof Error ? error.message : String(error);
  if (timedOut || code === '57014') {
    return new SqlRefusal('timeout', `the query ran longer than ${timeoutMs} ms and was interrupted`);
  }
  if (code === '42601' && /multiple commands/.test(message)) {
    return new SqlRefusal(
      'multiple_statements',
      'one statement per request (remove the extra ";"-separated statements)',
    );
  }
  // 25006: a write in the read-only transaction; 0A000: a data-modifying WITH under a cursor.
  if (code === '25006' || (code === '0A000' && /data-modifying/.test(message))) {
    return new SqlRefusal('read_only', `only read-only queries are allowed: ${message}`);
  }
  if (code === '42501') return new SqlRefusal('forbidden_function', message);
  return new SqlRefusal('sql_error', message);
}

/**
 * Runs one screened statement on its own connection to `databaseUrl`, read-only and time-limited.
 * `warehouse` is only used to cancel the statement from another connection at the time limit.
 */
export async function runReadOnlyPostgres(
  warehouse: Warehouse,
  databaseUrl: string,
  request: ReadOnlySqlRequest,
): Promise<ReadOnlySqlResult> {
  const started = performance.now();
  const keyword = screenPostgresSql(request.sql);
  const client = new pg.Client({
    connectionString: withSessionOptions(databaseUrl),
    application_name: 'billing-pipeline-sql',
    types: { getTypeParser: () => rawText },
  });
  client.on('error', () => {});
  let timedOut = false;
  const timer = setTimeout(() => {
    timedOut = true;
    const pid = (client as unknown as { processID?: number }).processID;
    if (pid) warehouse.all('SELECT pg_cancel_backend($1)', [pid]).catch(() => {});
  }, request.timeoutMs + 250);
  const onAbort = () => {
    const pid = (client as unknown as { processID?: number }).processID;
    if (pid) warehouse.all('SELECT pg_cancel_backend($1)', [pid]).catch(() => {});
  };
  request.signal?.addEventListener('abort', onAbort, { once: true });
  try {
    await client.connect();
    await client.query('BEGIN READ ONLY');
    // SET LOCAL takes no parameters; the value is an integer we computed.
    await client.query(`SET LOCAL statement_timeout = ${Math.max(1, Math.floor(request.timeoutMs))}`);
    const values = request.params && request.params.length > 0 ? [...request.params] : undefined;
    const useCursor = CURSOR_WORDS.has(keyword);
    const text = useCursor ? `DECLARE api_sql NO SCROLL CURSOR FOR ${request.sql}` : request.sql;
    // The extended protocol (which @types/pg does not describe) takes exactly one statement.
    const single = { text, values, rowMode: 'array', queryMode: 'extended' } as pg.QueryArrayConfig;
    const first = await client.query(single);
    const result = useCursor
      ? await client.query({ text: `FETCH ${request.limit + 1} FROM api_sql`, rowMode: 'array' })
      : first;
    const { columns, rows } = toQueryResult(result.fields, result.rows as (string | null)[][]);
    const capped = capRowsByBytes(rows.slice(0, request.limit), request.maxBytes);
    return {
      columns,
      rows: capped.rows,
      truncated: capped.cut || rows.length > request.limit,
      elapsed_ms: Math.round(performance.now() - started),
    };
  } catch (error) {
    throw refusalOf(error, timedOut, request.timeoutMs);
  } finally {
    clearTimeout(timer);
    request.signal?.removeEventListener('abort', onAbort);
    await client.query('ROLLBACK').catch(() => {});
    await client.end().catch(() => {});
  }
}
