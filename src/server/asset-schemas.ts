import { z } from '@hono/zod-openapi';
import { RowSchema } from './api-schema.js';

/**
 * Response schemas of the asset endpoints (src/server/routes/assets.ts). The web UI reads their
 * types through `api-types.ts` with `import type`, like the insights and run schemas; this module
 * imports only zod and the shared `Row` schema, so it type-checks inside the UI build.
 */

export const PartitionCountsSchema = z.object({
  materialized: z.number(),
  failed: z.number(),
  missing: z.number(),
  stale: z.number(),
  running: z.number(),
});
export type PartitionCounts = z.infer<typeof PartitionCountsSchema>;

export const PartitionStatusSchema = z.enum(['materialized', 'failed', 'missing', 'stale', 'running']);
export type PartitionStatus = z.infer<typeof PartitionStatusSchema>;

export const AssetSummarySchema = z
  .object({
    name: z.string(),
    description: z.string(),
    group: z.string().nullable(),
    partitioning: z.enum(['daily', 'none']),
    deps: z.array(z.string()),
    downstream: z.array(z.string()),
    status: z.enum(['success', 'failed', 'skipped', 'running']).nullable(),
    freshness: z.enum(['fresh', 'stale', 'never']),
    latest_run_id: z.string().nullable(),
    latest_finished_at: z.string().nullable(),
    latest_duration_ms: z.number().nullable(),
    latest_row_count: z.number().nullable(),
    latest_error: z.string().nullable(),
    last_success_at: z.string().nullable(),
    last_change_at: z.string().nullable(),
    partitions: PartitionCountsSchema.nullable(),
  })
  .openapi('AssetSummary');
export type AssetSummary = z.infer<typeof AssetSummarySchema>;

/** GET /api/assets */
export const AssetGraphSchema = z.object({
  assets: z.array(AssetSummarySchema),
  edges: z.array(z.object({ source: z.string(), target: z.string() })),
});
export type AssetGraph = z.infer<typeof AssetGraphSchema>;

/** GET /api/assets/{name} */
export const AssetDetailSchema = z.object({
  asset: AssetSummarySchema,
  upstream: z.array(z.string()),
  downstream: z.array(z.string()),
});
export type AssetDetail = z.infer<typeof AssetDetailSchema>;

/** GET /api/assets/{name}/partitions */
export const PartitionsSchema = z.object({
  asset: z.string(),
  first: z.string().nullable(),
  last: z.string().nullable(),
  states: z.string(),
  codes: z.record(z.string(), z.string()),
  counts: PartitionCountsSchema,
});
export type Partitions = z.infer<typeof PartitionsSchema>;

/** GET /api/assets/{name}/partitions/{day} */
export const PartitionDetailSchema = z.object({
  asset: z.string(),
  partition: z.string(),
  status: PartitionStatusSchema.nullable(),
  materialized_at: z.string().nullable(),
  materializations: z.array(RowSchema),
  files: z.array(RowSchema),
  rows: z.array(RowSchema),
});
export type PartitionDetail = z.infer<typeof PartitionDetailSchema>;

/** GET /api/assets/{name}/materializations */
export const MaterializationsSchema = z.object({ materializations: z.array(RowSchema) });
export type Materializations = z.infer<typeof MaterializationsSchema>;

export const CheckResultSchema = z
  .object({
    asset: z.string(),
    partition: z.string().nullable(),
    check_name: z.string(),
    severity: z.enum(['error', 'warn']),
    passed: z.boolean(),
    observed: z.string().nullable(),
    threshold: z.string().nullable(),
    message: z.string().nullable(),
    run_id: z.string(),
    evaluated_at: z.string().nullable(),
    withholds: z.boolean(),
  })
  .openapi('CheckResult');
export type CheckResult = z.infer<typeof CheckResultSchema>;

/** GET /api/assets/{name}/checks */
export const AssetChecksSchema = z.object({
  asset: z.string(),
  failing: z.object({ error: z.number(), warn: z.number() }),
  checks: z.array(CheckResultSchema),
});
export type AssetChecks = z.infer<typeof AssetChecksSchema>;

/**
 * What a "materialize" button runs: `only` the asset alone; `stale` rebuilds every stale or never-built asset and
 * everything downstream of them; `downstream` an asset and everything below it; `upstream` an
 * asset with what it reads (the days it is given again); `all` the whole graph, as the CLI's
 * `backfill` does.
 */
export const MaterializeScopeSchema = z.enum(['only', 'stale', 'downstream', 'upstream', 'all']);
export type MaterializeScope = z.infer<typeof MaterializeScopeSchema>;

/** POST /api/assets/materialize */
export const MaterializeRequestSchema = z.object({
  scope: MaterializeScopeSchema,
  /** The asset an `only`, `downstream` or `upstream` scope starts from. */
  asset: z.string().min(1).max(200).optional(),
  from: z.string().optional(),
  to: z.string().optional(),
  /** One run per day, tracked as a backfill, instead of one run over the range. */
  backfill: z.boolean().optional(),
  /** Only say what would run. */
  dryRun: z.boolean().optional(),
});
export type MaterializeRequest = z.infer<typeof MaterializeRequestSchema>;

export const PlannedAssetSchema = z.object({
  name: z.string(),
  /** Why it is in the selection, e.g. "stale", "downstream of billing_events". */
  reason: z.string(),
  partitioning: z.enum(['daily', 'none']),
  /** Days it will build: the range's days, or (no range) its stale and missing days now; null for an unpartitioned asset (one table). */
  partitions: z.number().nullable(),
});

export const MaterializePlanSchema = z.object({
  scope: MaterializeScopeSchema,
  /** One sentence saying what will run. */
  summary: z.string(),
  range: z.object({ from: z.string(), to: z.string() }).nullable(),
  assets: z.array(PlannedAssetSchema),
  /** Asset-partitions to build: days of daily assets plus one per unpartitioned asset. */
  total_partitions: z.number(),
});
export type MaterializePlan = z.infer<typeof MaterializePlanSchema>;

export const MaterializeResultSchema = z.object({
  plan: MaterializePlanSchema,
  runId: z.string().nullable(),
  backfillId: z.string().nullable(),
});
export type MaterializeResult = z.infer<typeof MaterializeResultSchema>;
