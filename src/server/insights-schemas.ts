import { z } from '@hono/zod-openapi';

/**
 * Response schemas of the insights endpoints. The web UI reads their types through
 * `api-types.ts`, so this module imports nothing but zod: it must type-check inside the UI build.
 *
 * Money is always a `Money`: an exact decimal string with the currency it is in. Figures that add
 * up events are in the reporting currency (BILLING_REPORTING_CURRENCY) and `null` when any event
 * behind them has no FX rate: unknown, never a partial sum. Amounts in their original currencies
 * appear only per currency (`by_currency`, the currency breakdown) and in source rows.
 */

export const MoneySchema = z
  .object({
    amount: z.string().nullable().openapi({
      description: 'exact decimal; null when unknown (an event lacks an FX rate)',
      example: '1234.560000',
    }),
    currency: z.string().openapi({ description: 'ISO 4217 code the amount is in', example: 'USD' }),
  })
  .openapi('Money');
export type Money = z.infer<typeof MoneySchema>;

export const SOURCES = ['aggregates', 'events'] as const;
const Source = z
  .enum(SOURCES)
  .openapi({ description: 'whether the aggregate tables or raw events answered' });

/** One currency's events: the exact total as billed in it, and the same amount in the reporting currency. */
export const CurrencyTotalSchema = z
  .object({
    currency: z.string(),
    event_count: z.number(),
    original: MoneySchema.openapi({ description: 'the exact total in this currency' }),
    spend: MoneySchema.openapi({ description: 'the total in the reporting currency; null without rates' }),
    unnormalized_events: z.number().openapi({ description: 'events of this currency without an FX rate' }),
  })
  .openapi('CurrencyTotal');

export const SummarySchema = z
  .object({
    currency: z
      .string()
      .openapi({ description: 'the reporting currency of every Money below', example: 'USD' }),
    event_count: z.number(),
    success_count: z.number(),
    failure_count: z.number(),
    success_rate: z.string().nullable(),
    first_day: z.string().nullable(),
    last_day: z.string().nullable(),
    days: z.number(),
    unique_users: z.number(),
    spend: MoneySchema,
    avg_daily_spend: MoneySchema,
    avg_spend_per_event: MoneySchema,
    unnormalized_events: z.number().openapi({
      description: 'events in the selection without an FX rate; the spend figures are null while > 0',
    }),
    by_currency: z.array(CurrencyTotalSchema),
    source: Source,
  })
  .openapi('InsightSummary');
export type Summary = z.infer<typeof SummarySchema>;

export const DaySchema = z
  .object({
    day: z.string(),
    event_count: z.number(),
    success_count: z.number(),
    failure_count: z.number(),
    success_rate: z.string().nullable(),
    unique_users: z.number(),
    spend: MoneySchema,
    avg_spend_per_event: MoneySchema,
    unnormalized_events: z.number().openapi({ description: 'events of the day without an FX rate' }),
  })
  .openapi('InsightDay');
export type InsightDay = z.infer<typeof DaySchema>;

export const DailySchema = z.object({ currency: z.string(), days: z.array(DaySchema), source: Source });
export type Daily = z.infer<typeof DailySchema>;

export const BreakdownRowSchema = z
  .object({
    key: z.string().nullable(),
    event_count: z.number(),
    success_count: z.number().nullable(),
    failure_count: z.number().nullable(),
    success_rate: z.string().nullable(),
    unique_users: z.number().nullable(),
    spend: MoneySchema,
    avg_spend_per_event: MoneySchema,
    share_of_spend: z.string().nullable().openapi({
      description: 'this value’s share of the normalized spend of all values; null when unknown',
    }),
    original: MoneySchema.nullable().openapi({
      description: 'breakdown by currency only: the exact total in that currency',
    }),
    unnormalized_events: z.number().openapi({ description: 'events of this value without an FX rate' }),
  })
  .openapi('BreakdownRow');
export type BreakdownRow = z.infer<typeof BreakdownRowSchema>;

export const DIMENSION_VALUES = [
  'region',
  'service_tier',
  'operation_type',
  'resource_type',
  'currency',
  'user_id',
] as const;

export const BreakdownSchema = z.object({
  dimension: z.enum(DIMENSION_VALUES),
  currency: z.string(),
  rows: z.array(BreakdownRowSchema),
  source: Source,
});
export type Breakdown = z.infer<typeof BreakdownSchema>;

export const OptionsSchema = z.object({
  first_day: z.string().nullable(),
  last_day: z.string().nullable(),
  values: z.record(z.string(), z.array(z.string())),
});
export type InsightOptions = z.infer<typeof OptionsSchema>;

/** Which events have no FX rate, and what to set so they get one. */
export const FxCoverageSchema = z
  .object({
    reporting_currency: z.string(),
    source_configured: z.boolean(),
    source: z.string().nullable().openapi({ description: 'the configured FX rate file, if any' }),
    setting: z.object({
      variable: z.literal('BILLING_FX_SOURCE'),
      config_key: z.literal('fx_source'),
      config_file: z.literal('billing-pipeline.yaml'),
    }),
    unnormalized_events: z.number(),
    currencies: z.array(
      z.object({
        currency: z.string(),
        events: z.number(),
        days: z.number(),
        first_day: z.string(),
        last_day: z.string(),
      }),
    ),
    missing: z
      .array(z.object({ day: z.string(), currency: z.string(), events: z.number() }))
      .openapi({ description: 'per event day and currency: the events without a rate' }),
  })
  .openapi('FxCoverage');
export type FxCoverage = z.infer<typeof FxCoverageSchema>;

/** The precomputed insight tables; every money column is in `currency` (totals.reporting_currency). */
export const ReportSchema = z.record(z.string(), z.array(z.record(z.string(), z.unknown())));
export type Report = z.infer<typeof ReportSchema>;
