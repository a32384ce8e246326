/** The API's shapes, as the UI reads them (see /api/openapi.json). Money is always an exact decimal string. */

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

export type RunStatus = 'queued' | 'running' | 'success' | 'failed' | 'canceled';

export interface Run {
  run_id: string;
  status: RunStatus;
  trigger: string;
  selection: string[];
  partition_from: string | null;
  partition_to: string | null;
  run_key: string | null;
  created_at: string;
  started_at: string | null;
  finished_at: string | null;
  duration_ms: number | null;
  error: string | null;
}

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

export interface Tick {
  tick_id: string | number;
  started_at: string;
  finished_at: string | null;
  outcome: string;
  skip_reason: string | null;
  cursor_before: string | null;
  cursor_after: string | null;
  run_ids: string[] | null;
  error: string | null;
}

export interface Automation {
  name: string;
  kind?: string;
  description?: string;
  enabled: boolean;
  interval_seconds?: number | null;
  cron?: string;
  timezone?: string;
  cursor?: string | null;
  last_tick?: Tick | null;
  next_tick_at: string | null;
}

export interface Summary {
  event_count: number;
  total_credit_usage: string;
  success_count: number;
  failure_count: number;
  success_rate: string | null;
  first_day: string | null;
  last_day: string | null;
  days: number;
  avg_daily_credit_usage: string | null;
  avg_credit_usage: string | null;
  unique_users: number;
  source: 'aggregates' | 'events';
}

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
