import { exactMean, ratio } from '../billing/sql/money.js';
import { ident } from '../warehouse/warehouse.js';
import type { Dimension } from './event-filters.js';

/**
 * The dashboard's queries. Without dimension filters they read the aggregate tables; a filter
 * (region, tier, ...) can only be answered from `billing_events`, which every aggregate came from,
 * so both paths give the same exact sums. Money stays DECIMAL; ratios are DECIMAL(9,6).
 */

const DAY_RANGE = `day BETWEEN coalesce(CAST($1 AS DATE), DATE '0001-01-01')
  AND coalesce(CAST($2 AS DATE), DATE '9999-12-31')`;

const safeMean = (sum: string, count: string) => `CASE WHEN ${count} > 0 THEN ${exactMean(sum, count)} END`;

/** Totals over a day range from `daily_aggregates`; $1/$2 from/to or NULL. */
export const SUMMARY_FROM_AGGREGATES = `SELECT coalesce(sum(event_count), 0) AS event_count,
    coalesce(sum(total_credit_usage), 0) AS total_credit_usage,
    coalesce(sum(success_count), 0) AS success_count,
    coalesce(sum(failure_count), 0) AS failure_count,
    ${ratio('sum(success_count)', 'sum(event_count)')} AS success_rate,
    CAST(min(day) AS VARCHAR) AS first_day, CAST(max(day) AS VARCHAR) AS last_day, count(*) AS days,
    ${safeMean('sum(total_credit_usage)', 'count(*)')} AS avg_daily_credit_usage,
    ${safeMean('sum(total_credit_usage)', 'sum(event_count)')} AS avg_credit_usage
  FROM daily_aggregates WHERE ${DAY_RANGE}`;

/** Distinct users cannot be added up over days; over all time `user_aggregates` has one row per user. */
export const ALL_TIME_USERS = 'SELECT count(*) AS unique_users FROM user_aggregates';

export function usersFromEvents(where: string): string {
  return `SELECT count(DISTINCT e.user_id) AS unique_users FROM billing_events e ${where}`;
}

/** Totals from events, for filtered questions; `where` comes from `eventWhere`. */
export function summaryFromEvents(where: string): string {
  return `SELECT count(*) AS event_count,
    coalesce(sum(e.credit_usage), 0) AS total_credit_usage,
    count(*) FILTER (WHERE e.success) AS success_count,
    count(*) FILTER (WHERE NOT e.success) AS failure_count,
    ${ratio('count(*) FILTER (WHERE e.success)', 'count(*)')} AS success_rate,
    CAST(min(e.event_date) AS VARCHAR) AS first_day, CAST(max(e.event_date) AS VARCHAR) AS last_day,
    count(DISTINCT e.event_date) AS days,
    ${safeMean('sum(e.credit_usage)', 'count(DISTINCT e.event_date)')} AS avg_daily_credit_usage,
    ${safeMean('sum(e.credit_usage)', 'count(*)')} AS avg_credit_usage,
    count(DISTINCT e.user_id) AS unique_users
  FROM billing_events e ${where}`;
}

/** The day series from `daily_aggregates`; $1/$2 from/to or NULL. */
export const DAILY_FROM_AGGREGATES = `SELECT CAST(day AS VARCHAR) AS day, event_count, total_credit_usage,
    success_count, failure_count, success_rate, unique_users, avg_credit_usage
  FROM daily_aggregates WHERE ${DAY_RANGE} ORDER BY day`;

export function dailyFromEvents(where: string): string {
  return `SELECT CAST(e.event_date AS VARCHAR) AS day, count(*) AS event_count,
    sum(e.credit_usage) AS total_credit_usage,
    count(*) FILTER (WHERE e.success) AS success_count,
    count(*) FILTER (WHERE NOT e.success) AS failure_count,
    ${ratio('count(*) FILTER (WHERE e.success)', 'count(*)')} AS success_rate,
    count(DISTINCT e.user_id) AS unique_users,
    ${exactMean('sum(e.credit_usage)', 'count(*)')} AS avg_credit_usage
  FROM billing_events e ${where} GROUP BY e.event_date ORDER BY e.event_date`;
}

export type BreakdownOrder = 'spend' | 'events';

const orderBy = (order: BreakdownOrder) =>
  order === 'spend'
    ? 'total_credit_usage DESC, event_count DESC, key NULLS LAST'
    : 'event_count DESC, total_credit_usage DESC, key NULLS LAST';

