import type { Cell, Warehouse } from '../warehouse/warehouse.js';
import * as sql from './automation-sql.js';
import { insertRows } from './automation-store.js';
import { type DayRange, dayCount, eachDay } from './days.js';
import { newRunId } from './ledger.js';
import type { RunRequest } from './run-executor.js';
import type { RunStatus } from './run-status.js';

export type BackfillStatus = 'queued' | 'running' | 'success' | 'failed' | 'canceled';

export interface BackfillSummary {
  backfill_id: string;
  status: BackfillStatus;
  partition_from: string;
  partition_to: string;
  selection: string[];
  created_at: string;
  canceled_at: string | null;
  /** When the last partition run finished, once none is queued or running. */
  finished_at: string | null;
  partitions_total: number;
  counts: Record<RunStatus, number>;
}

export interface BackfillPartition {
  partition: string;
  status: RunStatus;
  run_id: string;
  attempt: number;
}

/** What backfills need from the run queue. */
export interface BackfillLauncher {
  submit(request: RunRequest): Promise<{ runId: string; deduplicated: boolean }>;
  cancel(runId: string): Promise<boolean>;
  /** Bulk queueing in one transaction, when the launcher offers it. */
  submitMany?(requests: readonly RunRequest[]): Promise<string[]>;
}

export class BackfillError extends Error {
  override name = 'BackfillError';
}

export const MAX_BACKFILL_DAYS = 3660;

function statusOf(row: Record<string, Cell>): BackfillStatus {
  const n = (key: string) => Number(row[key] ?? 0);
  if (n('running') > 0) return 'running';
  if (n('queued') > 0) return n('queued') === n('partitions_total') ? 'queued' : 'running';
  if (row.canceled_at) return 'canceled';
  if (n('failed') > 0) return 'failed';
  if (n('canceled') > 0) return 'canceled';
  return 'success';
}

function summary(row: Record<string, Cell>): BackfillSummary {
  const status = statusOf(row);
  const count = (key: string) => Number(row[key] ?? 0);
  return {
    backfill_id: String(row.backfill_id),
    status,
    partition_from: String(row.partition_from),
    partition_to: String(row.partition_to),
    selection: (row.selection as string[] | null) ?? [],
    created_at: String(row.created_at),
    canceled_at: (row.canceled_at as string | null) ?? null,
    finished_at:
      status === 'queued' || status === 'running' ? null : ((row.last_finished_at as string | null) ?? null),
    partitions_total: count('partitions_total'),
    counts: {
      queued: count('queued'),
      running: count('running'),
      success: count('success'),
      failed: count('failed'),
      canceled: count('canceled'),
    },
  };
}

/**
 * A backfill is one tracked object over a day range, split into one run per day (range day..day)
 * that go through the run queue behind interactive work. Per-partition status is the status of
 * each day's latest run; re-executing failed partitions adds a new attempt for just those days.
 */
export class Backfills {
  constructor(
    private readonly options: {
      warehouse: Warehouse;
      launcher: BackfillLauncher;
      /** Full asset list of a whole-graph backfill, for the record. */
      allAssets: readonly string[];
    },
  ) {}

  async create(input: { range: DayRange; selection?: readonly string[] }): Promise<string> {
    const days = dayCount(input.range);
    if (days > MAX_BACKFILL_DAYS) {
      throw new BackfillError(
        `a backfill covers at most ${MAX_BACKFILL_DAYS} days; ${input.range.from}..${input.range.to} is ${days} days`,
      );
    }
    const backfillId = `bf-${newRunId()}`;
    const selection = input.selection && input.selection.length > 0 ? [...input.selection] : undefined;
    const partitions = [...eachDay(input.range)];
    const requests: RunRequest[] = partitions.map((day) => ({
      selection,
      range: { from: day, to: day },
      trigger: 'backfill',
      tags: { backfill_id: backfillId, partition: day },
    }));
    await this.options.warehouse.exec(sql.INSERT_BACKFILL, [
      backfillId,
      input.range.from,
      input.range.to,
      (selection ?? this.options.allAssets).join(','),
    ]);
    const runIds = await this.submitAll(requests);
    await this.insertPartitions(
      backfillId,
      partitions.map((day, i) => ({ day, runId: runIds[i] ?? '', attempt: 1 })),
    );
    return backfillId;
  }

