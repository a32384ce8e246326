import type { Cell, SqlSession, Warehouse } from '../warehouse/warehouse.js';
import type { AssetCheckDefinition, BlockedPartition } from './asset-check.js';
import type { DayRange } from './days.js';

/** How an asset's materializations are recorded: one per day partition, or one for the whole asset. */
export type Partitioning = 'daily' | 'none';

export interface PartitionMaterialization {
  /** `YYYY-MM-DD` for daily assets; null for unpartitioned ones. */
  partition: string | null;
  rowCount: number;
  /** What this partition was made from (e.g. source file keys with versions). */
  inputs?: string[];
  metadata?: Record<string, Cell>;
}

export interface AssetResult {
  /** Whether anything downstream may now be out of date. */
  changed: boolean;
  partitions: PartitionMaterialization[];
  /** Whole-asset facts for the ledger (counts, timings of phases). */
  metadata?: Record<string, Cell>;
  /** A problem that should fail the asset after its committed work is kept, e.g. some files could not be read. */
  failure?: string;
}

export interface ProgressUpdate {
  done: number;
  total: number;
  unit: string;
}

export interface AssetContext {
  runId: string;
  asset: string;
  warehouse: Warehouse;
  /** Partitions to reprocess even if nothing changed; null for "whatever is new". */
  range: DayRange | null;
  /** Recompute everything, not just what changed. */
  fullRefresh: boolean;
  /** True when an upstream asset changed data since this asset last succeeded (in this run or before). */
  upstreamChanged: boolean;
  signal: AbortSignal;
  log(message: string, data?: Record<string, Cell>): void;
  progress(update: ProgressUpdate): void;
  /** A per-asset position (e.g. the last change consumed), persisted with the ledger. */
  getCursor(): Promise<string | null>;
  /** Saves the cursor inside the caller's transaction so it commits with the work it describes. */
  setCursor(tx: SqlSession, value: string): Promise<void>;
  /**
   * Upstream partitions that failed `error` checks; an asset with `onBlockedUpstream: 'exclude'`
   * must build without them. Empty (or absent) when nothing is held back.
   */
  blockedUpstream?: readonly BlockedPartition[];
  /**
   * Present in scale-out mode: runs the tasks through the job queue, spread over every worker,
   * and resolves when all of them have finished (one outcome per task, in order). Each task is
   * run by this asset's `runTask`, maybe in another process; the queue retries a task whose worker
   * dies. Absent in the embedded mode: the asset does the work itself, in process.
   */
  dispatch?: (tasks: readonly AssetTask[]) => Promise<TaskOutcome[]>;
}

/** One unit of an asset's work (one file's ingest, one day's recompute) for the job queue. */
export interface AssetTask {
  /** Unique within the run and stable across retries, e.g. `file:<key>@<version>` or `day:2025-04-23`. */
  key: string;
  payload: Record<string, Cell>;
}

export interface TaskOutcome {
  key: string;
  status: 'success' | 'failed';
  /** What `runTask` returned. */
  result: Record<string, Cell> | null;
  error: string | null;
}

/** What a task runs with: no cursors or dispatch, only the warehouse and the run it belongs to. */
export interface TaskContext {
  runId: string;
  asset: string;
  warehouse: Warehouse;
  signal: AbortSignal;
  log(message: string, data?: Record<string, Cell>): void;
}

/** A software-defined asset: a named table (or set of tables) and how to bring it up to date. */
export interface AssetDefinition {
  name: string;
  description: string;
  deps: readonly string[];
  partitioning: Partitioning;
  group?: string;
  /** Data quality checks evaluated after each materialization (see `asset-check.ts`). */
  checks?: readonly AssetCheckDefinition[];
  /**
   * When an upstream partition failed an `error` check: `skip` this asset for the run (the default,
   * always safe), or `exclude` — run, leaving those partitions out (`context.blockedUpstream`). A
   * whole-asset failure upstream always skips.
   */
  onBlockedUpstream?: 'skip' | 'exclude';
  /** Creates the asset's tables if missing; runs before any materialization. */
  setup?(warehouse: Warehouse): Promise<void>;
  materialize(context: AssetContext): Promise<AssetResult>;
  /** Runs one task this asset dispatched (scale-out mode); it must be idempotent, as it may run twice. */
  runTask?(context: TaskContext, payload: Record<string, Cell>): Promise<Record<string, Cell>>;
}
