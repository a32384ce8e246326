import { createRoute, z } from '@hono/zod-openapi';
import type { Warehouse } from '../../warehouse/warehouse.js';
import { FilterQuery, type Filters, json, limitParam } from '../api-schema.js';
import type { App } from '../app.js';
import type { AppDeps } from '../app-deps.js';
import { DIMENSIONS, type Dimension, eventWhere, hasDimensionFilter } from '../event-filters.js';
import {
  type Breakdown,
  BreakdownSchema,
  type Daily,
  DailySchema,
  type FxCoverage,
  FxCoverageSchema,
  type Money,
  OptionsSchema,
  type Report,
  ReportSchema,
  type Summary,
  SummarySchema,
} from '../insights-schemas.js';
import * as sql from '../insights-sql.js';

const DimensionParam = z.object({
  dimension: z.enum(DIMENSIONS).openapi({ param: { name: 'dimension', in: 'path' }, example: 'region' }),
});

type Decimal = string | null;

/** What the breakdown SQL returns per row (see insights-sql.ts). */
interface BreakdownSqlRow {
  key: string | null;
  event_count: number;
  success_count: number | null;
  failure_count: number | null;
  success_rate: Decimal;
  unique_users: number | null;
  spend: Decimal;
  avg_spend_per_event: Decimal;
  share_of_spend: Decimal;
  original_total: Decimal;
  unnormalized_events: number;
}

/** The FX coverage of the events, with what to set to get rates (the dashboard's and asset page's notice). */
export async function fxCoverage(
  warehouse: Warehouse,
  config: { fxSource: string | null; reportingCurrency: string },
): Promise<FxCoverage> {
  const missing = await warehouse.all<{ day: string; currency: string; events: number }>(
    sql.UNNORMALIZED_BY_DAY,
  );
  const byCurrency = new Map<string, FxCoverage['currencies'][number]>();
  for (const m of missing) {
    const c = byCurrency.get(m.currency);
    if (c) {
      c.events += m.events;
      c.days += 1;
      c.last_day = m.day;
    } else {
      byCurrency.set(m.currency, {
        currency: m.currency,
        events: m.events,
        days: 1,
        first_day: m.day,
        last_day: m.day,
      });
    }
  }
  return {
    reporting_currency: config.reportingCurrency,
    source_configured: config.fxSource !== null,
    source: config.fxSource,
    setting: { variable: 'BILLING_FX_SOURCE', config_key: 'fx_source', config_file: 'billing-pipeline.yaml' },
    unnormalized_events: missing.reduce((n, m) => n + m.events, 0),
    currencies: [...byCurrency.values()].sort((a, b) => a.currency.localeCompare(b.currency)),
    missing,
  };
}

