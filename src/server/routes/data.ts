import { createRoute, z } from '@hono/zod-openapi';
import { partitionLineage } from '../../billing/lineage.js';
import type { SqlValue } from '../../warehouse/warehouse.js';
import { DaySchema, FilterQuery, json, limitParam, offsetParam } from '../api-schema.js';
import type { App } from '../app.js';
import type { AppDeps } from '../app-deps.js';
import {
  FILE_STATUSES,
  type LineageDay,
  LineageDaySchema,
  type RejectedFiles,
  RejectedFilesSchema,
  type RejectedReasons,
  RejectedReasonsSchema,
  type RejectedRows,
  RejectedRowsSchema,
  type SourceFiles,
  SourceFilesSchema,
  type SourceRow,
  type SourceRows,
  SourceRowsSchema,
} from '../data-schemas.js';
import * as sql from '../data-sql.js';
import { eventWhere, type WhereClause } from '../event-filters.js';
import type { Money } from '../insights-schemas.js';

type Decimal = string | null;

interface CurrencySqlRow {
  currency: string;
  events: number;
  original_total: string;
  spend: Decimal;
  unnormalized_events: number;
}

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
  const currency = runtime.config.reportingCurrency;
  const money = (amount: Decimal): Money => ({ amount, currency });
  const currencyTotal = (r: CurrencySqlRow) => ({
    currency: r.currency,
    event_count: r.events,
    original: { amount: r.original_total, currency: r.currency },
    spend: money(r.spend),
    unnormalized_events: r.unnormalized_events,
  });

  app.openapi(
    createRoute({
      method: 'get',
      path: '/api/data/rejected-reasons',
      tags: ['data'],
      summary: 'Rejected rows grouped by what was wrong (the column that failed, or the field count)',
      responses: json(RejectedReasonsSchema, 'Reason classes with counts'),
    }),
    async (c) => {
      const reasons = await warehouse.all<RejectedReasons['reasons'][number]>(sql.REJECTED_REASONS);
      return c.json({ reasons }, 200);
    },
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
      responses: json(RejectedRowsSchema, 'A page of rejected rows'),
    }),
    async (c) => {
      const q = c.req.valid('query');
      const filter = [q.source_key ?? null, q.category ?? null];
      const [rows, [count]] = await Promise.all([
        warehouse.all<RejectedRows['rows'][number]>(sql.REJECTED_ROWS, [...filter, q.limit, q.offset]),
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
      responses: json(RejectedFilesSchema, 'Rejected files'),
    }),
    async (c) => {
      const files = await warehouse.all<RejectedFiles['files'][number]>(sql.REJECTED_FILES);
      return c.json({ files }, 200);
    },
  );

  app.openapi(
    createRoute({
      method: 'get',
      path: '/api/data/files',
      tags: ['data'],
      summary: 'The source file inventory with versions and load status',
      request: { query: page({ day: DaySchema.optional(), status: z.enum(FILE_STATUSES).optional() }) },
      responses: json(SourceFilesSchema, 'A page of files'),
    }),
    async (c) => {
      const q = c.req.valid('query');
      const filter = [q.day ?? null, q.status ?? null];
      const [files, [count], statuses] = await Promise.all([
        warehouse.all<SourceFiles['files'][number]>(sql.FILES, [...filter, q.limit, q.offset]),
        warehouse.all<{ total: number }>(sql.FILES_COUNT, filter),
        warehouse.all<SourceFiles['statuses'][number]>(sql.FILE_STATUS_COUNTS),
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
      responses: json(LineageDaySchema, 'The day with its files'),
    }),
    async (c) => {
      const query = c.req.valid('query');
      const where = cellWhere(query);
      type FileSql = Omit<LineageDay['files'][number], 'spend' | 'by_currency'> & { spend: Decimal };
      const [[totals], byCurrency, files, fileCurrencies, lineage] = await Promise.all([
        warehouse.all<{ events: number; spend: Decimal; unnormalized_events: number }>(
          sql.sourceRowsTotals(where.sql),
          where.params,
        ),
        warehouse.all<CurrencySqlRow>(sql.currencyTotals(where.sql), where.params),
        warehouse.all<FileSql>(sql.filesBehind(where.sql), where.params),
        warehouse.all<CurrencySqlRow & { source_key: string }>(
          sql.filesBehindByCurrency(where.sql),
          where.params,
        ),
        partitionLineage(runtime, 'daily_aggregates', query.day, 0),
      ]);
      const body: LineageDay = {
        day: query.day,
        currency,
        totals: {
          events: totals?.events ?? 0,
          spend: money(totals?.spend ?? null),
          unnormalized_events: totals?.unnormalized_events ?? 0,
          by_currency: byCurrency.map(currencyTotal),
        },
        files: files.map((f) => ({
          ...f,
          spend: money(f.spend),
          by_currency: fileCurrencies.filter((r) => r.source_key === f.source_key).map(currencyTotal),
        })),
        materializations: lineage.materializations,
      };
      return c.json(body, 200);
    },
  );

  app.openapi(
    createRoute({
      method: 'get',
      path: '/api/lineage/rows',
      tags: ['lineage'],
      summary: 'Drill-down, step 2: the source lines (file and line number) behind a figure',
      request: { query: page({ ...CellQuery.shape, source_key: z.string().min(1).optional() }) },
      responses: json(SourceRowsSchema, 'A page of source rows'),
    }),
    async (c) => {
      const { limit, offset, source_key, ...cell } = c.req.valid('query');
      const where = cellWhere(cell, source_key);
      const n = where.params.length;
      type RowSql = Omit<SourceRow, 'spend'> & { normalized_credit_usage: Decimal };
      const [rows, [totals]] = await Promise.all([
        warehouse.all<RowSql>(sql.sourceRows(where.sql, `$${n + 1}`, `$${n + 2}`), [
          ...where.params,
          limit,
          offset,
        ]),
        warehouse.all<{ events: number }>(sql.sourceRowsTotals(where.sql), where.params),
      ]);
      const body: SourceRows = {
        rows: rows.map(({ normalized_credit_usage, ...r }) => ({
          ...r,
          spend: money(normalized_credit_usage),
        })),
        total: totals?.events ?? 0,
      };
      return c.json(body, 200);
    },
  );
}
