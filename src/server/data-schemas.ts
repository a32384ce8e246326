import { z } from '@hono/zod-openapi';
import { CurrencyTotalSchema, MoneySchema } from './insights-schemas.js';

/**
 * Response schemas of the data (rejected input, file inventory) and lineage drill-down endpoints.
 * Like insights-schemas.ts this imports only zod: the web UI type-checks against it.
 */

export const FILE_STATUSES = [
  'pending',
  'loaded',
  'rejected',
  'failed',
  'missing',
  'duplicate',
  'retracting',
  'retracted',
] as const;

export const RejectedReasonSchema = z.object({
  category: z.string(),
  rows: z.number(),
  files: z.number(),
  example: z.string(),
});
export const RejectedReasonsSchema = z.object({ reasons: z.array(RejectedReasonSchema) });
export type RejectedReasons = z.infer<typeof RejectedReasonsSchema>;

export const RejectedRowSchema = z.object({
  source_key: z.string(),
  line_number: z.number(),
  reason: z.string(),
  category: z.string(),
  raw: z.string().nullable(),
  source_version: z.string().nullable(),
  run_id: z.string().nullable(),
  rejected_at: z.string(),
});
export const RejectedRowsSchema = z.object({ rows: z.array(RejectedRowSchema), total: z.number() });
export type RejectedRows = z.infer<typeof RejectedRowsSchema>;

export const RejectedFileSchema = z.object({
  source_key: z.string(),
  source_version: z.string().nullable(),
  reason: z.string(),
  run_id: z.string().nullable(),
  rejected_at: z.string(),
  current_status: z.string().nullable(),
});
export const RejectedFilesSchema = z.object({ files: z.array(RejectedFileSchema) });
export type RejectedFiles = z.infer<typeof RejectedFilesSchema>;

export const SourceFileSchema = z.object({
  source_key: z.string(),
  partition: z.string().nullable(),
  size: z.number().nullable(),
  version: z.string().nullable(),
  status: z.enum(FILE_STATUSES),
  loaded_version: z.string().nullable(),
  loaded_at: z.string().nullable(),
  loaded_run_id: z.string().nullable(),
  row_count: z.number().nullable(),
  rejected_row_count: z.number().nullable(),
  error: z.string().nullable(),
  first_seen_at: z.string().nullable(),
  last_seen_at: z.string().nullable(),
});
export const SourceFilesSchema = z.object({
  files: z.array(SourceFileSchema),
  total: z.number(),
  statuses: z.array(z.object({ status: z.string(), files: z.number() })),
});
export type SourceFiles = z.infer<typeof SourceFilesSchema>;

/** A file behind a figure: its events, their spend in the reporting currency and per original currency. */
export const FileBehindSchema = z.object({
  source_key: z.string(),
  version: z.string().nullable(),
  run_id: z.string().nullable(),
  loaded_at: z.string().nullable(),
  partition: z.string().nullable(),
  events: z.number(),
  spend: MoneySchema,
  by_currency: z.array(CurrencyTotalSchema),
  first_line: z.number(),
  last_line: z.number(),
});
export type FileBehind = z.infer<typeof FileBehindSchema>;

export const LineageDaySchema = z.object({
  day: z.string(),
  currency: z.string().openapi({ description: 'the reporting currency of every `spend`' }),
  totals: z.object({
    events: z.number(),
    spend: MoneySchema,
    unnormalized_events: z.number(),
    by_currency: z.array(CurrencyTotalSchema),
  }),
  files: z.array(FileBehindSchema),
  materializations: z.array(z.record(z.string(), z.unknown())),
});
export type LineageDay = z.infer<typeof LineageDaySchema>;

/** A source row as loaded: its amount in its own currency, and that amount in the reporting currency. */
export const SourceRowSchema = z.object({
  source_key: z.string(),
  source_line: z.number(),
  timestamp: z.string(),
  event_date: z.string(),
  user_id: z.number().nullable(),
  credit_usage: z.string().openapi({ description: 'exact, in `currency`' }),
  currency: z.string(),
  spend: MoneySchema,
  region: z.string().nullable(),
  service_tier: z.string().nullable(),
  operation_type: z.string().nullable(),
  resource_type: z.string().nullable(),
  resource_id: z.string().nullable(),
  success: z.boolean(),
  invoice_id: z.string().nullable(),
});
export type SourceRow = z.infer<typeof SourceRowSchema>;
export const SourceRowsSchema = z.object({ rows: z.array(SourceRowSchema), total: z.number() });
export type SourceRows = z.infer<typeof SourceRowsSchema>;

/** GET /api/sql/schema: the tables and views the SQL page can query, with their columns. */
export const SqlSchemaSchema = z
  .object({
    tables: z.array(
      z.object({
        name: z.string(),
        kind: z.enum(['table', 'view']),
        columns: z.array(z.object({ name: z.string(), type: z.string() })),
      }),
    ),
  })
  .openapi('SqlSchema');
export type SqlSchema = z.infer<typeof SqlSchemaSchema>;
