import type { Warehouse } from '../warehouse/warehouse.js';

/** `error` withholds the failing partitions from downstream assets; `warn` only records. */
export type CheckSeverity = 'error' | 'warn';
export const CHECK_SEVERITIES: readonly CheckSeverity[] = ['error', 'warn'];

/** One verdict of one check on one partition (`null` for a whole-asset check). */
export interface CheckOutcome {
  partition: string | null;
  passed: boolean;
  /** What was measured, e.g. a count or a rate; stored as text so exact decimals survive. */
  observed?: string | number | null;
  /** The limit it was held against. */
  threshold?: string | number | null;
  /** A sentence for people: what is wrong and where to look. */
  message?: string | null;
}

/** An upstream partition (or, with `partition: null`, a whole asset) held back by failed `error` checks. */
export interface BlockedPartition {
  asset: string;
  partition: string | null;
  checks: string[];
}

export interface AssetCheckContext {
  runId: string;
  asset: string;
  warehouse: Warehouse;
  /** Partitions the materialization just wrote (unpartitioned assets: none). */
  partitions: readonly string[];
  /** Whether the materialization changed anything. */
  changed: boolean;
  /** The materialization's whole-asset metadata (e.g. `eventDays`, the event days it rebuilt). */
  metadata?: Readonly<Record<string, unknown>>;
  /**
   * Partitions whose latest result for this check failed. Checks re-evaluate them so a partition
   * is released as soon as its data (or the check's configuration) is fixed.
   */
  failing: readonly (string | null)[];
  /** Upstream partitions the asset was built without; the check must ignore them too. */
  blockedUpstream: readonly BlockedPartition[];
  signal: AbortSignal;
}

/**
 * A declarative test of an asset's data, evaluated after each materialization. Results land in
 * `check_results`; failed `error` checks withhold their partitions from everything downstream.
 */
export interface AssetCheckDefinition {
  name: string;
  description: string;
  severity: CheckSeverity;
  /**
   * Whether a failed `error` result withholds its partition from downstream assets (default true).
   * A check whose failures downstream assets already represent honestly says false: the run still
   * fails, but the rest of the partition's data flows on (see `fx_rate_available`).
   */
  withholds?: boolean;
  evaluate(context: AssetCheckContext): Promise<CheckOutcome[]>;
  /**
   * One sentence over all failed outcomes of an evaluation, for the run's error and log; without it
   * they show the first failure's message. Only called when something failed.
   */
  summarize?(context: AssetCheckContext, failed: readonly CheckOutcome[]): Promise<string>;
}

/** A stored check result, as `check_results` holds it. */
export interface CheckResult {
  asset: string;
  partition: string | null;
  check_name: string;
  severity: CheckSeverity;
  passed: boolean;
  observed: string | null;
  threshold: string | null;
  message: string | null;
  run_id: string;
  evaluated_at: string;
}
