import { createRoute, z } from '@hono/zod-openapi';
import type { App } from '../app.js';
import type { AppDeps } from '../app-deps.js';
import { type SqlSchema, SqlSchemaSchema } from '../data-schemas.js';
import { SCHEMA_COLUMNS } from '../data-sql.js';
import { HttpError } from '../http-error.js';
import { ERRORS, ok, SqlRequestSchema, SqlResultSchema } from '../run-schemas.js';
import { csvCell, csvLine } from '../sql-csv.js';
import { SqlRefusal, type SqlRefusalCode } from '../sql-refusal.js';
import { SqlService } from '../sql-service.js';

export const DEFAULT_SQL_LIMIT = 1000;

/**
 * The CSV download's caps: the whole result up to this many rows and bytes (the SQL page states
 * both). Far above the 1,000 rows shown on screen, and still bounded so one download cannot hold
 * the server's memory. A cut result says so in the `x-result-truncated` header.
 */
export const CSV_MAX_ROWS = 200_000;
export const CSV_MAX_BYTES = 64 * 1024 * 1024;

const SqlCsvRequestSchema = SqlRequestSchema.omit({ limit: true }).openapi('SqlCsvRequest');

function statusOf(code: SqlRefusalCode): 403 | 413 | 422 | 429 | 503 {
  switch (code) {
    case 'read_only':
    case 'forbidden_function':
      return 403;
    case 'result_too_large':
      return 413;
    case 'busy':
      return 429;
    case 'unsandboxed':
    case 'shutting_down':
      return 503;
    case 'empty_sql':
    case 'multiple_statements':
    case 'timeout':
    case 'sql_error':
    case 'unsupported':
      return 422;
    default: {
      const unreachable: never = code;
      throw new Error(`unknown refusal ${String(unreachable)}`);
    }
  }
}

/** The app's SQL service: the daemon passes its own (to interrupt queries at shutdown). */
export function sqlServiceOf(deps: AppDeps): SqlService {
  if (deps.sql) return deps.sql;
  const { config, warehouse } = deps.runtime;
  return new SqlService({
    warehouse,
    databaseUrl: config.databaseUrl,
    timeoutMs: config.automation.sqlTimeoutMs,
    maxConcurrent: config.automation.sqlMaxConcurrent,
    maxResultBytes: config.automation.sqlMaxResultBytes,
  });
}

export function registerSqlRoutes(app: App, deps: AppDeps): void {
  // Built on first use: unit tests build the app over a stub runtime without a config.
  let service: SqlService | null = null;
  const sql = () => {
    service ??= sqlServiceOf(deps);
    return service;
  };
  app.openapi(
    createRoute({
      method: 'post',
      path: '/api/sql',
      tags: ['sql'],
      summary:
        'One read-only query (SELECT, WITH, VALUES, DESCRIBE, SHOW, SUMMARIZE); row limit (default 1000, max 10000), byte cap, time limit, no file or network access (docs/security.md)',
      request: { body: { content: { 'application/json': { schema: SqlRequestSchema } }, required: true } },
      responses: ok(SqlResultSchema, 'Columns, rows (JSON-safe: DECIMAL as strings, TIMESTAMP as ISO UTC)'),
    }),
    async (c) => {
      const body = c.req.valid('json');
      const result = await refused(() =>
        sql().run({
          sql: body.sql,
          params: body.params,
          limit: body.limit ?? DEFAULT_SQL_LIMIT,
          // A client that gives up frees its slot at once instead of at the time limit.
          signal: c.req.raw.signal,
        }),
      );
      return c.json(result, 200);
    },
  );

  app.openapi(
    createRoute({
      method: 'post',
      path: '/api/sql/csv',
      tags: ['sql'],
      summary: `The whole result of one read-only query as CSV (the same guard as POST /api/sql), up to ${CSV_MAX_ROWS} rows and ${CSV_MAX_BYTES / 1024 / 1024} MiB; header x-result-truncated: true when cut`,
      request: { body: { content: { 'application/json': { schema: SqlCsvRequestSchema } }, required: true } },
      responses: {
        200: { content: { 'text/csv': { schema: z.string() } }, description: 'Formula-safe CSV' },
        ...ERRORS,
      },
    }),
    async (c) => {
      const body = c.req.valid('json');
      const result = await refused(() =>
        sql().run({
          sql: body.sql,
          params: body.params,
          limit: CSV_MAX_ROWS,
          maxBytes: CSV_MAX_BYTES,
          signal: c.req.raw.signal,
        }),
      );
      const lines = [result.columns.map((col) => csvCell(col.name)).join(',')];
      for (const row of result.rows) lines.push(csvLine(result.columns, row));
      return c.body(`${lines.join('\n')}\n`, 200, {
        'content-type': 'text/csv; charset=utf-8',
        'content-disposition': 'attachment; filename="query.csv"',
        'x-result-rows': String(result.rows.length),
        'x-result-truncated': String(result.truncated),
      });
    },
  );

  app.openapi(
    createRoute({
      method: 'get',
      path: '/api/sql/schema',
      tags: ['sql'],
      summary: 'The tables and views the SQL endpoint can read, with their columns (from information_schema)',
      responses: ok(SqlSchemaSchema, 'Tables and columns'),
    }),
    async (c) => {
      // Through the endpoint's own read-only guard and slots: the same view of the warehouse a query gets.
      const result = await refused(() =>
        sql().run({ sql: SCHEMA_COLUMNS, limit: 10_000, signal: c.req.raw.signal }),
      );
      const tables = new Map<string, SqlSchema['tables'][number]>();
      for (const row of result.rows) {
        const name = String(row.table_name);
        let table = tables.get(name);
        if (!table) {
          table = { name, kind: /view/i.test(String(row.table_type)) ? 'view' : 'table', columns: [] };
          tables.set(name, table);
        }
        table.columns.push({ name: String(row.column_name), type: String(row.data_type) });
      }
      return c.json({ tables: [...tables.values()] }, 200);
    },
  );
}

/** A refused query as its HTTP error (403 read-only, 413 too large, 429 busy…). */
async function refused<T>(run: () => Promise<T>): Promise<T> {
  try {
    return await run();
  } catch (error) {
    if (error instanceof SqlRefusal) {
      const headers =
        error.retryAfterSeconds === undefined
          ? undefined
          : { 'retry-after': String(error.retryAfterSeconds) };
      throw new HttpError(statusOf(error.code), error.code, error.message, undefined, headers);
    }
    throw error;
  }
}
