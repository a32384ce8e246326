import { exactMean, ratio } from '../billing/sql/money.js';
import { ident } from '../warehouse/warehouse.js';
import type { Dimension } from './event-filters.js';

/**
 * The dashboard's queries. Without dimension filters they read the aggregate tables; a filter
 * (region, tier, ...) can only be answered from `billing_events`, which every aggregate came from,
 * so both paths give the same exact sums. Ratios are DECIMAL(9,6).
 *
 * Money is the normalized amount (in the reporting currency) only: a sum over events in several
 * currencies means nothing. `spend` is NULL when any event or aggregate row behind it lacks a rate,
 * never a partial sum. Original amounts are only ever summed per currency (`original_total`).
 */

const DAY_RANGE = `day BETWEEN coalesce(CAST($1 AS DATE), DATE '0001-01-01')
  AND coalesce(CAST($2 AS DATE), DATE '9999-12-31')`;

/** A zero of the money sums' type: a bare 0 would make PostgreSQL's empty total an integer. */
const ZERO = 'CAST(0 AS DECIMAL(38,6))';

/** The sum of `column`, or NULL (unknown) if any of its values is NULL; zero over no rows. */
export const knownTotal = (column: string) =>
  `CASE WHEN count(${column}) = count(*) THEN coalesce(sum(${column}), ${ZERO}) END`;

const safeMean = (sum: string, count: string) => `CASE WHEN ${count} > 0 THEN ${exactMean(sum, count)} END`;

/** The currency of an event, as a key (an event may carry none). */
export const CURRENCY_KEY = `coalesce(e.currency, '(no currency)')`;

/** Appends a condition to an `eventWhere` clause (which may be empty). */
export const andWhere = (where: string, condition: string) =>
  where ? `${where} AND ${condition}` : `WHERE ${condition}`;

/** Totals over a day range from `daily_aggregates`; $1/$2 from/to or NULL. */
export const SUMMARY_FROM_AGGREGATES = `SELECT coalesce(sum(event_count), 0) AS event_count,
    coalesce(sum(success_count), 0) AS success_count,
    coalesce(sum(failure_count), 0) AS failure_count,
    ${ratio('sum(success_count)', 'sum(event_count)')} AS success_rate,
    CAST(min(day) AS VARCHAR) AS first_day, CAST(max(day) AS VARCHAR) AS last_day, count(*) AS days,
    ${knownTotal('total_normalized_credit_usage')} AS spend,
    ${safeMean(knownTotal('total_normalized_credit_usage'), 'count(*)')} AS avg_daily_spend,
    ${safeMean(knownTotal('total_normalized_credit_usage'), 'sum(event_count)')} AS avg_spend_per_event
  FROM daily_aggregates WHERE ${DAY_RANGE}`;

/** Distinct users cannot be added up over days; over all time `user_aggregates` has one row per user. */
export const ALL_TIME_USERS = 'SELECT count(*) AS unique_users FROM user_aggregates';

export function usersFromEvents(where: string): string {
  return `SELECT count(DISTINCT e.user_id) AS unique_users FROM billing_events e ${where}`;
}

/** Events without a normalized amount under a filter, per currency: while there are any, spend is unknown. */
export function unnormalizedEvents(where: string): string {
  return `SELECT ${CURRENCY_KEY} AS currency, count(*) AS n
    FROM billing_events e ${andWhere(where, 'e.normalized_credit_usage IS NULL')} GROUP BY ${CURRENCY_KEY}`;
}

/** Totals from events, for filtered questions; `where` comes from `eventWhere`. */
export function summaryFromEvents(where: string): string {
  const spend = knownTotal('e.normalized_credit_usage');
  return `SELECT count(*) AS event_count,
    count(*) FILTER (WHERE e.success) AS success_count,
    count(*) FILTER (WHERE NOT e.success) AS failure_count,
    ${ratio('count(*) FILTER (WHERE e.success)', 'count(*)')} AS success_rate,
    CAST(min(e.event_date) AS VARCHAR) AS first_day, CAST(max(e.event_date) AS VARCHAR) AS last_day,
    count(DISTINCT e.event_date) AS days,
    ${spend} AS spend,
    ${safeMean(spend, 'count(DISTINCT e.event_date)')} AS avg_daily_spend,
    ${safeMean(spend, 'count(*)')} AS avg_spend_per_event,
    count(DISTINCT e.user_id) AS unique_users,
    count(*) - count(e.normalized_credit_usage) AS unnormalized_events
  FROM billing_events e ${where}`;
}

