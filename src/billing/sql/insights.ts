import { exactMean, ratio } from './money.js';

/**
 * The dashboard facts, rebuilt from the (small) aggregate tables, never from raw events.
 * Each statement is a whole table: `CREATE OR REPLACE` inside one transaction swaps them atomically.
 */
export const INSIGHT_TABLES: readonly { name: string; sql: string }[] = [
  {
    name: 'billing_insights',
    sql: `CREATE OR REPLACE TABLE billing_insights AS
      SELECT
        (SELECT coalesce(sum(event_count), 0) FROM daily_aggregates) AS total_events,
        (SELECT coalesce(sum(total_credit_usage), 0) FROM daily_aggregates) AS total_credit_usage,
        (SELECT count(*) FROM user_aggregates) AS total_users,
        (SELECT coalesce(sum(success_count), 0) FROM daily_aggregates) AS success_count,
        ${ratio('(SELECT sum(success_count) FROM daily_aggregates)', '(SELECT sum(event_count) FROM daily_aggregates)')} AS success_rate,
        (SELECT min(day) FROM daily_aggregates) AS first_day,
        (SELECT max(day) FROM daily_aggregates) AS last_day,
        (SELECT count(*) FROM daily_aggregates) AS days,
        (SELECT ${exactMean('sum(total_credit_usage)', 'count(*)')} FROM daily_aggregates WHERE event_count > 0) AS avg_daily_credit_usage,
        utc_now() AS generated_at`,
  },
  {
    name: 'insights_top_users',
    sql: `CREATE OR REPLACE TABLE insights_top_users AS
      SELECT CAST(row_number() OVER (ORDER BY event_count DESC, total_credit_usage DESC, user_id) AS INTEGER) AS rank,
        user_id, event_count, total_credit_usage, unique_resources, first_seen, last_seen,
        ${ratio('event_count', '(SELECT sum(event_count) FROM user_aggregates)')} AS share_of_events
      FROM user_aggregates ORDER BY rank LIMIT 10`,
  },
  {
    name: 'insights_top_regions',
    sql: `CREATE OR REPLACE TABLE insights_top_regions AS
      SELECT CAST(row_number() OVER (ORDER BY total_credit_usage DESC, region) AS INTEGER) AS rank,
        region, total_credit_usage, event_count, unique_users,
        ${ratio('total_credit_usage', '(SELECT sum(total_credit_usage) FROM region_aggregates)')} AS share_of_spend
      FROM region_aggregates ORDER BY rank`,
  },
  {
    name: 'insights_operation_mix',
    sql: `CREATE OR REPLACE TABLE insights_operation_mix AS
      SELECT operation_type, sum(event_count) AS event_count, sum(total_credit_usage) AS total_credit_usage,
        ${ratio('sum(event_count)', '(SELECT sum(event_count) FROM service_aggregates)')} AS share_of_events
      FROM service_aggregates GROUP BY operation_type ORDER BY event_count DESC, operation_type`,
  },
  {
    name: 'insights_tier_performance',
    sql: `CREATE OR REPLACE TABLE insights_tier_performance AS
      SELECT service_tier, sum(event_count) AS event_count, sum(total_credit_usage) AS total_credit_usage,
        sum(success_count) AS success_count, sum(failure_count) AS failure_count,
        ${ratio('sum(success_count)', 'sum(event_count)')} AS success_rate,
        ${exactMean('sum(total_credit_usage)', 'sum(event_count)')} AS avg_credit_usage
      FROM service_aggregates GROUP BY service_tier ORDER BY total_credit_usage DESC, service_tier`,
  },
  {
    name: 'insights_daily_change',
    sql: `CREATE OR REPLACE TABLE insights_daily_change AS
      SELECT day, event_count, total_credit_usage,
        lag(total_credit_usage) OVER w AS previous_credit_usage,
        total_credit_usage - lag(total_credit_usage) OVER w AS credit_usage_change,
        CAST(round(100 * CAST(total_credit_usage - lag(total_credit_usage) OVER w AS DOUBLE)
          / nullif(CAST(lag(total_credit_usage) OVER w AS DOUBLE), 0), 2) AS DECIMAL(12,2)) AS credit_usage_change_pct,
        event_count - lag(event_count) OVER w AS event_count_change
      FROM daily_aggregates WINDOW w AS (ORDER BY day) ORDER BY day`,
  },
];
