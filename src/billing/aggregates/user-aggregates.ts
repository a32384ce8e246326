import { completeSum } from '../fx/fx-sql.js';
import type { AggregateDefinition } from './aggregate-definition.js';

export const userAggregates: AggregateDefinition = {
  name: 'user_aggregates',
  description: 'Per user over all time: volume, exact spend, breadth of use, first and last activity',
  keys: [{ column: 'user_id', as: 'user_id', type: 'BIGINT' }],
  partitioning: 'none',
  columns: `event_count BIGINT NOT NULL,
    total_credit_usage DECIMAL(38,6) NOT NULL,
    success_count BIGINT NOT NULL,
    unique_resources BIGINT NOT NULL,
    unique_resource_types BIGINT NOT NULL,
    unique_operation_types BIGINT NOT NULL,
    unique_regions BIGINT NOT NULL,
    first_seen TIMESTAMP NOT NULL,
    last_seen TIMESTAMP NOT NULL,
    total_normalized_credit_usage DECIMAL(38,6)`,
  measures: `count(*),
    sum(e.credit_usage),
    count(*) FILTER (WHERE e.success),
    count(DISTINCT e.resource_id),
    count(DISTINCT e.resource_type),
    count(DISTINCT e.operation_type),
    count(DISTINCT e.region),
    min(e."timestamp"),
    max(e."timestamp"),
    ${completeSum('e.normalized_credit_usage')}`,
};
