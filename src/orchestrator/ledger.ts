import { randomBytes } from 'node:crypto';
import { sqlDialect } from '../warehouse/dialect.js';
import {
  type Cell,
  insertMany,
  type Row,
  type SqlSession,
  type SqlValue,
  type Warehouse,
} from '../warehouse/warehouse.js';
import type { PartitionMaterialization } from './asset.js';
import type { DayRange } from './days.js';
import * as sql from './ledger-sql.js';
import type { AssetRunStatus, RunStatus } from './run-status.js';

export interface NewRun {
  trigger: string;
  selection: readonly string[];
  range: DayRange | null;
  fullRefresh: boolean;
  runKey?: string | null;
  tags?: Record<string, string>;
  /**
   * The effective configuration it runs under (secrets redacted); by default the ledger's
   * `runConfig`. A resumed run keeps the one it was first submitted with.
   */
  config?: RunConfig | null;
}

/** A run's configuration as recorded: billing-pipeline.yaml's shape, checks resolved, secrets redacted. */
export type RunConfig = Record<string, unknown>;

export interface LedgerOptions {
  /** The configuration of the process creating runs, recorded with each one (Dagster's run config). */
  runConfig?: RunConfig | null;
  /**
   * Record a run's own `config` (a resumed run's first) instead of `runConfig`: only where runs are
   * executed under the configuration they record (scale-out workers). An embedded process runs
   * everything under its own configuration, so that is what its runs record.
   */
  keepRequestedConfig?: boolean;
}

export interface RunEvent {
  at: number;
  level: 'info' | 'warn' | 'error';
  type: string;
  asset: string | null;
  message: string;
  data?: Record<string, Cell>;
}

export interface AssetRunRecord {
  asset: string;
  status: AssetRunStatus;
  changed: boolean;
  rowCount: number | null;
  startedAt: number;
  durationMs: number;
  error: string | null;
  metadata?: Record<string, Cell>;
  partitions: PartitionMaterialization[];
}

/** Sortable, readable run ids: `20250423-101500-a1b2c3`. */
export function newRunId(now = new Date()): string {
  const stamp = now.toISOString().replace(/[-:]/g, '').replace('T', '-').slice(0, 15);
  return `${stamp}-${randomBytes(3).toString('hex')}`;
}

/**
 * Creates tables that may already exist, one process at a time: PostgreSQL's CREATE … IF NOT EXISTS
 * is not safe against another session creating the same object concurrently (duplicate pg_type
 * key), so setup holds one lock for all of the pipeline's DDL. DuckDB's lock is a no-op.
 */
export async function setupSchema(warehouse: Warehouse, statements: readonly string[]): Promise<void> {
  await warehouse.transaction(async (tx) => {
    await tx.lock('schema-setup');
    for (const statement of statements) await tx.exec(statement);
  });
}

const json = (value: unknown): string | null => (value === undefined ? null : JSON.stringify(value));

/** A new run's columns from `trigger` to `config`, in the order INSERT_RUN and QUEUED_RUN_VALUES take them. */
function runColumns(run: NewRun, runConfig: RunConfig | null, keepRequested: boolean): SqlValue[] {
  return [
    run.trigger,
    run.selection.join(','),
    run.range?.from ?? null,
    run.range?.to ?? null,
    run.fullRefresh,
    run.runKey ?? null,
    json(run.tags),
    json((keepRequested ? run.config : null) ?? runConfig ?? undefined),
  ];
}

/** The record of what ran, when, on what, and with what result — stored beside the data it describes. */
export class Ledger {
  private readonly runConfig: RunConfig | null;
  private readonly keepRequestedConfig: boolean;

  constructor(
    private readonly warehouse: Warehouse,
    options: LedgerOptions = {},
  ) {
    this.runConfig = options.runConfig ?? null;
    this.keepRequestedConfig = options.keepRequestedConfig ?? true;
  }

  async setup(): Promise<void> {
    const statements = [
      ...sql.LEDGER_SCHEMA,
      ...sqlDialect(this.warehouse.dialect).lookupIndexes(sql.LEDGER_POSTGRES_INDEXES),
    ];
    await setupSchema(this.warehouse, statements);
  }

  /** Marks runs left `running` by a dead process as failed; returns how many. */
  async failOrphanedRuns(): Promise<number> {
    const rows = await this.warehouse.transaction((tx) => tx.all(sql.FAIL_ORPHANED_RUNS));
    return rows.length;
  }

  /**
   * Records a new run: `running` when it starts now, `queued` when a queue will start it later.
   * A run key another run already has creates nothing and returns that run's id; `createRunOnce`
   * tells the two apart.
   */
  async createRun(run: NewRun, status: 'queued' | 'running' = 'running'): Promise<string> {
    return (await this.createRunOnce(run, status)).runId;
  }

