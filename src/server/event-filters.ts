import { ident, type SqlValue } from '../warehouse/warehouse.js';
import type { Filters } from './api-schema.js';
import { DIMENSION_VALUES } from './insights-schemas.js';

/** The event columns the API filters and groups by (one list, with the response schemas). */
export const DIMENSIONS = DIMENSION_VALUES;
export type Dimension = (typeof DIMENSIONS)[number];

export interface WhereClause {
  sql: string;
  params: SqlValue[];
}

/** True when a filter narrows events beyond a date range, so day totals must come from events. */
export function hasDimensionFilter(filters: Filters): boolean {
  return DIMENSIONS.some((d) => filters[d] !== undefined);
}

/**
 * A WHERE clause over `billing_events` (alias `e`) for the given filters, with its parameters
 * numbered from `first`. Values are always bound, never spliced.
 */
export function eventWhere(filters: Filters, first = 1): WhereClause {
  const parts: string[] = [];
  const params: SqlValue[] = [];
  const bind = (value: SqlValue) => {
    params.push(value);
    return `$${first + params.length - 1}`;
  };
  if (filters.from) parts.push(`e.event_date >= CAST(${bind(filters.from)} AS DATE)`);
  if (filters.to) parts.push(`e.event_date <= CAST(${bind(filters.to)} AS DATE)`);
  for (const dimension of DIMENSIONS) {
    const value = filters[dimension];
    if (value !== undefined) parts.push(`e.${ident(dimension)} = ${bind(value)}`);
  }
  return { sql: parts.length > 0 ? `WHERE ${parts.join(' AND ')}` : '', params };
}