/** Per value of one dimension, from events; the limit is the last parameter. */
export function breakdownFromEvents(
  dimension: Dimension,
  where: string,
  order: BreakdownOrder,
  limitParam: string,
): string {
  const column = `e.${ident(dimension)}`;
  return `SELECT CAST(${column} AS VARCHAR) AS key, count(*) AS event_count,
    sum(e.credit_usage) AS total_credit_usage,
    count(*) FILTER (WHERE e.success) AS success_count,
    count(*) FILTER (WHERE NOT e.success) AS failure_count,
    ${ratio('count(*) FILTER (WHERE e.success)', 'count(*)')} AS success_rate,
    count(DISTINCT e.user_id) AS unique_users,
    ${exactMean('sum(e.credit_usage)', 'count(*)')} AS avg_credit_usage
  FROM billing_events e ${where} GROUP BY ${column} ORDER BY ${orderBy(order)} LIMIT ${limitParam}`;
}

/**
 * Per value of one dimension over all time, from its aggregate table. Columns an aggregate does not
 * keep (e.g. distinct users per tier, which do not add up) are NULL. $1 = limit.
 */
export function breakdownFromAggregates(dimension: Dimension, order: BreakdownOrder): string {
  const tail = `ORDER BY ${orderBy(order)} LIMIT $1`;
  switch (dimension) {
    case 'region':
      return `SELECT region AS key, event_count, total_credit_usage, NULL AS success_count, NULL AS failure_count,
          NULL AS success_rate, unique_users, ${safeMean('total_credit_usage', 'event_count')} AS avg_credit_usage
        FROM region_aggregates ${tail}`;
    case 'currency':
      return `SELECT currency AS key, event_count, total_credit_usage, NULL AS success_count, NULL AS failure_count,
          NULL AS success_rate, unique_users, ${safeMean('total_credit_usage', 'event_count')} AS avg_credit_usage
        FROM currency_aggregates ${tail}`;
    case 'user_id':
      return `SELECT CAST(user_id AS VARCHAR) AS key, event_count, total_credit_usage, success_count,
          event_count - success_count AS failure_count, ${ratio('success_count', 'event_count')} AS success_rate,
          1 AS unique_users, ${safeMean('total_credit_usage', 'event_count')} AS avg_credit_usage
        FROM user_aggregates ${tail}`;
    case 'service_tier':
    case 'operation_type':
    case 'resource_type':
      return `SELECT ${ident(dimension)} AS key, sum(event_count) AS event_count,
          sum(total_credit_usage) AS total_credit_usage, sum(success_count) AS success_count,
          sum(failure_count) AS failure_count, ${ratio('sum(success_count)', 'sum(event_count)')} AS success_rate,
          NULL AS unique_users, ${safeMean('sum(total_credit_usage)', 'sum(event_count)')} AS avg_credit_usage
        FROM service_aggregates GROUP BY ${ident(dimension)} ${tail}`;
    default: {
      const unreachable: never = dimension;
      throw new Error(`unknown dimension ${String(unreachable)}`);
    }
  }
}

/** The values each filter can take and the days with data, for the dashboard's pickers. */
export const FILTER_OPTIONS = {
  region: 'SELECT region AS v FROM region_aggregates WHERE region IS NOT NULL ORDER BY 1',
  service_tier:
    'SELECT DISTINCT service_tier AS v FROM service_aggregates WHERE service_tier IS NOT NULL ORDER BY 1',
  operation_type:
    'SELECT DISTINCT operation_type AS v FROM service_aggregates WHERE operation_type IS NOT NULL ORDER BY 1',
  resource_type:
    'SELECT DISTINCT resource_type AS v FROM service_aggregates WHERE resource_type IS NOT NULL ORDER BY 1',
  currency: 'SELECT currency AS v FROM currency_aggregates WHERE currency IS NOT NULL ORDER BY 1',
} as const;

export const DAY_SPAN =
  'SELECT CAST(min(day) AS VARCHAR) AS first_day, CAST(max(day) AS VARCHAR) AS last_day FROM daily_aggregates';

/** The precomputed insight tables, as the CLI's `insights` report shows them. */
export const REPORT_TABLES = {
  totals: 'SELECT * FROM billing_insights',
  top_users: 'SELECT * FROM insights_top_users ORDER BY rank',
  top_regions: 'SELECT * FROM insights_top_regions ORDER BY rank',
  operation_mix: 'SELECT * FROM insights_operation_mix',
  tier_performance: 'SELECT * FROM insights_tier_performance',
  daily_change: 'SELECT * FROM insights_daily_change ORDER BY day',
} as const;