  /**
   * Like `createRun`, and says whether the run key was taken. On PostgreSQL a unique index on the
   * run key decides between processes submitting the same key at once: exactly one creates the run.
   */
  async createRunOnce(
    run: NewRun,
    status: 'queued' | 'running' = 'running',
  ): Promise<{ runId: string; deduplicated: boolean }> {
    const runId = newRunId();
    const statement =
      sql.INSERT_RUN +
      (this.warehouse.dialect === 'postgres' ? sql.ON_CONFLICT_DO_NOTHING : '') +
      sql.RETURNING_RUN_ID;
    const inserted = await this.warehouse.transaction((tx) =>
      tx.all(statement, [
        runId,
        status satisfies RunStatus,
        ...runColumns(run, this.runConfig, this.keepRequestedConfig),
      ]),
    );
    if (inserted.length > 0 || !run.runKey) return { runId, deduplicated: false };
    const existing = await this.findRunByKey(run.runKey);
    if (!existing) throw new Error(`run key ${run.runKey} is taken but no run has it`);
    return { runId: existing.run_id, deduplicated: true };
  }

  async startRun(runId: string): Promise<void> {
    await this.warehouse.exec(sql.START_RUN, [runId]);
  }

  async finishRun(runId: string, status: RunStatus, error: string | null): Promise<void> {
    await this.warehouse.exec(sql.FINISH_RUN, [runId, status, error]);
  }

  async findRunByKey(runKey: string): Promise<{ run_id: string; status: RunStatus } | null> {
    const rows = await this.warehouse.all<{ run_id: string; status: RunStatus }>(sql.RUN_BY_KEY, [runKey]);
    return rows[0] ?? null;
  }

  async recordAssetRun(runId: string, record: AssetRunRecord): Promise<void> {
    await this.warehouse.transaction((tx) => insertAssetRuns(tx, runId, [record]));
  }

  /**
   * What one asset's run leaves in the ledger, written in the caller's transaction: its record (if
   * any) and the run's events so far, beside its check results, so an asset costs one commit.
   */
  async recordAssetRunIn(
    tx: SqlSession,
    runId: string,
    record: AssetRunRecord | null,
    pending: { firstSeq: number; events: readonly RunEvent[] },
  ): Promise<void> {
    if (record) await insertAssetRuns(tx, runId, [record]);
    await insertEvents(tx, runId, pending.firstSeq, pending.events);
  }

  /**
   * Finishes a run and records, in the same transaction, what it held back to write together: the
   * asset runs that changed nothing and the events not yet flushed. A no-op run commits once.
   */
  async finishRunWith(
    runId: string,
    finish: { status: RunStatus; error: string | null },
    pending: { assetRuns: readonly AssetRunRecord[]; firstSeq: number; events: readonly RunEvent[] },
  ): Promise<void> {
    await this.warehouse.transaction(async (tx) => {
      await insertAssetRuns(tx, runId, pending.assetRuns);
      await insertEvents(tx, runId, pending.firstSeq, pending.events);
      await tx.exec(sql.FINISH_RUN, [runId, finish.status, finish.error]);
    });
  }

  /** The assets that may skip this run when nothing upstream changed (see CLEAN_ASSETS). */
  async cleanAssets(runId: string): Promise<Set<string>> {
    const rows = await this.warehouse.all<{ asset: string }>(sql.CLEAN_ASSETS, [runId]);
    return new Set(rows.map((r) => r.asset));
  }

  async appendEvents(runId: string, firstSeq: number, events: readonly RunEvent[]): Promise<void> {
    if (events.length === 0) return;
    await this.warehouse.transaction((tx) => insertEvents(tx, runId, firstSeq, events));
  }

  /** Where a run's event numbering continues (0 for a run without events). */
  async nextEventSeq(runId: string): Promise<number> {
    const [row] = await this.warehouse.all<{ n: number }>(sql.NEXT_EVENT_SEQ, [runId]);
    return Number(row?.n ?? 0);
  }

  async getCursor(asset: string): Promise<string | null> {
    const rows = await this.warehouse.all<{ cursor: string }>(sql.GET_CURSOR, [asset]);
    return rows[0]?.cursor ?? null;
  }

  async setCursor(tx: SqlSession, asset: string, cursor: string): Promise<void> {
    // Two processes replacing one cursor at once would both delete, then both insert.
    await tx.lock(`asset-cursor:${asset}`);
    await tx.exec(sql.DELETE_CURSOR, [asset]);
    await tx.exec(sql.INSERT_CURSOR, [asset, cursor]);
  }

  /** For each asset: ISO times of its last success and last data change. */
  async assetStates(): Promise<Map<string, { lastSuccessAt: string | null; lastChangeAt: string | null }>> {
    const rows = await this.warehouse.all<{
      asset: string;
      last_success_at: string | null;
      last_change_at: string | null;
    }>(sql.ASSET_STATE);
    return new Map(
      rows.map((r) => [r.asset, { lastSuccessAt: r.last_success_at, lastChangeAt: r.last_change_at }]),
    );
  }

  latestAssetRuns(): Promise<Row[]> {
    return this.warehouse.all(sql.LATEST_ASSET_RUNS);
  }

  listRuns(limit = 20): Promise<Row[]> {
    return this.warehouse.all(sql.LIST_RUNS, [limit]);
  }

