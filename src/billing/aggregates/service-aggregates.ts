import { completeSum, UNNORMALIZED_COLUMN, unnormalizedCount } from '../fx/fx-sql.js';
import { ratio } from '../sql/money.js';
import type { AggregateDefinition } from './aggregate-definition.js';
import { completeTotal, NORMALIZED_PARTS, SUCCESS_COUNT_PART, VOLUME_PARTS } from './merge-parts.js';

export const serviceAggregates: AggregateDefinition = {
  name: 'service_aggregates',
  description: 'Per service tier, resource type and operation type: volume, exact spend, reliability, users',
  keys: [
    { column: 'service_tier', as: 'service_tier', type: 'VARCHAR' },
    { column: 'resource_type', as: 'resource_type', type: 'VARCHAR' },
    { column: 'operation_type', as: 'operation_type', type: 'VARCHAR' },
  ],
  partitioning: 'none',
  columns: `event_count BIGINT NOT NULL,
    total_credit_usage DECIMAL(38,6) NOT NULL,
    success_count BIGINT NOT NULL,
    failure_count BIGINT NOT NULL,
    success_rate DECIMAL(9,6),
    unique_users BIGINT NOT NULL,
    total_normalized_credit_usage DECIMAL(38,6),
    ${UNNORMALIZED_COLUMN}`,
  measures: `count(*),
    sum(e.credit_usage),
    count(*) FILTER (WHERE e.success),
    count(*) FILTER (WHERE NOT e.success),
    ${ratio('count(*) FILTER (WHERE e.success)', 'count(*)')},
    count(DISTINCT e.user_id),
    ${completeSum('e.normalized_credit_usage')},
    ${unnormalizedCount('e.normalized_credit_usage')}`,
  merge: {
    parts: [
      ...VOLUME_PARTS,
      SUCCESS_COUNT_PART,
      {
        name: 'failure_count',
        type: 'BIGINT NOT NULL',
        expr: 'count(*) FILTER (WHERE NOT e.success)',
        merge: 'sum',
      },
      ...NORMALIZED_PARTS,
    ],
    distinct: [{ name: 'unique_users', expr: 'e.user_id' }],
    finish: `t.event_count, t.total_credit_usage, t.success_count, t.failure_count,
      ${ratio('t.success_count', 't.event_count')}, t.unique_users, ${completeTotal('t')}, t.unnormalized_event_count`,
  },
};
