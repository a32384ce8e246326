import { completeSum, UNNORMALIZED_COLUMN, unnormalizedCount } from '../fx/fx-sql.js';
import type { AggregateDefinition } from './aggregate-definition.js';

/** Per region and UTC day: the series the spend-anomaly insight scores each region against. */
export const regionDailyAggregates: AggregateDefinition = {
  name: 'region_daily_aggregates',
  description: 'Per region and UTC event day: volume, exact spend, normalized spend',
  keys: [
    { column: 'event_date', as: 'day', type: 'DATE' },
    { column: 'region', as: 'region', type: 'VARCHAR' },
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