  async getRun(runId: string): Promise<{ run: Row; assets: Row[]; events: Row[] } | null> {
    const [run] = await this.warehouse.all(sql.GET_RUN, [runId]);
    if (!run) return null;
    const assets = await this.warehouse.all(sql.RUN_ASSETS, [runId]);
    const events = await this.warehouse.all(sql.RUN_EVENTS, [runId]);
    return { run, assets, events };
  }

  partitionMaterializations(asset: string, partition: string | null): Promise<Row[]> {
    return this.warehouse.all(sql.PARTITION_MATERIALIZATIONS, [asset, partition]);
  }

  /**
   * Marks runs left `running` by a dead process as failed and returns their ids. Unlike
   * `failOrphanedRuns` it leaves `queued` runs alone: they are a daemon's persistent queue.
   */
  async failOrphanedRunning(): Promise<string[]> {
    const rows = await this.warehouse.transaction((tx) =>
      tx.all<{ run_id: string; created_at: string }>(sql.FAIL_ORPHANED_RUNNING),
    );
    // Oldest first, as they were queued: ISO timestamps sort as text.
    return rows
      .sort((a, b) => a.created_at.localeCompare(b.created_at) || a.run_id.localeCompare(b.run_id))
      .map((r) => r.run_id);
  }

  /** Records many `queued` runs in one transaction (a backfill's partitions), in the given order. */
  async createQueuedRuns(runs: readonly NewRun[]): Promise<string[]> {
    const now = new Date();
    const ids = new Set<string>();
    // Ids made in the same second differ only in their random suffix: make sure none repeats.
    while (ids.size < runs.length) ids.add(newRunId(now));
    const runIds = [...ids];
    await this.warehouse.transaction((tx) =>
      insertMany(
        tx,
        sql.INSERT_QUEUED_RUNS,
        sql.QUEUED_RUN_VALUES,
        runs.map((run, i) => [
          runIds[i] ?? '',
          ...runColumns(run, this.runConfig, this.keepRequestedConfig),
          i,
        ]),
      ),
    );
    return runIds;
  }

  /** Runs waiting for a queue, oldest first, with what is needed to start them. */
  queuedRuns(): Promise<StoredRunRequest[]> {
    return this.warehouse.all<StoredRunRequest>(sql.QUEUED_RUNS);
  }

  async runRequest(runId: string): Promise<(StoredRunRequest & { status: RunStatus }) | null> {
    const rows = await this.warehouse.all<StoredRunRequest & { status: RunStatus }>(sql.RUN_REQUEST, [runId]);
    return rows[0] ?? null;
  }

  /** Cancels a run that has not started; false when it is not (or no longer) queued. */
  async cancelQueuedRun(runId: string, reason = 'canceled before it started'): Promise<boolean> {
    const rows = await this.warehouse.transaction((tx) => tx.all(sql.CANCEL_QUEUED_RUN, [runId, reason]));
    return rows.length > 0;
  }

  /** Newest first; `before` is the last run id of the previous page. */
  listRunsPage(options: {
    status?: RunStatus | null;
    limit: number;
    before?: string | null;
  }): Promise<Row[]> {
    return this.warehouse.all(sql.LIST_RUNS_PAGE, [
      options.status ?? null,
      options.before ?? null,
      options.limit,
    ]);
  }
}

async function insertAssetRuns(
  tx: SqlSession,
  runId: string,
  records: readonly AssetRunRecord[],
): Promise<void> {
  if (records.length === 0) return;
  await insertMany(
    tx,
    sql.INSERT_ASSET_RUNS,
    sql.ASSET_RUN_VALUES,
    records.map((record) => [
      runId,
      record.asset,
      record.status,
      record.changed,
      record.rowCount,
      sql.timestampParam(record.startedAt),
      record.durationMs,
      record.error,
      json(record.metadata),
    ]),
  );
  await insertMany(
    tx,
    sql.INSERT_MATERIALIZATIONS,
    sql.MATERIALIZATION_VALUES,
    records.flatMap((record) =>
      record.partitions.map((p) => [
        runId,
        record.asset,
        p.partition,
        record.status,
        p.rowCount,
        p.inputs && p.inputs.length > 0 ? p.inputs.join('\n') : null,
        record.durationMs,
        json(p.metadata),
      ]),
    ),
  );
}

function insertEvents(tx: SqlSession, runId: string, firstSeq: number, events: readonly RunEvent[]) {
  return insertMany(
    tx,
    sql.INSERT_EVENTS,
    sql.EVENT_VALUES,
    events.map((e, i) => [
      runId,
      firstSeq + i,
      sql.timestampParam(e.at),
      e.level,
      e.type,
      e.asset,
      e.message,
      json(e.data),
    ]),
  );
}

/** A run as stored, enough to rebuild its request. */
export interface StoredRunRequest {
  run_id: string;
  trigger: string;
  selection: string[];
  partition_from: string | null;
  partition_to: string | null;
  full_refresh: boolean;
  run_key: string | null;
  /** JSON object of string tags, or null. */
  tags: string | null;
  /** JSON of the run's recorded configuration (RunConfig), or null for runs recorded before it was. */
  config: string | null;
}
