import { createRoute } from '@hono/zod-openapi';
import type { App } from '../app.js';
import type { AppDeps } from '../app-deps.js';
import { HttpError } from '../http-error.js';
import { ok, SqlRequestSchema, SqlResultSchema } from '../run-schemas.js';
import { SqlRefusal, type SqlRefusalCode } from '../sql-refusal.js';
import { SqlService } from '../sql-service.js';

export const DEFAULT_SQL_LIMIT = 1000;

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
      try {
        const result = await sql().run({
          sql: body.sql,
          params: body.params,
          limit: body.limit ?? DEFAULT_SQL_LIMIT,
          // A client that gives up frees its slot at once instead of at the time limit.
          signal: c.req.raw.signal,
        });
        return c.json(result, 200);
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
    },
  );
}
