import { completeSum, UNNORMALIZED_COLUMN, unnormalizedCount } from '../fx/fx-sql.js';
import { exactMean, ratio } from '../sql/money.js';
import type { AggregateDefinition } from './aggregate-definition.js';

export const dailyAggregates: AggregateDefinition = {
  name: 'daily_aggregates',
  description: 'Per UTC event day: volume, exact spend, success rate, distinct users and resources',
  keys: [{ column: 'event_date', as: 'day', type: 'DATE' }],
  partitioning: 'daily',
  columns: `event_count BIGINT NOT NULL,
    total_credit_usage DECIMAL(38,6) NOT NULL,
    avg_credit_usage DECIMAL(38,6) NOT NULL,
    success_count BIGINT NOT NULL,
    failure_count BIGINT NOT NULL,
    success_rate DECIMAL(9,6),
    unique_users BIGINT NOT NULL,
    unique_resources BIGINT NOT NULL,
    refund_count BIGINT NOT NULL,
    total_refunds DECIMAL(38,6) NOT NULL,
    total_normalized_credit_usage DECIMAL(38,6),
    ${UNNORMALIZED_COLUMN}`,
  measures: `count(*),
    sum(e.credit_usage),
    ${exactMean('sum(e.credit_usage)', 'count(*)')},
    count(*) FILTER (WHERE e.success),
    count(*) FILTER (WHERE NOT e.success),
    ${ratio('count(*) FILTER (WHERE e.success)', 'count(*)')},
    count(DISTINCT e.user_id),
    count(DISTINCT e.resource_id),
    count(*) FILTER (WHERE e.credit_usage < 0),
    coalesce(sum(e.credit_usage) FILTER (WHERE e.credit_usage < 0), 0),
    ${completeSum('e.normalized_credit_usage')},
    ${unnormalizedCount('e.normalized_credit_usage')}`,
};
