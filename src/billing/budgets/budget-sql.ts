import type { BudgetScope } from './budget.js';

/** API-created budgets only: file budgets live in billing-pipeline.yaml and are never copied here. */
export const CREATE_BUDGETS = `CREATE TABLE IF NOT EXISTS budgets (
  id VARCHAR PRIMARY KEY,
  name VARCHAR NOT NULL,
  scope_kind VARCHAR NOT NULL,
  scope_value VARCHAR,
  period_kind VARCHAR NOT NULL,
  period_from DATE,
  period_to DATE,
  amount DECIMAL(38,6) NOT NULL,
  thresholds VARCHAR NOT NULL,
  created_at TIMESTAMP NOT NULL,
  updated_at TIMESTAMP NOT NULL
)`;

export const CREATE_BUDGET_STATUS = `CREATE TABLE IF NOT EXISTS budget_status (
  budget_id VARCHAR NOT NULL,
  period_start DATE NOT NULL,
  period_end DATE NOT NULL,
  currency VARCHAR NOT NULL,
  amount DECIMAL(38,6) NOT NULL,
  spend_to_date DECIMAL(38,6) NOT NULL,
  as_of DATE,
  known_days INTEGER NOT NULL,
  unknown_days INTEGER NOT NULL,
  unnormalized_events BIGINT NOT NULL,
  share_used DECIMAL(12,6) NOT NULL,
  forecast DECIMAL(38,6),
  forecast_low DECIMAL(38,6),
  forecast_high DECIMAL(38,6),
  projected_overrun DATE,
  state VARCHAR NOT NULL,
  is_current BOOLEAN NOT NULL,
  computed_at TIMESTAMP NOT NULL,
  run_id VARCHAR NOT NULL
)`;

export const CREATE_BUDGET_STATUS_DAYS = `CREATE TABLE IF NOT EXISTS budget_status_days (
  budget_id VARCHAR NOT NULL,
  period_start DATE NOT NULL,
  day DATE NOT NULL,
  kind VARCHAR NOT NULL,
  spend DECIMAL(38,6),
  cumulative DECIMAL(38,6),
  forecast_low DECIMAL(38,6),
  forecast_high DECIMAL(38,6)
)`;

const BUDGET_COLUMNS = `id, name, scope_kind, scope_value, period_kind, CAST(period_from AS VARCHAR) AS period_from,
  CAST(period_to AS VARCHAR) AS period_to, CAST(amount AS VARCHAR) AS amount, thresholds`;
export const LIST_BUDGETS = `SELECT ${BUDGET_COLUMNS} FROM budgets ORDER BY id`;
export const GET_BUDGET = `SELECT ${BUDGET_COLUMNS} FROM budgets WHERE id = $1`;
export const INSERT_BUDGET = `INSERT INTO budgets (id, name, scope_kind, scope_value, period_kind, period_from,
  period_to, amount, thresholds, created_at, updated_at)
  VALUES ($1, $2, $3, $4, $5, CAST($6 AS DATE), CAST($7 AS DATE), CAST($8 AS DECIMAL(38,6)), $9, utc_now(), utc_now())`;
export const UPDATE_BUDGET = `UPDATE budgets SET name = $2, scope_kind = $3, scope_value = $4, period_kind = $5,
  period_from = CAST($6 AS DATE), period_to = CAST($7 AS DATE), amount = CAST($8 AS DECIMAL(38,6)),
  thresholds = $9, updated_at = utc_now() WHERE id = $1`;
export const DELETE_BUDGET = 'DELETE FROM budgets WHERE id = $1';

/** First and last day with data at all: the status's "now" and where monthly periods begin. */
export const DATA_DAYS = `SELECT CAST(min(day) AS VARCHAR) AS first_day, CAST(max(day) AS VARCHAR) AS last_day
  FROM daily_aggregates`;

/** Days whose daily aggregate was rewritten since the cursor: the periods to recompute. */
export const CHANGED_DAYS = `SELECT DISTINCT partition AS day FROM materializations
  WHERE asset = 'daily_aggregates' AND partition IS NOT NULL AND created_at >= CAST($1 AS TIMESTAMP)`;
export const LAST_MATERIALIZATION = `SELECT CAST(max(created_at) AS VARCHAR) AS at FROM materializations
  WHERE asset = 'daily_aggregates'`;

export type SpendSource =
  | 'daily_aggregates'
  | 'user_daily_aggregates'
  | 'region_daily_aggregates'
  | 'billing_events';

/**
 * Spend per day of one scope in [$1, $2]: `spend` is NULL on a day with any unnormalized event
 * (unknown, never zero). The aggregates hold it per day already; tier and resource type are not
 * aggregated by day, so those read billing_events for the period only.
 */
