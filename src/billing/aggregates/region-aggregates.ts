import { completeSum, UNNORMALIZED_COLUMN, unnormalizedCount } from '../fx/fx-sql.js';
import type { AggregateDefinition } from './aggregate-definition.js';
import { completeTotal, NORMALIZED_PARTS, VOLUME_PARTS } from './merge-parts.js';

export const regionAggregates: AggregateDefinition = {
  name: 'region_aggregates',
  description: 'Per region: volume, exact spend, distinct users, resource and operation types',
  keys: [{ column: 'region', as: 'region', type: 'VARCHAR' }],
  partitioning: 'none',
  columns: `event_count BIGINT NOT NULL,
    total_credit_usage DECIMAL(38,6) NOT NULL,
    unique_users BIGINT NOT NULL,
    unique_resource_types BIGINT NOT NULL,
    unique_operation_types BIGINT NOT NULL,
    total_normalized_credit_usage DECIMAL(38,6),
    ${UNNORMALIZED_COLUMN}`,
  measures: `count(*),
    sum(e.credit_usage),
    count(DISTINCT e.user_id),
    count(DISTINCT e.resource_type),
    count(DISTINCT e.operation_type),
    ${completeSum('e.normalized_credit_usage')},
    ${unnormalizedCount('e.normalized_credit_usage')}`,
  merge: {
    parts: [...VOLUME_PARTS, ...NORMALIZED_PARTS],
    distinct: [
      { name: 'unique_users', expr: 'e.user_id' },
      { name: 'unique_resource_types', expr: 'e.resource_type' },
      { name: 'unique_operation_types', expr: 'e.operation_type' },
    ],
    finish: `t.event_count, t.total_credit_usage, t.unique_users, t.unique_resource_types,
      t.unique_operation_types, ${completeTotal('t')}, t.unnormalized_event_count`,
  },
};
