/**
 * The API's shapes as the UI reads them. Insights, lineage and data responses are the server's own
 * types, inferred from the zod schemas its routes declare (src/server/api-types.ts; type-only, so
 * no server code reaches the bundle): a renamed or ignored field fails the type check. Money is a
 * `Money`, an exact decimal string with its currency, `amount: null` when unknown.
 * Runs, ticks, sensors and schedules come from run-schemas.ts the same way. Still written out by
 * hand: the asset shapes (their schemas live inline in src/server/routes/assets.ts) and the run
 * page's (see RunAsset).
 */

export type {
  ApiGetRoutes,
  Breakdown,
  BreakdownRow,
  Daily,
  FileBehind,
  FxCoverage,
  InsightDay,
  InsightOptions,
  LineageDay,
  Money,
  RejectedFiles,
  RejectedReasons,
  RejectedRows,
  SourceFiles,
  SourceRow,
  SourceRows,
  Summary,
} from '../../src/server/api-types.js';

import type { ApiRun, ApiSchedule, ApiSensor, ApiTick, Summary } from '../../src/server/api-types.js';

/** One per-currency total (original amount in its currency, and the same in the reporting currency). */
export type CurrencyTotal = Summary['by_currency'][number];

export type Cell = string | number | boolean | null | Cell[] | { [key: string]: Cell };
export type Row = Record<string, Cell>;

export type PartitionStatus = 'materialized' | 'failed' | 'missing' | 'stale' | 'running';
export type PartitionCounts = Record<PartitionStatus, number>;

export interface AssetSummary {
  name: string;
  description: string;
  group: string | null;
  partitioning: 'daily' | 'none';
  deps: string[];
  downstream: string[];
  status: 'success' | 'failed' | 'skipped' | 'running' | null;
  freshness: 'fresh' | 'stale' | 'never';
  latest_run_id: string | null;
  latest_finished_at: string | null;
  latest_duration_ms: number | null;
  latest_row_count: number | null;
  latest_error: string | null;
  last_success_at: string | null;
  last_change_at: string | null;
  partitions: PartitionCounts | null;
}

export interface AssetGraphResponse {
  assets: AssetSummary[];
  edges: { source: string; target: string }[];
}

export interface PartitionsResponse {
  asset: string;
  first: string | null;
  last: string | null;
  states: string;
  codes: Record<string, string>;
  counts: PartitionCounts;
}

export interface PartitionDetail {
  asset: string;
  partition: string;
  status: PartitionStatus | null;
  materialized_at: string | null;
  materializations: Row[];
  files: Row[];
  rows: Row[];
}

export type RunStatus = ApiRun['status'];
export type Run = ApiRun;

// The run page's shapes stay hand-written for now: the server's say `started_at` may be null,
// which web/src/pages/run-page.tsx does not handle yet.
export interface RunAsset {
  asset: string;
  status: string;
  changed: boolean;
  row_count: number | null;
  started_at: string;
  finished_at: string | null;
  duration_ms: number | null;
  error: string | null;
  metadata: Cell;
}

export interface RunEventRow {
  seq: number;
  logged_at: string;
  level: 'info' | 'warn' | 'error';
  type: string;
  asset: string | null;
  message: string;
  data: Cell;
}

export interface RunDetail {
  run: Run;
  assets: RunAsset[];
  events: RunEventRow[];
}
export type Tick = ApiTick;
/** A sensor or a schedule, as the automation page lists both. */
export type Automation = ApiSensor | ApiSchedule;

export interface SqlResult {
  columns: { name: string; type: string }[];
  rows: Row[];
  truncated: boolean;
  elapsed_ms: number;
}

export const DIMENSIONS = [
  'region',
  'service_tier',
  'operation_type',
  'resource_type',
  'currency',
  'user_id',
] as const;
export type Dimension = (typeof DIMENSIONS)[number];
export type Filters = Partial<Record<Dimension | 'from' | 'to', string>>;
