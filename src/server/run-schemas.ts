import { z } from '@hono/zod-openapi';
import type { Cell, Row } from '../warehouse/warehouse.js';
import { DaySchema, ErrorSchema } from './api-schema.js';

/** Schemas of the runs, backfills, automation and SQL endpoints (also the daemon client's types). */

export const RunStatusSchema = z.enum(['queued', 'running', 'success', 'failed', 'canceled']);

export const RunSchema = z
  .object({
    run_id: z.string(),
    status: RunStatusSchema,
    trigger: z.string(),
    selection: z.array(z.string()),
    partition_from: z.string().nullable(),
    partition_to: z.string().nullable(),
    run_key: z.string().nullable(),
    created_at: z.string(),
    started_at: z.string().nullable(),
    finished_at: z.string().nullable(),
    duration_ms: z.number().nullable(),
    error: z.string().nullable(),
  })
  .openapi('Run');
export type ApiRun = z.infer<typeof RunSchema>;

export const AssetRunSchema = z
  .object({
    asset: z.string(),
    status: z.string(),
    changed: z.boolean(),
    row_count: z.number().nullable(),
    started_at: z.string().nullable(),
    finished_at: z.string().nullable(),
    duration_ms: z.number().nullable(),
    error: z.string().nullable(),
    metadata: z.record(z.string(), z.unknown()).nullable(),
  })
  .openapi('AssetRun');
export type ApiAssetRun = z.infer<typeof AssetRunSchema>;

export const RunEventSchema = z
  .object({
    seq: z.number(),
    logged_at: z.string(),
    level: z.string(),
    type: z.string(),
    asset: z.string().nullable(),
    message: z.string(),
    data: z.record(z.string(), z.unknown()).nullable(),
  })
  .openapi('RunEvent');
export type ApiRunEvent = z.infer<typeof RunEventSchema>;

export const RunDetailSchema = z.object({
  run: RunSchema,
  assets: z.array(AssetRunSchema),
  events: z.array(RunEventSchema),
  /**
   * The effective configuration the run was created under, as billing-pipeline.yaml holds it
   * (check settings resolved, secrets redacted); null for runs recorded before runs kept it.
   */
  config: z.record(z.string(), z.unknown()).nullable(),
});
export type ApiRunDetail = z.infer<typeof RunDetailSchema>;

export const RunSubmissionSchema = z
  .object({
    selection: z.array(z.string().min(1)).max(100).optional(),
    from: DaySchema.optional(),
    to: DaySchema.optional(),
    fullRefresh: z.boolean().optional(),
    withUpstream: z.boolean().optional(),
    runKey: z.string().min(1).max(500).optional(),
    /** Who asked, for the record (`api` unless a client says otherwise, e.g. `cli`). */
    trigger: z.enum(['api', 'cli', 'ui']).optional(),
  })
  .openapi('RunSubmission');

export const BackfillSubmissionSchema = z
  .object({ from: DaySchema, to: DaySchema, selection: z.array(z.string().min(1)).max(100).optional() })
  .openapi('BackfillSubmission');

export const BackfillSchema = z
  .object({
    backfill_id: z.string(),
    status: RunStatusSchema,
    partition_from: z.string(),
    partition_to: z.string(),
    selection: z.array(z.string()),
    created_at: z.string(),
    canceled_at: z.string().nullable(),
    finished_at: z.string().nullable(),
    partitions_total: z.number(),
    counts: z.object({
      queued: z.number(),
      running: z.number(),
      success: z.number(),
      failed: z.number(),
      canceled: z.number(),
    }),
  })
  .openapi('Backfill');

export const BackfillDetailSchema = z.object({
  backfill: BackfillSchema,
  partitions: z.array(
    z.object({ partition: z.string(), status: RunStatusSchema, run_id: z.string(), attempt: z.number() }),
  ),
});
export type ApiBackfillDetail = z.infer<typeof BackfillDetailSchema>;

export const TickSchema = z
  .object({
    tick_id: z.number(),
    started_at: z.string(),
    finished_at: z.string().nullable(),
    outcome: z.enum(['requested', 'skipped', 'failed']),
    skip_reason: z.string().nullable(),
    cursor_before: z.string().nullable(),
    cursor_after: z.string().nullable(),
    run_ids: z.array(z.string()),
    error: z.string().nullable(),
  })
  .openapi('Tick');

