import { completeSum, UNNORMALIZED_COLUMN, unnormalizedCount } from '../fx/fx-sql.js';
import type { AggregateDefinition } from './aggregate-definition.js';
import { completeTotal, NORMALIZED_PARTS, VOLUME_PARTS } from './merge-parts.js';

/**
 * Per billing currency: volume and spend in that currency's own units. The README's worked example
 * of adding an aggregate: this file plus one line in `index.ts`.
 */
export const currencyAggregates: AggregateDefinition = {
  name: 'currency_aggregates',
  description: 'Per currency: volume, exact spend in that currency, distinct users',
  keys: [{ column: 'currency', as: 'currency', type: 'VARCHAR' }],
  partitioning: 'none',
  columns: `event_count BIGINT NOT NULL,
    total_credit_usage DECIMAL(38,6) NOT NULL,
    unique_users BIGINT NOT NULL,
    total_normalized_credit_usage DECIMAL(38,6),
    ${UNNORMALIZED_COLUMN}`,
  measures: `count(*),
    sum(e.credit_usage),
    count(DISTINCT e.user_id),
    ${completeSum('e.normalized_credit_usage')},
    ${unnormalizedCount('e.normalized_credit_usage')}`,
  merge: {
    parts: [...VOLUME_PARTS, ...NORMALIZED_PARTS],
    distinct: [{ name: 'unique_users', expr: 'e.user_id' }],
    finish: `t.event_count, t.total_credit_usage, t.unique_users, ${completeTotal('t')}, t.unnormalized_event_count`,
  },
};