export function daySpendSql(scope: BudgetScope, source: SpendSource): string {
  const range = 'BETWEEN CAST($1 AS DATE) AND CAST($2 AS DATE)';
  switch (source) {
    case 'daily_aggregates':
    case 'user_daily_aggregates':
    case 'region_daily_aggregates': {
      const filter =
        scope.kind === 'user'
          ? ' AND user_id = CAST($3 AS BIGINT)'
          : scope.kind === 'region'
            ? ' AND region = $3'
            : '';
      return `SELECT CAST(day AS VARCHAR) AS day, CAST(sum(total_normalized_credit_usage) AS VARCHAR) AS spend,
        count(*) - count(total_normalized_credit_usage) AS unknown_groups,
        sum(unnormalized_event_count) AS unnormalized
        FROM ${source} WHERE day ${range}${filter} GROUP BY day ORDER BY day`;
    }
    case 'billing_events': {
      const column = scope.kind === 'all' ? null : EVENT_COLUMN[scope.kind];
      const filter =
        column === null
          ? ''
          : column === 'user_id'
            ? ' AND user_id = CAST($3 AS BIGINT)'
            : ` AND ${column} = $3`;
      return `SELECT CAST(event_date AS VARCHAR) AS day,
        CAST(CASE WHEN count(normalized_credit_usage) = count(*) THEN sum(normalized_credit_usage) END AS VARCHAR) AS spend,
        0 AS unknown_groups, count(*) - count(normalized_credit_usage) AS unnormalized
        FROM billing_events WHERE event_date ${range}${filter} GROUP BY event_date ORDER BY event_date`;
    }
    default: {
      const unknown: never = source;
      throw new Error(`unknown spend source ${String(unknown)}`);
    }
  }
}

const EVENT_COLUMN = {
  user: 'user_id',
  region: 'region',
  service_tier: 'service_tier',
  resource_type: 'resource_type',
} as const;

export const DELETE_ALL_STATUS = ['DELETE FROM budget_status', 'DELETE FROM budget_status_days'];
export const DELETE_PERIOD_STATUS = [
  'DELETE FROM budget_status WHERE budget_id = $1 AND period_start = CAST($2 AS DATE)',
  'DELETE FROM budget_status_days WHERE budget_id = $1 AND period_start = CAST($2 AS DATE)',
];
/** Every period of a budget was recomputed: older rows (e.g. a range that moved) go. */
export const DELETE_BUDGET_STATUS = [
  'DELETE FROM budget_status WHERE budget_id = $1',
  'DELETE FROM budget_status_days WHERE budget_id = $1',
];
export const CLEAR_CURRENT = 'UPDATE budget_status SET is_current = false WHERE budget_id = $1';
export const STATUS_BUDGET_IDS = 'SELECT DISTINCT budget_id FROM budget_status';

export const INSERT_STATUS_HEAD = `INSERT INTO budget_status (budget_id, period_start, period_end, currency, amount,
  spend_to_date, as_of, known_days, unknown_days, unnormalized_events, share_used, forecast, forecast_low,
  forecast_high, projected_overrun, state, is_current, computed_at, run_id)`;
export const INSERT_STATUS_VALUES = `($1, CAST($2 AS DATE), CAST($3 AS DATE), $4, CAST($5 AS DECIMAL(38,6)),
  CAST($6 AS DECIMAL(38,6)), CAST($7 AS DATE), $8, $9, $10, CAST($11 AS DECIMAL(12,6)), CAST($12 AS DECIMAL(38,6)),
  CAST($13 AS DECIMAL(38,6)), CAST($14 AS DECIMAL(38,6)), CAST($15 AS DATE), $16, $17, utc_now(), $18)`;
export const INSERT_DAYS_HEAD = `INSERT INTO budget_status_days (budget_id, period_start, day, kind, spend,
  cumulative, forecast_low, forecast_high)`;
export const INSERT_DAYS_VALUES = `($1, CAST($2 AS DATE), CAST($3 AS DATE), $4, CAST($5 AS DECIMAL(38,6)),
  CAST($6 AS DECIMAL(38,6)), CAST($7 AS DECIMAL(38,6)), CAST($8 AS DECIMAL(38,6)))`;

const STATUS_COLUMNS = `budget_id, CAST(period_start AS VARCHAR) AS period_start, CAST(period_end AS VARCHAR) AS period_end,
  currency, CAST(amount AS VARCHAR) AS amount, CAST(spend_to_date AS VARCHAR) AS spend_to_date,
  CAST(as_of AS VARCHAR) AS as_of, known_days, unknown_days, unnormalized_events,
  CAST(share_used AS VARCHAR) AS share_used, CAST(forecast AS VARCHAR) AS forecast,
  CAST(forecast_low AS VARCHAR) AS forecast_low, CAST(forecast_high AS VARCHAR) AS forecast_high,
  CAST(projected_overrun AS VARCHAR) AS projected_overrun, state, is_current, computed_at`;
export const CURRENT_STATUS = `SELECT ${STATUS_COLUMNS} FROM budget_status WHERE is_current`;
export const BUDGET_PERIODS = `SELECT ${STATUS_COLUMNS} FROM budget_status WHERE budget_id = $1 ORDER BY period_start DESC`;
export const BUDGET_DAYS = `SELECT CAST(day AS VARCHAR) AS day, kind, CAST(spend AS VARCHAR) AS spend,
  CAST(cumulative AS VARCHAR) AS cumulative, CAST(forecast_low AS VARCHAR) AS forecast_low,
  CAST(forecast_high AS VARCHAR) AS forecast_high
  FROM budget_status_days WHERE budget_id = $1 AND period_start = CAST($2 AS DATE) ORDER BY day`;
