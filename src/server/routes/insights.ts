import { createRoute, z } from '@hono/zod-openapi';
import type { Row } from '../../warehouse/warehouse.js';
import { FilterQuery, json, limitParam, RowSchema } from '../api-schema.js';
import type { App } from '../app.js';
import type { AppDeps } from '../app-deps.js';
import { DIMENSIONS, eventWhere, hasDimensionFilter } from '../event-filters.js';
import * as sql from '../insights-sql.js';

const SummarySchema = z
  .object({
    event_count: z.number(),
    total_credit_usage: z.string().openapi({ description: 'exact decimal', example: '12345.678900' }),
    success_count: z.number(),
    failure_count: z.number(),
    success_rate: z.string().nullable(),
    first_day: z.string().nullable(),
    last_day: z.string().nullable(),
    days: z.number(),
    avg_daily_credit_usage: z.string().nullable(),
    avg_credit_usage: z.string().nullable(),
    unique_users: z.number(),
    source: z.enum(['aggregates', 'events']),
  })
  .openapi('InsightSummary');

const DimensionParam = z.object({
  dimension: z.enum(DIMENSIONS).openapi({ param: { name: 'dimension', in: 'path' }, example: 'region' }),
});

export function registerInsightRoutes(app: App, deps: AppDeps): void {
  const { warehouse } = deps.runtime;
  /** Whether a question needs raw events: any dimension filter does; a date range alone does not. */
  const source = (filters: z.infer<typeof FilterQuery>) =>
    hasDimensionFilter(filters) ? 'events' : 'aggregates';

  app.openapi(
    createRoute({
      method: 'get',
      path: '/api/insights/summary',
      tags: ['insights'],
      summary: 'Totals for a date range and optional dimension filters: spend, volume, users, success rate',
      request: { query: FilterQuery },
      responses: json(SummarySchema, 'Totals'),
    }),
    async (c) => {
      const filters = c.req.valid('query');
      const ranged = filters.from !== undefined || filters.to !== undefined;
      if (source(filters) === 'aggregates') {
        const [totals] = await warehouse.all(sql.SUMMARY_FROM_AGGREGATES, [
          filters.from ?? null,
          filters.to ?? null,
        ]);
        // Distinct users over a sub-range can only be counted from events.
        const where = eventWhere(filters);
        const [users] = ranged
          ? await warehouse.all(sql.usersFromEvents(where.sql), where.params)
          : await warehouse.all(sql.ALL_TIME_USERS);
        return c.json(
          { ...totals, unique_users: users?.unique_users ?? 0, source: 'aggregates' } as never,
          200,
        );
      }
      const where = eventWhere(filters);
      const [totals] = await warehouse.all(sql.summaryFromEvents(where.sql), where.params);
      return c.json({ ...totals, source: 'events' } as never, 200);
    },
  );

  app.openapi(
    createRoute({
      method: 'get',
      path: '/api/insights/daily',
      tags: ['insights'],
      summary: 'Spend, volume and success rate per UTC day',
      request: { query: FilterQuery },
      responses: json(
        z.object({ days: z.array(RowSchema), source: z.enum(['aggregates', 'events']) }),
        'Day series',
      ),
    }),
    async (c) => {
      const filters = c.req.valid('query');
      if (source(filters) === 'aggregates') {
        const days = await warehouse.all(sql.DAILY_FROM_AGGREGATES, [
          filters.from ?? null,
          filters.to ?? null,
        ]);
        return c.json({ days, source: 'aggregates' as const }, 200);
      }
      const where = eventWhere(filters);
      const days = await warehouse.all(sql.dailyFromEvents(where.sql), where.params);
      return c.json({ days, source: 'events' as const }, 200);
    },
  );

  app.openapi(
    createRoute({
      method: 'get',
      path: '/api/insights/breakdown/{dimension}',
      tags: ['insights'],
      summary: 'Totals per value of one dimension (region, tier, operation, user, ...)',
      request: {
        params: DimensionParam,
        query: FilterQuery.extend({
          limit: limitParam(1000, 20),
          order: z.enum(['spend', 'events']).default('spend'),
        }),
      },
      responses: json(
        z.object({
          dimension: z.enum(DIMENSIONS),
          rows: z.array(RowSchema),
          source: z.enum(['aggregates', 'events']),
        }),
        'Breakdown',
      ),
    }),
    async (c) => {
      const { dimension } = c.req.valid('param');
      const { limit, order, ...filters } = c.req.valid('query');
      const ranged = filters.from !== undefined || filters.to !== undefined;
      if (!ranged && source(filters) === 'aggregates') {
        const rows = await warehouse.all(sql.breakdownFromAggregates(dimension, order), [limit]);
        return c.json({ dimension, rows, source: 'aggregates' as const }, 200);
      }
      const where = eventWhere(filters);
      const rows = await warehouse.all(
        sql.breakdownFromEvents(dimension, where.sql, order, `$${where.params.length + 1}`),
        [...where.params, limit],
      );
      return c.json({ dimension, rows, source: 'events' as const }, 200);
    },
  );

  app.openapi(
    createRoute({
      method: 'get',
      path: '/api/insights/options',
      tags: ['insights'],
      summary: 'The values each filter can take and the first and last day with data',
      responses: json(
        z.object({
          first_day: z.string().nullable(),
          last_day: z.string().nullable(),
          values: z.record(z.string(), z.array(z.string())),
        }),
        'Filter options',
      ),
    }),
    async (c) => {
      const values: Record<string, string[]> = {};
      for (const [dimension, query] of Object.entries(sql.FILTER_OPTIONS)) {
        values[dimension] = (await warehouse.all<{ v: string }>(query)).map((r) => r.v);
      }
      const [span] = await warehouse.all<{ first_day: string | null; last_day: string | null }>(sql.DAY_SPAN);
      return c.json({ first_day: span?.first_day ?? null, last_day: span?.last_day ?? null, values }, 200);
    },
  );

  app.openapi(
    createRoute({
      method: 'get',
      path: '/api/insights/report',
      tags: ['insights'],
      summary: 'The precomputed insight tables (as `billing-pipeline insights` prints them)',
      responses: json(
        z.record(z.string(), z.array(RowSchema)),
        'Insight tables; empty before the first materialization',
      ),
    }),
    async (c) => {
      const [exists] = await warehouse.all<{ n: number }>(
        "SELECT count(*) AS n FROM information_schema.tables WHERE table_name = 'billing_insights'",
      );
      const report: Record<string, Row[]> = {};
      for (const [name, query] of Object.entries(sql.REPORT_TABLES)) {
        report[name] = exists?.n ? await warehouse.all(query) : [];
      }
      return c.json(report, 200);
    },
  );
}
