import { DEFAULT_QUALITY_CONFIG, type SpendAnomalySettings } from '../checks/quality-config.js';
import { exactMean, ratio } from './money.js';
import { spendAnomaliesSql } from './spend-anomalies.js';

export { spendAnomaliesSql } from './spend-anomalies.js';

/** A zero of the money sums' type: a bare 0 would make PostgreSQL's empty total an integer. */
const ZERO = 'CAST(0 AS DECIMAL(38,6))';

/** A total of normalized amounts over aggregate rows: NULL (unknown) if any row's is. */
const knownSum = (column: string) =>
  `CASE WHEN count(*) FILTER (WHERE ${column} IS NULL) = 0 THEN coalesce(sum(${column}), ${ZERO}) END`;

export interface InsightOptions {
  /** BILLING_REPORTING_CURRENCY (a validated three-letter code). */
  reportingCurrency: string;
  spendAnomalies: SpendAnomalySettings;
  /** Whether user_daily_aggregates and region_daily_aggregates are part of the graph. */
  withDailySeries: boolean;
  /** Whether currency_aggregates is part of the graph (default true). */
  withCurrencies?: boolean;
}

/** Day-over-day change of `column` in percent, 2 decimals (statistics, in DOUBLE). */
const changePct = (column: string) =>
  `round(100 * CAST(${column} - lag(${column}) OVER w AS DOUBLE PRECISION)
    / nullif(CAST(lag(${column}) OVER w AS DOUBLE PRECISION), 0), 2)`;

/**
 * The dashboard facts, rebuilt from the (small) aggregate tables, never from raw events.
 * Each statement creates a whole table: dropped and created again inside one transaction (see
 * `insightsAsset`), they are swapped atomically.
 * Money is shown in the reporting currency (`*_normalized_*`, NULL while any amount behind it lacks
 * an FX rate). The raw `total_credit_usage` columns add up amounts in different currencies; they
 * stay for queries over single-currency data, but the dashboard, API and CLI report show original
 * amounts only per currency (`insights_currency_totals`). Rankings follow normalized spend.
 */