export function registerInsightRoutes(app: App, deps: AppDeps): void {
  const { warehouse, config } = deps.runtime;
  const currency = config.reportingCurrency;
  const money = (amount: Decimal): Money => ({ amount, currency });
  /** Whether a question needs raw events: any dimension filter does; a date range alone does not. */
  const source = (filters: Filters) => (hasDimensionFilter(filters) ? 'events' : 'aggregates');

  const breakdownRows = (dimension: Dimension, rows: BreakdownSqlRow[]): Breakdown['rows'] =>
    rows.map((r) => ({
      key: r.key,
      event_count: r.event_count,
      success_count: r.success_count,
      failure_count: r.failure_count,
      success_rate: r.success_rate,
      unique_users: r.unique_users,
      spend: money(r.spend),
      avg_spend_per_event: money(r.avg_spend_per_event),
      share_of_spend: r.share_of_spend,
      original:
        dimension === 'currency' && r.key !== null ? { amount: r.original_total, currency: r.key } : null,
      unnormalized_events: Number(r.unnormalized_events),
    }));

  const breakdown = async (
    dimension: Dimension,
    filters: Filters,
    order: sql.BreakdownOrder,
    limit: number,
  ): Promise<{ rows: BreakdownSqlRow[]; source: Breakdown['source'] }> => {
    const ranged = filters.from !== undefined || filters.to !== undefined;
    if (!ranged && source(filters) === 'aggregates') {
      const rows = await warehouse.all<BreakdownSqlRow>(sql.breakdownFromAggregates(dimension, order), [
        limit,
      ]);
      return { rows, source: 'aggregates' };
    }
    const where = eventWhere(filters);
    const rows = await warehouse.all<BreakdownSqlRow>(
      sql.breakdownFromEvents(dimension, where.sql, order, `$${where.params.length + 1}`),
      [...where.params, limit],
    );
    return { rows, source: 'events' };
  };

  /** Events without a rate under the filters, per currency. */
  const unnormalized = async (filters: Filters): Promise<Map<string, number>> => {
    const where = eventWhere(filters);
    const rows = await warehouse.all<{ currency: string; n: number }>(
      sql.unnormalizedEvents(where.sql),
      where.params,
    );
    return new Map(rows.map((r) => [r.currency, r.n]));
  };
  const sum = (counts: Map<string, number>) => [...counts.values()].reduce((n, v) => n + v, 0);

  app.openapi(
    createRoute({
      method: 'get',
      path: '/api/insights/summary',
      tags: ['insights'],
      summary:
        'Totals for a date range and optional dimension filters: spend in the reporting currency, per-currency totals, volume, users, success rate',
      request: { query: FilterQuery },
      responses: json(SummarySchema, 'Totals'),
    }),
    async (c) => {
      const filters = c.req.valid('query');
      const ranged = filters.from !== undefined || filters.to !== undefined;
      const where = eventWhere(filters);
      let totals: {
        event_count: number;
        success_count: number;
        failure_count: number;
        success_rate: Decimal;
        first_day: string | null;
        last_day: string | null;
        days: number;
        spend: Decimal;
        avg_daily_spend: Decimal;
        avg_spend_per_event: Decimal;
        unique_users: number;
      };
      const from = source(filters);
      if (from === 'aggregates') {
        const [row] = await warehouse.all<Omit<typeof totals, 'unique_users'>>(sql.SUMMARY_FROM_AGGREGATES, [
          filters.from ?? null,
          filters.to ?? null,
        ]);
        // Distinct users over a sub-range can only be counted from events.
        const [users] = ranged
          ? await warehouse.all<{ unique_users: number }>(sql.usersFromEvents(where.sql), where.params)
          : await warehouse.all<{ unique_users: number }>(sql.ALL_TIME_USERS);
        if (!row) throw new Error('the summary query returned no row');
        totals = { ...row, unique_users: users?.unique_users ?? 0 };
      } else {
        const [row] = await warehouse.all<typeof totals>(sql.summaryFromEvents(where.sql), where.params);
        if (!row) throw new Error('the summary query returned no row');
        totals = row;
      }
      const [missingByCurrency, currencies] = await Promise.all([
        unnormalized(filters),
        breakdown('currency', filters, 'events', 1000),
      ]);
      const missing = sum(missingByCurrency);
      // Any event without a rate makes the total unknown, even when the checks hold its day back
      // from the aggregates: a sum over the other days would look complete and be too small.
      const known = missing === 0;
      const body: Summary = {
        currency,
        event_count: totals.event_count,
        success_count: totals.success_count,
        failure_count: totals.failure_count,
        success_rate: totals.success_rate,
        first_day: totals.first_day,
        last_day: totals.last_day,
        days: totals.days,
        unique_users: totals.unique_users,
        spend: money(known ? totals.spend : null),
        avg_daily_spend: money(known ? totals.avg_daily_spend : null),
        avg_spend_per_event: money(known ? totals.avg_spend_per_event : null),
        unnormalized_events: missing,
        by_currency: currencies.rows.map((r) => ({
          currency: r.key ?? '(no currency)',
          event_count: r.event_count,
          original: { amount: r.original_total, currency: r.key ?? '(no currency)' },
          spend: money(r.spend),
          unnormalized_events: missingByCurrency.get(r.key ?? '(no currency)') ?? 0,
        })),
        source: from,
      };
      return c.json(body, 200);
    },
  );

  app.openapi(
    createRoute({
      method: 'get',
      path: '/api/insights/daily',
      tags: ['insights'],
      summary: 'Spend (in the reporting currency), volume and success rate per UTC day',
      request: { query: FilterQuery },
      responses: json(DailySchema, 'Day series'),
    }),
    async (c) => {
      const filters = c.req.valid('query');
      type DaySql = Omit<Daily['days'][number], 'spend' | 'avg_spend_per_event'> & {
        spend: Decimal;
        avg_spend_per_event: Decimal;
      };
      const from = source(filters);
      let rows: DaySql[];
      if (from === 'aggregates') {
        rows = await warehouse.all<DaySql>(sql.DAILY_FROM_AGGREGATES, [
          filters.from ?? null,
          filters.to ?? null,
        ]);
      } else {
        const where = eventWhere(filters);
        rows = await warehouse.all<DaySql>(sql.dailyFromEvents(where.sql), where.params);
      }
      const days = rows.map((r) => ({
        ...r,
        spend: money(r.spend),
        avg_spend_per_event: money(r.avg_spend_per_event),
      }));
      const body: Daily = { currency, days, source: from };
      return c.json(body, 200);
    },
  );

  app.openapi(
    createRoute({
      method: 'get',
      path: '/api/insights/breakdown/{dimension}',
      tags: ['insights'],
      summary:
        'Totals per value of one dimension (region, tier, operation, user, currency, ...), ranked by spend in the reporting currency or by events',
      request: {
        params: DimensionParam,
        query: FilterQuery.extend({
          limit: limitParam(1000, 20),
          order: z.enum(['spend', 'events']).default('spend'),
        }),
      },
      responses: json(BreakdownSchema, 'Breakdown'),
    }),
    async (c) => {
      const { dimension } = c.req.valid('param');
      const { limit, order, ...filters } = c.req.valid('query');
      const [result, missing] = await Promise.all([
        breakdown(dimension, filters, order, limit),
        unnormalized(filters),
      ]);
      // A share is of the whole selection's spend, unknown while any of its events lacks a rate.
      const known = sum(missing) === 0;
      const rows = breakdownRows(dimension, result.rows).map((r) =>
        known ? r : { ...r, share_of_spend: null },
      );
      const body: Breakdown = { dimension, currency, rows, source: result.source };
      return c.json(body, 200);
    },
  );

  app.openapi(
    createRoute({
      method: 'get',
      path: '/api/insights/fx',
      tags: ['insights'],
      summary:
        'FX coverage: the event days and currencies without a rate, whether an FX source is configured, and the setting to set',
      responses: json(FxCoverageSchema, 'FX coverage'),
    }),
    async (c) => c.json(await fxCoverage(warehouse, config), 200),
  );

  app.openapi(
    createRoute({
      method: 'get',
      path: '/api/insights/options',
      tags: ['insights'],
      summary: 'The values each filter can take and the first and last day with data',
      responses: json(OptionsSchema, 'Filter options'),
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
      summary:
        'The precomputed insight tables (as `billing-pipeline insights` prints them); money in the reporting currency, original amounts per currency only',
      responses: json(ReportSchema, 'Insight tables; empty before the first materialization'),
    }),
    async (c) => {
      const [exists] = await warehouse.all<{ n: number }>(
        "SELECT count(*) AS n FROM information_schema.tables WHERE table_name = 'insights_currency_totals'",
      );
      const report: Report = {};
      for (const [name, query] of Object.entries(sql.REPORT_TABLES)) {
        report[name] = exists?.n ? await warehouse.all(query) : [];
      }
      return c.json(report, 200);
    },
  );
}
