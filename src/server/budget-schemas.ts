import { z } from '@hono/zod-openapi';

/** The budgets API's OpenAPI shapes (docs/budgets-alerts.md). Money: exact decimal strings, `null` = unknown. */

const Money = z
  .string()
  .nullable()
  .openapi({ example: '40120.500000', description: 'decimal, in `currency`; null = unknown' });

export const BudgetSchema = z
  .object({
    id: z.string(),
    name: z.string(),
    scope: z.union([
      z.object({ kind: z.literal('all') }),
      z.object({ kind: z.enum(['user', 'region', 'service_tier', 'resource_type']), value: z.string() }),
    ]),
    period: z.union([
      z.object({ kind: z.literal('monthly') }),
      z.object({ kind: z.literal('range'), from: z.string(), to: z.string() }),
    ]),
    amount: z.string(),
    thresholds: z.array(z.number()),
    origin: z.enum(['file', 'api']),
    declaredAt: z.string().openapi({ example: 'billing-pipeline.yaml:12' }),
  })
  .openapi('Budget');

export const BudgetStatusSchema = z
  .object({
    periodStart: z.string(),
    periodEnd: z.string(),
    currency: z.string(),
    amount: z.string(),
    spendToDate: z.string(),
    asOf: z.string().nullable(),
    knownDays: z.number(),
    unknownDays: z.number(),
    unnormalizedEvents: z.number(),
    shareUsed: z.string().openapi({ example: '0.802410', description: 'spend / amount; 1 = 100 %' }),
    forecast: Money,
    forecastLow: Money,
    forecastHigh: Money,
    projectedOverrun: z.string().nullable(),
    state: z.enum(['ok', 'at_risk', 'over']),
    isCurrent: z.boolean(),
    computedAt: z.string().nullable(),
  })
  .openapi('BudgetStatus');

export const BudgetDaySchema = z
  .object({
    day: z.string(),
    kind: z.enum(['actual', 'forecast']),
    spend: Money,
    cumulative: Money,
    forecastLow: Money,
    forecastHigh: Money,
  })
  .openapi('BudgetDay');

export const BudgetListSchema = z
  .object({
    currency: z.string(),
    budgets: z.array(BudgetSchema.extend({ status: BudgetStatusSchema.nullable() })),
  })
  .openapi('BudgetList');

export const BudgetDetailSchema = z
  .object({
    currency: z.string(),
    budget: BudgetSchema,
    periods: z.array(BudgetStatusSchema),
    days: z.array(BudgetDaySchema),
  })
  .openapi('BudgetDetail');

export const BudgetWriteSchema = z
  .object({ budget: BudgetSchema, runId: z.string().nullable() })
  .openapi('BudgetWrite');

/** Validated by the budget parser itself, so a bad body gets `invalid_budget` with per-field details. */
export const BudgetBodySchema = z.record(z.string(), z.unknown()).openapi('BudgetInput', {
  example: {
    id: 'platform-monthly',
    scope: 'all',
    period: 'monthly',
    amount: '50000',
    thresholds: [50, 80, 100],
  },
});

export const BudgetIdParam = z.object({
  id: z.string().openapi({ param: { name: 'id', in: 'path' }, example: 'platform-monthly' }),
});

export const BudgetPeriodQuery = z.object({
  period: z.string().optional().openapi({ description: 'start day of the period whose days to return' }),
});
