/**
 * The API's shapes as the UI reads them: the server's own types, inferred from the zod schemas its
 * routes declare (src/server/api-types.ts; type-only, so no server code reaches the bundle). A
 * renamed or ignored field fails the type check. Money is a `Money`, an exact decimal string with
 * its currency, `amount: null` when unknown. Insights, lineage and data responses, assets (from
 * asset-schemas.ts) and runs, ticks, sensors and schedules (run-schemas.ts) all come from there.
 */

export type {
  ApiGetRoutes,
  AssetChecks,
  AssetDetail,
  AssetSummary,
  Breakdown,
  BreakdownRow,
  CheckResult,
  Daily,
  FileBehind,
  FxCoverage,
  InsightDay,
  InsightOptions,
  LineageDay,
  Materializations,
  Money,
  PartitionCounts,
  PartitionDetail,
  PartitionStatus,
  RejectedFiles,
  RejectedReasons,
  RejectedRows,
  SourceFiles,
  SourceRow,
  SourceRows,
  Summary,
} from '../../src/server/api-types.js';

import type {
  ApiAssetRun,
  ApiRun,
  ApiRunDetail,
  ApiRunEvent,
  ApiSchedule,
  ApiSensor,
  ApiTick,
  AssetGraph,
  Partitions,
  Summary,
} from '../../src/server/api-types.js';
import type { Dimension as ServerDimension } from '../../src/server/event-filters.js';

/** One per-currency total (original amount in its currency, and the same in the reporting currency). */
export type CurrencyTotal = Summary['by_currency'][number];

export type Cell = string | number | boolean | null | Cell[] | { [key: string]: Cell };
export type Row = Record<string, Cell>;

export type AssetGraphResponse = AssetGraph;
export type PartitionsResponse = Partitions;

export type RunStatus = ApiRun['status'];
export type Run = ApiRun;

/** A run's asset: `started_at` is null until it starts (e.g. skipped before it ran). */
export type RunAsset = ApiAssetRun;
export type RunEventRow = ApiRunEvent;
/** GET /api/runs/{id}: with the configuration the run recorded (null for runs from before). */
export type RunDetail = ApiRunDetail;
export type Tick = ApiTick;
/** A sensor or a schedule, as the automation page lists both. */
export type Automation = ApiSensor | ApiSchedule;

export interface SqlResult {
  columns: { name: string; type: string }[];
  rows: Row[];
  truncated: boolean;
  elapsed_ms: number;
}

// A value the bundle needs at run time, so not imported from the server's schema module (it pulls in
// zod-openapi); `sameDimensions` below fails the type check if the two lists part.
export const DIMENSIONS = [
  'region',
  'service_tier',
  'operation_type',
  'resource_type',
  'currency',
  'user_id',
] as const;
export type Dimension = (typeof DIMENSIONS)[number];
type Same<A, B> = [A] extends [B] ? ([B] extends [A] ? true : false) : false;
export const sameDimensions: Same<Dimension, ServerDimension> = true;
export type Filters = Partial<Record<Dimension | 'from' | 'to', string>>;

// POST /api/assets/materialize: the plan a "materialize" button shows before it launches.
export type {
  MaterializePlan,
  MaterializeRequest,
  MaterializeResult,
  MaterializeScope,
} from '../../src/server/asset-schemas.js';

/** GET /api/sql/schema (the SQL page's schema browser). */
export type { SqlSchema } from '../../src/server/data-schemas.js';