/** The day series from `daily_aggregates`; $1/$2 from/to or NULL. */
export const DAILY_FROM_AGGREGATES = `SELECT CAST(day AS VARCHAR) AS day, event_count,
    success_count, failure_count, success_rate, unique_users,
    total_normalized_credit_usage AS spend,
    ${safeMean('total_normalized_credit_usage', 'event_count')} AS avg_spend_per_event,
    unnormalized_event_count AS unnormalized_events
  FROM daily_aggregates WHERE ${DAY_RANGE} ORDER BY day`;

export function dailyFromEvents(where: string): string {
  const spend = knownTotal('e.normalized_credit_usage');
  return `SELECT CAST(e.event_date AS VARCHAR) AS day, count(*) AS event_count,
    count(*) FILTER (WHERE e.success) AS success_count,
    count(*) FILTER (WHERE NOT e.success) AS failure_count,
    ${ratio('count(*) FILTER (WHERE e.success)', 'count(*)')} AS success_rate,
    count(DISTINCT e.user_id) AS unique_users,
    ${spend} AS spend,
    ${exactMean(spend, 'count(*)')} AS avg_spend_per_event,
    count(*) - count(e.normalized_credit_usage) AS unnormalized_events
  FROM billing_events e ${where} GROUP BY e.event_date ORDER BY e.event_date`;
}

export type BreakdownOrder = 'spend' | 'events';

/**
 * Ranks, shares and limits the groups of a breakdown (`groups`: one row per key with `spend`).
 * A share is known only while every group's spend is; unknown spend ranks last, never as zero.
 */
function ranked(groups: string, order: BreakdownOrder, limit: string): string {
  const orderBy =
    order === 'spend'
      ? 'spend DESC NULLS LAST, event_count DESC, key NULLS LAST'
      : 'event_count DESC, spend DESC NULLS LAST, key NULLS LAST';
  return `SELECT g.*,
      CASE WHEN sum(CASE WHEN g.spend IS NULL THEN 1 ELSE 0 END) OVER () = 0
        THEN ${ratio('g.spend', 'sum(g.spend) OVER ()')} END AS share_of_spend
    FROM (${groups}) g ORDER BY ${orderBy} LIMIT ${limit}`;
}

/**
 * Per value of one dimension, from events; the limit is the last parameter. `original_total`, the
 * sum in the events' own currency, is there only when grouping by currency.
 */
export function breakdownFromEvents(
  dimension: Dimension,
  where: string,
  order: BreakdownOrder,
  limitParam: string,
): string {
  const column = dimension === 'currency' ? CURRENCY_KEY : `e.${ident(dimension)}`;
  const spend = knownTotal('e.normalized_credit_usage');
  return ranked(
    `SELECT CAST(${column} AS VARCHAR) AS key, count(*) AS event_count,
      count(*) FILTER (WHERE e.success) AS success_count,
      count(*) FILTER (WHERE NOT e.success) AS failure_count,
      ${ratio('count(*) FILTER (WHERE e.success)', 'count(*)')} AS success_rate,
      count(DISTINCT e.user_id) AS unique_users,
      ${spend} AS spend,
      ${exactMean(spend, 'count(*)')} AS avg_spend_per_event,
      ${dimension === 'currency' ? 'sum(e.credit_usage)' : `CAST(NULL AS DECIMAL(38,6))`} AS original_total,
      count(*) - count(e.normalized_credit_usage) AS unnormalized_events
    FROM billing_events e ${where} GROUP BY ${column}`,
    order,
    limitParam,
  );
}

const NO_ORIGINAL =
  'CAST(NULL AS DECIMAL(38,6)) AS original_total, CAST(NULL AS BIGINT) AS unnormalized_events';

/**
 * Per value of one dimension over all time, from its aggregate table. Columns an aggregate does not
 * keep (e.g. distinct users per tier, which do not add up) are NULL. $1 = limit.
 */