  async list(limit = 50): Promise<BackfillSummary[]> {
    const rows = await this.options.warehouse.all(sql.BACKFILL_SUMMARIES, [null, limit]);
    return rows.map(summary);
  }

  async get(
    backfillId: string,
  ): Promise<{ backfill: BackfillSummary; partitions: BackfillPartition[] } | null> {
    const [row] = await this.options.warehouse.all(sql.BACKFILL_SUMMARIES, [backfillId, 1]);
    if (!row) return null;
    const partitions = await this.options.warehouse.all<BackfillPartition>(sql.BACKFILL_PARTITIONS, [
      backfillId,
    ]);
    return { backfill: summary(row), partitions };
  }

  /** Cancels every queued or running partition run; returns how many were stopped, null if unknown. */
  async cancel(backfillId: string): Promise<number | null> {
    const found = await this.get(backfillId);
    if (!found) return null;
    await this.options.warehouse.exec(sql.CANCEL_BACKFILL, [backfillId]);
    let canceled = 0;
    // Queued ones first, from the end, so the queue does not start one we are about to cancel.
    const active = found.partitions.filter((p) => p.status === 'queued' || p.status === 'running').reverse();
    for (const p of active) if (await this.options.launcher.cancel(p.run_id)) canceled++;
    return canceled;
  }

  /** Queues a new attempt for each failed or canceled partition; null if the backfill is unknown. */
  async reexecuteFailed(backfillId: string): Promise<string[] | null> {
    const found = await this.get(backfillId);
    if (!found) return null;
    const retry = found.partitions.filter((p) => p.status === 'failed' || p.status === 'canceled');
    if (retry.length === 0) return [];
    const { selection } = found.backfill;
    const explicit = selection.length > 0 && selection.length !== this.options.allAssets.length;
    const requests: RunRequest[] = retry.map((p) => ({
      selection: explicit ? selection : undefined,
      range: { from: p.partition, to: p.partition },
      trigger: 'backfill',
      tags: { backfill_id: backfillId, partition: p.partition, attempt: String(p.attempt + 1) },
    }));
    const runIds = await this.submitAll(requests);
    await this.insertPartitions(
      backfillId,
      retry.map((p, i) => ({ day: p.partition, runId: runIds[i] ?? '', attempt: p.attempt + 1 })),
    );
    return runIds;
  }

  /** A partition's run was re-queued after a crash: the new run becomes that partition's latest attempt. */
  async relink(runId: string, request: RunRequest): Promise<void> {
    const backfillId = request.tags?.backfill_id;
    const day = request.tags?.partition;
    if (!backfillId || !day) return;
    await this.options.warehouse.exec(sql.APPEND_BACKFILL_ATTEMPT, [backfillId, day, runId]);
  }

  private async submitAll(requests: readonly RunRequest[]): Promise<string[]> {
    const { launcher } = this.options;
    if (launcher.submitMany) return launcher.submitMany(requests);
    const ids: string[] = [];
    for (const request of requests) ids.push((await launcher.submit(request)).runId);
    return ids;
  }

  private async insertPartitions(
    backfillId: string,
    rows: readonly { day: string; runId: string; attempt: number }[],
  ): Promise<void> {
    await this.options.warehouse.transaction((tx) =>
      insertRows(
        tx,
        sql.INSERT_BACKFILL_PARTITIONS,
        sql.BACKFILL_PARTITION_VALUES,
        rows.map((r) => [backfillId, r.day, r.runId, r.attempt]),
      ),
    );
  }
}
