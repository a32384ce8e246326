import { completeSum, UNNORMALIZED_COLUMN, unnormalizedCount } from '../fx/fx-sql.js';
import type { AggregateDefinition } from './aggregate-definition.js';

/** Per user and UTC day: the series the spend-anomaly insight scores each user against. */
export const userDailyAggregates: AggregateDefinition = {
  name: 'user_daily_aggregates',
  description: 'Per user and UTC event day: volume, exact spend, normalized spend',
  keys: [
    { column: 'event_date', as: 'day', type: 'DATE' },
    { column: 'user_id', as: 'user_id', type: 'BIGINT' },
  ],
  partitioning: 'none',
  columns: `event_count BIGINT NOT NULL,
    total_credit_usage DECIMAL(38,6) NOT NULL,
    total_normalized_credit_usage DECIMAL(38,6),
    ${UNNORMALIZED_COLUMN}`,
  measures: `count(*),
    sum(e.credit_usage),
    ${completeSum('e.normalized_credit_usage')},
    ${unnormalizedCount('e.normalized_credit_usage')}`,
};
