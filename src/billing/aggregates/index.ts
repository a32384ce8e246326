import type { AggregateDefinition } from './aggregate-definition.js';
import { currencyAggregates } from './currency-aggregates.js';
import { dailyAggregates } from './daily-aggregates.js';
import { regionAggregates } from './region-aggregates.js';
import { regionDailyAggregates } from './region-daily-aggregates.js';
import { serviceAggregates } from './service-aggregates.js';
import { userAggregates } from './user-aggregates.js';
import { userDailyAggregates } from './user-daily-aggregates.js';

/** Every aggregate the pipeline maintains; each becomes an asset downstream of billing_events. */
export const AGGREGATES: readonly AggregateDefinition[] = [
  dailyAggregates,
  userAggregates,
  serviceAggregates,
  regionAggregates,
  currencyAggregates,
  userDailyAggregates,
  regionDailyAggregates,
];
