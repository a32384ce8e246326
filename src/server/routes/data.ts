import { createRoute, z } from '@hono/zod-openapi';
import { partitionLineage } from '../../billing/lineage.js';
import type { SqlValue } from '../../warehouse/warehouse.js';
import { DaySchema, FilterQuery, json, limitParam, offsetParam, RowSchema } from '../api-schema.js';
import type { App } from '../app.js';
import type { AppDeps } from '../app-deps.js';
import * as sql from '../data-sql.js';
import { eventWhere, type WhereClause } from '../event-filters.js';

const FILE_STATUSES = ['pending', 'loaded', 'rejected', 'failed', 'missing'] as const;

/** One aggregate figure: a day plus the dimension filters that narrowed it. */
const CellQuery = FilterQuery.omit({ from: true, to: true }).extend({ day: DaySchema });

const page = <T extends z.ZodRawShape>(shape: T) =>
  z.object({ ...shape, limit: limitParam(1000, 100), offset: offsetParam });

/** The events of one day under the given filters, optionally of one file. */
function cellWhere(query: z.infer<typeof CellQuery>, sourceKey?: string): WhereClause {
  const { day, ...dimensions } = query;
  const where = eventWhere({ ...dimensions, from: day, to: day });
  if (sourceKey === undefined) return where;
  const params: SqlValue[] = [...where.params, sourceKey];
  return { sql: `${where.sql} AND e.source_key = $${params.length}`, params };
}

export function registerDataRoutes(app: App, deps: AppDeps): void {
  const { runtime } = deps;
  const { warehouse } = runtime;

  app.openapi(
    createRoute({
      method: 'get',
      path: '/api/data/rejected-reasons',
      tags: ['data'],
      summary: 'Rejected rows grouped by what was wrong (the column that failed, or the field count)',
      responses: json(z.object({ reasons: z.array(RowSchema) }), 'Reason classes with counts'),
    }),
    async (c) => c.json({ reasons: await warehouse.all(sql.REJECTED_REASONS) }, 200),
  );

  app.openapi(
    createRoute({
      method: 'get',
      path: '/api/data/rejected-rows',
      tags: ['data'],
      summary: 'Rows rejected by the row rules, with file, line, reason and raw text',
      request: {
        query: page({ source_key: z.string().min(1).optional(), category: z.string().min(1).optional() }),
      },
      responses: json(z.object({ rows: z.array(RowSchema), total: z.number() }), 'A page of rejected rows'),
    }),
    async (c) => {
      const q = c.req.valid('query');
      const filter = [q.source_key ?? null, q.category ?? null];
      const [rows, [count]] = await Promise.all([
        warehouse.all(sql.REJECTED_ROWS, [...filter, q.limit, q.offset]),
        warehouse.all<{ total: number }>(sql.REJECTED_ROWS_COUNT, filter),
      ]);
      return c.json({ rows, total: count?.total ?? 0 }, 200);
    },
  );

  app.openapi(
    createRoute({
      method: 'get',
      path: '/api/data/rejected-files',
      tags: ['data'],
      summary: 'Files rejected whole (missing columns, corrupt gzip), with the reason',
      responses: json(z.object({ files: z.array(RowSchema) }), 'Rejected files'),
    }),
    async (c) => c.json({ files: await warehouse.all(sql.REJECTED_FILES) }, 200),
  );

  app.openapi(
    createRoute({
      method: 'get',
      path: '/api/data/files',
      tags: ['data'],
      summary: 'The source file inventory with versions and load status',
      request: { query: page({ day: DaySchema.optional(), status: z.enum(FILE_STATUSES).optional() }) },
      responses: json(
        z.object({ files: z.array(RowSchema), total: z.number(), statuses: z.array(RowSchema) }),
        'A page of files',
      ),
    }),
    async (c) => {
      const q = c.req.valid('query');
      const filter = [q.day ?? null, q.status ?? null];
      const [files, [count], statuses] = await Promise.all([
        warehouse.all(sql.FILES, [...filter, q.limit, q.offset]),
        warehouse.all<{ total: number }>(sql.FILES_COUNT, filter),
        warehouse.all(sql.FILE_STATUS_COUNTS),
      ]);
      return c.json({ files, total: count?.total ?? 0, statuses }, 200);
    },
  );

  app.openapi(
    createRoute({
      method: 'get',
      path: '/api/lineage/day',
      tags: ['lineage'],
      summary: 'Drill-down, step 1: the files (and runs) behind one day of an aggregate figure',
      description:
        'With dimension filters the totals and files are those of the matching events only; the sum of the files equals the figure.',
      request: { query: CellQuery },
      responses: json(
        z.object({
          day: z.string(),
          totals: RowSchema,
          files: z.array(RowSchema),
          materializations: z.array(RowSchema),
        }),
        'The day with its files',
      ),
    }),
    async (c) => {
      const query = c.req.valid('query');
      const where = cellWhere(query);
      const [[totals], files, lineage] = await Promise.all([
        warehouse.all(sql.sourceRowsTotals(where.sql), where.params),
        warehouse.all(sql.filesBehind(where.sql), where.params),
        partitionLineage(runtime, 'daily_aggregates', query.day, 0),
      ]);
      return c.json(
        { day: query.day, totals: totals ?? {}, files, materializations: lineage.materializations },
        200,
      );
    },
  );

  app.openapi(
    createRoute({
      method: 'get',
      path: '/api/lineage/rows',
      tags: ['lineage'],
      summary: 'Drill-down, step 2: the source lines (file and line number) behind a figure',
      request: { query: page({ ...CellQuery.shape, source_key: z.string().min(1).optional() }) },
      responses: json(z.object({ rows: z.array(RowSchema), total: z.number() }), 'A page of source rows'),
    }),
    async (c) => {
      const { limit, offset, source_key, ...cell } = c.req.valid('query');
      const where = cellWhere(cell, source_key);
      const n = where.params.length;
      const [rows, [totals]] = await Promise.all([
        warehouse.all(sql.sourceRows(where.sql, `$${n + 1}`, `$${n + 2}`), [...where.params, limit, offset]),
        warehouse.all<{ events: number }>(sql.sourceRowsTotals(where.sql), where.params),
      ]);
      return c.json({ rows, total: totals?.events ?? 0 }, 200);
    },
  );
}