export function breakdownFromAggregates(dimension: Dimension, order: BreakdownOrder): string {
  const mean = (spend: string, events: string) => `${safeMean(spend, events)} AS avg_spend_per_event`;
  const single = 'total_normalized_credit_usage';
  switch (dimension) {
    case 'region':
      return ranked(
        `SELECT region AS key, event_count, CAST(NULL AS BIGINT) AS success_count,
          CAST(NULL AS BIGINT) AS failure_count, CAST(NULL AS DECIMAL(9,6)) AS success_rate, unique_users,
          ${single} AS spend, ${mean(single, 'event_count')}, ${NO_ORIGINAL}
        FROM region_aggregates`,
        order,
        '$1',
      );
    case 'currency':
      return ranked(
        `SELECT coalesce(currency, '(no currency)') AS key, event_count, CAST(NULL AS BIGINT) AS success_count,
          CAST(NULL AS BIGINT) AS failure_count, CAST(NULL AS DECIMAL(9,6)) AS success_rate, unique_users,
          ${single} AS spend, ${mean(single, 'event_count')},
          total_credit_usage AS original_total, unnormalized_event_count AS unnormalized_events
        FROM currency_aggregates`,
        order,
        '$1',
      );
    case 'user_id':
      return ranked(
        `SELECT CAST(user_id AS VARCHAR) AS key, event_count, success_count,
          event_count - success_count AS failure_count, ${ratio('success_count', 'event_count')} AS success_rate,
          CAST(1 AS BIGINT) AS unique_users, ${single} AS spend, ${mean(single, 'event_count')}, ${NO_ORIGINAL}
        FROM user_aggregates`,
        order,
        '$1',
      );
    case 'service_tier':
    case 'operation_type':
    case 'resource_type': {
      const spend = knownTotal(single);
      return ranked(
        `SELECT ${ident(dimension)} AS key, sum(event_count) AS event_count,
          sum(success_count) AS success_count, sum(failure_count) AS failure_count,
          ${ratio('sum(success_count)', 'sum(event_count)')} AS success_rate,
          CAST(NULL AS BIGINT) AS unique_users, ${spend} AS spend, ${mean(spend, 'sum(event_count)')},
          CAST(NULL AS DECIMAL(38,6)) AS original_total, sum(unnormalized_event_count) AS unnormalized_events
        FROM service_aggregates GROUP BY ${ident(dimension)}`,
        order,
        '$1',
      );
    }
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

/**
 * The events without an FX rate, per event day and currency: what the FX notice lists. Read from
 * billing_events, so days the checks hold back from the aggregates are counted too.
 */
export const UNNORMALIZED_BY_DAY = `SELECT CAST(e.event_date AS VARCHAR) AS day, ${CURRENCY_KEY} AS currency,
    count(*) AS events
  FROM billing_events e WHERE e.normalized_credit_usage IS NULL
  GROUP BY e.event_date, ${CURRENCY_KEY} ORDER BY e.event_date, 2`;

/**
 * The precomputed insight tables, as the CLI's `insights` report shows them: money columns in the
 * reporting currency, original amounts only per currency (`currency_totals`).
 */
export const REPORT_TABLES = {
  totals: `SELECT reporting_currency, total_events, total_users, success_count, success_rate, first_day,
      last_day, days, total_normalized_credit_usage, avg_daily_normalized_credit_usage, currency_count,
      spend_anomalies, generated_at
    FROM billing_insights`,
  currency_totals: 'SELECT * FROM insights_currency_totals ORDER BY event_count DESC, currency',
  top_users: `SELECT rank, user_id, event_count, total_normalized_credit_usage, unique_resources, first_seen,
      last_seen, share_of_events
    FROM insights_top_users ORDER BY rank`,
  top_regions: `SELECT rank, region, event_count, unique_users, total_normalized_credit_usage,
      share_of_normalized_spend
    FROM insights_top_regions ORDER BY rank`,
  operation_mix: `SELECT operation_type, event_count, share_of_events, total_normalized_credit_usage
    FROM insights_operation_mix ORDER BY event_count DESC, operation_type`,
  tier_performance: `SELECT service_tier, event_count, success_count, failure_count, success_rate,
      total_normalized_credit_usage, avg_normalized_credit_usage, share_of_normalized_spend
    FROM insights_tier_performance ORDER BY total_normalized_credit_usage DESC NULLS LAST, service_tier`,
  daily_change: `SELECT day, event_count, event_count_change, total_normalized_credit_usage, normalized_change,
      normalized_change_pct
    FROM insights_daily_change ORDER BY day`,
} as const;