export const SensorSchema = z
  .object({
    name: z.string(),
    kind: z.string(),
    description: z.string(),
    enabled: z.boolean(),
    interval_seconds: z.number(),
    cursor: z.string().nullable(),
    last_tick: TickSchema.nullable(),
    next_tick_at: z.string().nullable(),
  })
  .openapi('Sensor');

export const ScheduleSchema = z
  .object({
    name: z.string(),
    kind: z.literal('schedule'),
    description: z.string(),
    enabled: z.boolean(),
    cron: z.string(),
    timezone: z.string(),
    cursor: z.string().nullable(),
    last_tick: TickSchema.nullable(),
    next_tick_at: z.string().nullable(),
  })
  .openapi('Schedule');

export const SqlRequestSchema = z
  .object({
    sql: z.string().min(1).max(100_000),
    limit: z.number().int().min(1).max(10_000).optional(),
    /** Values for `$1`, `$2`… placeholders. */
    params: z
      .array(z.union([z.string(), z.number(), z.boolean(), z.null()]))
      .max(100)
      .optional(),
  })
  .openapi('SqlRequest');

export const SqlResultSchema = z
  .object({
    columns: z.array(z.object({ name: z.string(), type: z.string() })),
    rows: z.array(z.record(z.string(), z.unknown())),
    truncated: z.boolean(),
    elapsed_ms: z.number(),
  })
  .openapi('SqlResult');

const errorBody = { content: { 'application/json': { schema: ErrorSchema } } };

export const ERRORS = {
  400: { ...errorBody, description: 'Invalid request' },
  404: { ...errorBody, description: 'Not found' },
  409: { ...errorBody, description: 'Conflict with the current state' },
  422: { ...errorBody, description: 'Understood but not acceptable' },
  503: { ...errorBody, description: 'Shutting down' },
} as const;

export function ok<T extends z.ZodType>(schema: T, description: string) {
  return { 200: { content: { 'application/json': { schema } }, description }, ...ERRORS };
}

export function accepted<T extends z.ZodType>(schema: T, description: string) {
  return { 202: { content: { 'application/json': { schema } }, description }, ...ERRORS };
}

const jsonObject = (value: Cell | undefined): Record<string, unknown> | null => {
  if (typeof value !== 'string' || value === '') return null;
  try {
    const parsed: unknown = JSON.parse(value);
    return typeof parsed === 'object' && parsed !== null ? (parsed as Record<string, unknown>) : null;
  } catch {
    return null;
  }
};

const text = (value: Cell | undefined): string | null =>
  value === null || value === undefined ? null : String(value);
const num = (value: Cell | undefined): number | null =>
  value === null || value === undefined ? null : Number(value);

export function toApiRun(row: Row): ApiRun {
  return {
    run_id: String(row.run_id),
    status: RunStatusSchema.parse(row.status),
    trigger: String(row.trigger),
    selection: Array.isArray(row.selection) ? row.selection.map(String) : [],
    partition_from: text(row.partition_from),
    partition_to: text(row.partition_to),
    run_key: text(row.run_key),
    created_at: String(row.created_at),
    started_at: text(row.started_at),
    finished_at: text(row.finished_at),
    duration_ms: num(row.duration_ms),
    error: text(row.error),
  };
}

/** A run row's recorded configuration (the `config` JSON column). */
export function toApiRunConfig(row: Row): Record<string, unknown> | null {
  return jsonObject(row.config);
}

export function toApiAssetRun(row: Row): ApiAssetRun {
  return {
    asset: String(row.asset),
    status: String(row.status),
    changed: Boolean(row.changed),
    row_count: num(row.row_count),
    started_at: text(row.started_at),
    finished_at: text(row.finished_at),
    duration_ms: num(row.duration_ms),
    error: text(row.error),
    metadata: jsonObject(row.metadata),
  };
}

export function toApiEvent(row: Row): ApiRunEvent {
  return {
    seq: Number(row.seq),
    logged_at: String(row.logged_at),
    level: String(row.level),
    type: String(row.type),
    asset: text(row.asset),
    message: String(row.message),
    data: jsonObject(row.data),
  };
}
