import type { MergePart } from './aggregate-definition.js';

/** Parts every merged aggregate shares: its volume and exact spend. */
export const VOLUME_PARTS: readonly MergePart[] = [
  { name: 'event_count', type: 'BIGINT NOT NULL', expr: 'count(*)', merge: 'sum' },
  { name: 'total_credit_usage', type: 'DECIMAL(38,6) NOT NULL', expr: 'sum(e.credit_usage)', merge: 'sum' },
];

export const SUCCESS_COUNT_PART: MergePart = {
  name: 'success_count',
  type: 'BIGINT NOT NULL',
  expr: 'count(*) FILTER (WHERE e.success)',
  merge: 'sum',
};

/**
 * The normalized total is NULL while any event lacks a rate, which does not subtract: the state
 * keeps the sum of the known amounts and the count of the unknown ones, and `completeTotal` turns
 * them into the table's column (NULL while unnormalized_event_count > 0).
 */
export const NORMALIZED_PARTS: readonly MergePart[] = [
  {
    name: 'normalized_known',
    type: 'DECIMAL(38,6) NOT NULL',
    expr: 'coalesce(sum(e.normalized_credit_usage), 0)',
    merge: 'sum',
  },
  {
    name: 'unnormalized_event_count',
    type: 'BIGINT NOT NULL',
    expr: 'count(*) - count(e.normalized_credit_usage)',
    merge: 'sum',
  },
];

export const completeTotal = (t: string) =>
  `CASE WHEN ${t}.unnormalized_event_count = 0 THEN ${t}.normalized_known END`;
