import { completeSum, rateJoin, unnormalizedCount } from '../fx/fx-sql.js';

/**
 * The invoice preview's queries. Every one takes `$1` = user id (text, cast to BIGINT), `$2` / `$3`
 * = first and last day of the month; money stays DECIMAL(38,6) and arrives as exact strings. The
 * SQL is the portable subset both warehouses run (no ASOF, no `ORDER BY ALL`).
 */

const USER_MONTH = `e.user_id = CAST($1 AS BIGINT)
  AND e.event_date >= CAST($2 AS DATE) AND e.event_date <= CAST($3 AS DATE)`;

/** A line: one service tier, resource type and operation; its amount is NULL unless every event has a rate. */
export const INVOICE_LINES = `SELECT e.service_tier, e.resource_type, e.operation_type,
    count(*) AS events,
    CAST(${completeSum('e.normalized_credit_usage')} AS DECIMAL(38,6)) AS amount,
    ${unnormalizedCount('e.normalized_credit_usage')} AS unnormalized_events
  FROM billing_events e
  WHERE ${USER_MONTH}
  GROUP BY e.service_tier, e.resource_type, e.operation_type
  ORDER BY e.service_tier NULLS FIRST, e.resource_type NULLS FIRST, e.operation_type NULLS FIRST`;

/** What each line amounts to in every currency it was billed in (never summed across currencies). */
export const INVOICE_LINE_ORIGINALS = `SELECT e.service_tier, e.resource_type, e.operation_type, e.currency,
    CAST(sum(e.credit_usage) AS DECIMAL(38,6)) AS amount
  FROM billing_events e
  WHERE ${USER_MONTH}
  GROUP BY e.service_tier, e.resource_type, e.operation_type, e.currency
  ORDER BY e.currency NULLS FIRST`;

export const INVOICE_TOTAL = `SELECT count(*) AS events,
    CAST(${completeSum('e.normalized_credit_usage')} AS DECIMAL(38,6)) AS amount,
    CAST(sum(e.normalized_credit_usage) AS DECIMAL(38,6)) AS known_amount,
    ${unnormalizedCount('e.normalized_credit_usage')} AS unnormalized_events
  FROM billing_events e
  WHERE ${USER_MONTH}`;

/**
 * The rates the month's events were normalized with: for each currency and event day, the latest
 * rate dated on or before it (fx-sql.ts `rateJoin`, the same lookup the load uses), so one rate
 * row used on many days appears once. `$4` = the reporting currency, which needs no rate. A
 * (currency, day) without any rate row comes back with a NULL rate: the caller reports it.
 */
export const INVOICE_RATES = `SELECT k.currency, CAST(fx.date AS VARCHAR) AS rate_date,
    CAST(fx.rate AS VARCHAR) AS rate,
    CAST(min(k.event_date) AS VARCHAR) AS first_day, CAST(max(k.event_date) AS VARCHAR) AS last_day,
    count(*) AS days
  FROM (SELECT DISTINCT e.currency, e.event_date FROM billing_events e
        WHERE ${USER_MONTH} AND e.currency IS DISTINCT FROM $4) k
  ${rateJoin('k', 'fx')}
  GROUP BY k.currency, fx.date, fx.rate
  ORDER BY k.currency NULLS FIRST, fx.date NULLS FIRST`;

/** The user's spend per day (NULL = a day with an event without rate), `$2`..`$3` = the history window. */
export const USER_DAILY_SPEND = `SELECT CAST(day AS VARCHAR) AS day,
    CAST(total_normalized_credit_usage AS DECIMAL(38,6)) AS amount
  FROM user_daily_aggregates
  WHERE user_id = CAST($1 AS BIGINT) AND day >= CAST($2 AS DATE) AND day <= CAST($3 AS DATE)
  ORDER BY day`;

/** The last day the warehouse has events for: how far "month to date" reaches. */
export const LAST_DATA_DAY = 'SELECT CAST(max(event_date) AS VARCHAR) AS day FROM billing_events';