export function insightTables(options: InsightOptions): { name: string; sql: string }[] {
  const currency = options.reportingCurrency.replace(/[^A-Z]/g, '');
  const withCurrencies = options.withCurrencies ?? true;
  return [
    {
      name: 'insights_spend_anomalies',
      sql: spendAnomaliesSql(options.spendAnomalies, options.withDailySeries),
    },
    {
      name: 'billing_insights',
      sql: `CREATE TABLE billing_insights AS
      SELECT
        (SELECT coalesce(sum(event_count), 0) FROM daily_aggregates) AS total_events,
        (SELECT coalesce(sum(total_credit_usage), ${ZERO}) FROM daily_aggregates) AS total_credit_usage,
        (SELECT count(*) FROM user_aggregates) AS total_users,
        (SELECT coalesce(sum(success_count), 0) FROM daily_aggregates) AS success_count,
        ${ratio('(SELECT sum(success_count) FROM daily_aggregates)', '(SELECT sum(event_count) FROM daily_aggregates)')} AS success_rate,
        (SELECT min(day) FROM daily_aggregates) AS first_day,
        (SELECT max(day) FROM daily_aggregates) AS last_day,
        (SELECT count(*) FROM daily_aggregates) AS days,
        (SELECT ${exactMean('sum(total_credit_usage)', 'count(*)')} FROM daily_aggregates WHERE event_count > 0) AS avg_daily_credit_usage,
        (SELECT ${knownSum('total_normalized_credit_usage')} FROM daily_aggregates) AS total_normalized_credit_usage,
        (SELECT CASE WHEN count(*) > 0 THEN ${exactMean(knownSum('total_normalized_credit_usage'), 'count(*)')} END
          FROM daily_aggregates WHERE event_count > 0) AS avg_daily_normalized_credit_usage,
        ${withCurrencies ? '(SELECT count(*) FROM currency_aggregates)' : 'CAST(NULL AS BIGINT)'} AS currency_count,
        '${currency}' AS reporting_currency,
        (SELECT count(*) FROM insights_spend_anomalies) AS spend_anomalies,
        utc_now() AS generated_at`,
    },
    {
      name: 'insights_currency_totals',
      sql: withCurrencies
        ? `CREATE TABLE insights_currency_totals AS
      SELECT currency, event_count, total_credit_usage, total_normalized_credit_usage,
        ${ratio('event_count', '(SELECT sum(event_count) FROM currency_aggregates)')} AS share_of_events
      FROM currency_aggregates ORDER BY event_count DESC, currency`
        : `CREATE TABLE insights_currency_totals (currency VARCHAR, event_count BIGINT,
      total_credit_usage DECIMAL(38,6), total_normalized_credit_usage DECIMAL(38,6), share_of_events DECIMAL(9,6))`,
    },
    {
      name: 'insights_top_users',
      sql: `CREATE TABLE insights_top_users AS
      SELECT CAST(row_number() OVER (ORDER BY event_count DESC, total_normalized_credit_usage DESC NULLS LAST, user_id) AS INTEGER) AS rank,
        user_id, event_count, total_credit_usage, unique_resources, first_seen, last_seen,
        ${ratio('event_count', '(SELECT sum(event_count) FROM user_aggregates)')} AS share_of_events,
        total_normalized_credit_usage
      FROM user_aggregates ORDER BY rank LIMIT 10`,
    },
    {
      name: 'insights_top_regions',
      sql: `CREATE TABLE insights_top_regions AS
      SELECT CAST(row_number() OVER (ORDER BY total_normalized_credit_usage DESC NULLS LAST, event_count DESC, region) AS INTEGER) AS rank,
        region, total_credit_usage, event_count, unique_users,
        total_normalized_credit_usage,
        -- Against the known total only when every region's is known: a share of a partial sum reads as 100%.
        ${ratio('total_normalized_credit_usage', `(SELECT ${knownSum('total_normalized_credit_usage')} FROM region_aggregates)`)} AS share_of_normalized_spend
      FROM region_aggregates ORDER BY rank`,
    },
    {
      name: 'insights_operation_mix',
      sql: `CREATE TABLE insights_operation_mix AS
      SELECT operation_type, sum(event_count) AS event_count, sum(total_credit_usage) AS total_credit_usage,
        ${ratio('sum(event_count)', '(SELECT sum(event_count) FROM service_aggregates)')} AS share_of_events,
        ${knownSum('total_normalized_credit_usage')} AS total_normalized_credit_usage
      FROM service_aggregates GROUP BY operation_type ORDER BY event_count DESC, operation_type`,
    },
    {
      name: 'insights_tier_performance',
      sql: `CREATE TABLE insights_tier_performance AS
      SELECT service_tier, sum(event_count) AS event_count, sum(total_credit_usage) AS total_credit_usage,
        sum(success_count) AS success_count, sum(failure_count) AS failure_count,
        ${ratio('sum(success_count)', 'sum(event_count)')} AS success_rate,
        ${exactMean('sum(total_credit_usage)', 'sum(event_count)')} AS avg_credit_usage,
        ${knownSum('total_normalized_credit_usage')} AS total_normalized_credit_usage,
        ${exactMean(knownSum('total_normalized_credit_usage'), 'sum(event_count)')} AS avg_normalized_credit_usage,
        ${ratio(knownSum('total_normalized_credit_usage'), `(SELECT ${knownSum('total_normalized_credit_usage')} FROM service_aggregates)`)} AS share_of_normalized_spend
      FROM service_aggregates GROUP BY service_tier
      ORDER BY total_normalized_credit_usage DESC NULLS LAST, event_count DESC, service_tier`,
    },
    {
      name: 'insights_daily_change',
      sql: `CREATE TABLE insights_daily_change AS
      SELECT day, event_count, total_credit_usage,
        lag(total_credit_usage) OVER w AS previous_credit_usage,
        total_credit_usage - lag(total_credit_usage) OVER w AS credit_usage_change,
        CAST(${changePct('total_credit_usage')} AS DECIMAL(38,2)) AS credit_usage_change_pct,
        event_count - lag(event_count) OVER w AS event_count_change,
        total_normalized_credit_usage,
        total_normalized_credit_usage - lag(total_normalized_credit_usage) OVER w AS normalized_change,
        CAST(${changePct('total_normalized_credit_usage')} AS DECIMAL(38,2)) AS normalized_change_pct
      FROM daily_aggregates WINDOW w AS (ORDER BY day) ORDER BY day`,
    },
  ];
}

/** Drops an insight table before its statement creates it again (in the same transaction). */
export const dropInsightTable = (name: string) => `DROP TABLE IF EXISTS ${name}`;

/** The insight tables with the default settings (USD, default anomaly rule). */
export const INSIGHT_TABLES: readonly { name: string; sql: string }[] = insightTables({
  reportingCurrency: 'USD',
  spendAnomalies: DEFAULT_QUALITY_CONFIG.anomalies.spend,
  withDailySeries: true,
});
