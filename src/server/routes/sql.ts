import { createRoute } from '@hono/zod-openapi';
import type { App } from '../app.js';
import type { AppDeps } from '../app-deps.js';
import { HttpError } from '../http-error.js';
import { ok, SqlRequestSchema, SqlResultSchema } from '../run-schemas.js';
import { runReadOnlySql, SqlRefusal, type SqlRefusalCode } from '../sql-runner.js';

export const DEFAULT_SQL_LIMIT = 1000;

function statusOf(code: SqlRefusalCode): 403 | 422 | 503 {
  switch (code) {
    case 'read_only':
    case 'forbidden_function':
      return 403;
    case 'unsandboxed':
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

export function registerSqlRoutes(app: App, deps: AppDeps): void {
  app.openapi(
    createRoute({
      method: 'post',
      path: '/api/sql',
      tags: ['sql'],
      summary:
        'One read-only statement (SELECT, WITH, DESCRIBE, SHOW, EXPLAIN); row limit (default 1000, max 10000), time limit, no file or network access',
      request: { body: { content: { 'application/json': { schema: SqlRequestSchema } }, required: true } },
      responses: ok(SqlResultSchema, 'Columns, rows (JSON-safe: DECIMAL as strings, TIMESTAMP as ISO UTC)'),
    }),
    async (c) => {
      const body = c.req.valid('json');
      try {
        const result = await runReadOnlySql(
          deps.runtime.warehouse,
          {
            sql: body.sql,
            params: body.params,
            limit: body.limit ?? DEFAULT_SQL_LIMIT,
            timeoutMs: deps.runtime.config.automation.sqlTimeoutMs,
          },
          { databaseUrl: deps.runtime.config.databaseUrl },
        );
        return c.json(result, 200);
      } catch (error) {
        if (error instanceof SqlRefusal) {
          throw new HttpError(statusOf(error.code), error.code, error.message);
        }
        throw error;
      }
    },
  );
}
