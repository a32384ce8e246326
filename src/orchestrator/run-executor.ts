import type { Cell, Warehouse } from '../warehouse/warehouse.js';
import type { AssetContext, AssetDefinition, AssetResult, AssetTask, TaskOutcome } from './asset.js';
import type { BlockedPartition } from './asset-check.js';
import type { AssetGraph } from './asset-graph.js';
import { type CheckRow, CheckRunner, type CheckVerdict, describePartitions } from './check-runner.js';
import type { DayRange } from './days.js';
import type { AssetRunRecord, Ledger, NewRun, RunConfig, RunEvent } from './ledger.js';
import type { RunEmitter } from './run-events.js';
import { readFastPathState, upToDateReason } from './run-fast-path.js';
import type { AssetRunStatus, RunStatus } from './run-status.js';

export interface RunRequest {
  /** Asset names; empty or missing for the whole graph. */
  selection?: readonly string[];
  withUpstream?: boolean;
  range?: DayRange | null;
  fullRefresh?: boolean;
  trigger: string;
  /** A run key already used by an earlier run makes this request a no-op. */
  runKey?: string | null;
  tags?: Record<string, string>;
  /** The configuration to record with the run instead of the submitting process's own (a resumed scale-out run keeps its first). */
  config?: RunConfig | null;
}

export interface AssetOutcome {
  asset: string;
  status: AssetRunStatus;
  durationMs: number;
  result: AssetResult | null;
  error: string | null;
}

export interface RunSummary {
  runId: string;
  status: RunStatus;
  error: string | null;
  assets: AssetOutcome[];
  /** Set when the run key had been used before: no new run was made. */
  deduplicatedBy?: string;
}

export interface ExecuteRunOptions {
  graph: AssetGraph;
  /** A run already recorded as `queued` (by a queue); without it a new run is recorded. */
  runId?: string;
  ledger: Ledger;
  warehouse: Warehouse;
  request: RunRequest;
  signal?: AbortSignal;
  emitter?: RunEmitter;
  /**
   * Scale-out mode: how an asset's tasks reach the job queue (see `AssetContext.dispatch`). Assets
   * that can split their work use it; without it everything runs in this process.
   */
  dispatch?: (asset: string, tasks: readonly AssetTask[], signal: AbortSignal) => Promise<TaskOutcome[]>;
}

/** The ledger's record of a request: what a queue stores before the run starts. */
export function describeRun(graph: AssetGraph, request: RunRequest): NewRun {
  return {
    trigger: request.trigger,
    selection: graph.select(request.selection, { withUpstream: request.withUpstream }).map((a) => a.name),
    range: request.range ?? null,
    fullRefresh: request.fullRefresh ?? false,
    runKey: request.runKey ?? null,
    tags: request.tags,
    config: request.config ?? null,
  };
}

const errorMessage = (error: unknown): string => (error instanceof Error ? error.message : String(error));

/**
 * Materializes the selected assets in dependency order. An asset that fails stops everything
 * downstream of it in this run; work it committed before failing stays committed.
 */
export async function executeRun(options: ExecuteRunOptions): Promise<RunSummary> {
  const { graph, ledger, warehouse, request, emitter } = options;
  const selected = graph.select(request.selection, { withUpstream: request.withUpstream });
  const range = request.range ?? null;
  const opened = options.runId
    ? { runId: options.runId, deduplicated: false }
    : await ledger.createRunOnce(describeRun(graph, request));
  if (opened.deduplicated) {
    const previous = await ledger.findRunByKey(request.runKey ?? '');
    return {
      runId: opened.runId,
      status: previous?.status ?? 'success',
      error: null,
      assets: [],
      deduplicatedBy: request.runKey ?? '',
    };
  }
  const runId = opened.runId;
  if (options.runId) await ledger.startRun(runId);
  const signal = options.signal ?? new AbortController().signal;
  const events: RunEvent[] = [];
  // A run taken over from a lost worker (scale-out) already has events: continue their numbering.
  let flushedEvents = options.runId ? await ledger.nextEventSeq(runId) : 0;
  const firstSeq = flushedEvents;
  const record = (event: Omit<RunEvent, 'at'>) => events.push({ at: Date.now(), ...event });

  emitter?.emit('run:started', { runId, assets: selected.map((a) => a.name) });
  record({
    level: 'info',
    type: 'run_started',
    asset: null,
    message: `run started: ${selected.map((a) => a.name).join(', ')}`,
  });

  const outcomes = new Map<string, AssetOutcome>();
  const states = await ledger.assetStates();
  let canceled = false;
  const checks = new CheckRunner({ warehouse, graph, runId });
  if (graph.assets.some((a) => (a.checks?.length ?? 0) > 0)) await checks.store.setup();
  /**
   * Asset runs that changed nothing, written with the run's end in one transaction: they describe
   * no committed data, so a crash that loses them loses nothing (the next run looks again).
   */
  const deferred: AssetRunRecord[] = [];
  const fastPath = await readFastPathState({
    ledger,
    checks,
    graph,
    runId,
    forced: range !== null || (request.fullRefresh ?? false),
  });
  /** Assets with `error` checks failing in this run that hold data back: downstream runs as usual. */
  const checksFailed = new Set<string>();
  /** Failed `error` checks and the data they held back: they fail the run even though assets succeeded. */
  const checkFailures: string[] = [];
  const holds: string[] = [];

  for (const asset of selected) {
    if (signal.aborted) {
      canceled = true;
      break;
    }
    const blockedBy = asset.deps.find((dep) => {
      const status = outcomes.get(dep)?.status;
      return status === 'failed' || (status === 'skipped' && outcomes.get(dep)?.error);
    });
    if (blockedBy) {
      const outcome = await skip(asset, `upstream asset ${blockedBy} did not succeed`);
      outcomes.set(asset.name, outcome);
      continue;
    }
    const upToDate = upToDateReason(asset, fastPath, {
      outcome: (dep) => {
        const o = outcomes.get(dep);
        return o && { status: o.status, changed: o.result?.changed ?? null };
      },
      withheldInRun: checksFailed,
      upstreamChanged: upstreamChanged(asset),
    });
    if (upToDate) {
      outcomes.set(asset.name, skipUpToDate(asset, upToDate));
      continue;
    }
    const blocked = await checks.upstreamBlocks(asset);
    if (blocked.length > 0) {
      const reason = describeBlocks(blocked);
      if (blocked.some((b) => b.partition === null) || asset.onBlockedUpstream !== 'exclude') {
        holds.push(`${asset.name} skipped: ${reason}`);
        outcomes.set(asset.name, await skip(asset, `held back by failed error checks: ${reason}`));
        continue;
      }
      holds.push(`${asset.name} built without ${reason}`);
      record({
        level: 'warn',
        type: 'partitions_withheld',
        asset: asset.name,
        message: `${asset.name} is built without ${reason}`,
        data: { partitions: blocked.map((b) => `${b.asset}:${b.partition}`) },
      });
    }
    outcomes.set(asset.name, await materializeOne(asset, blocked));
  }

  const failed = [...outcomes.values()].filter((o) => o.status === 'failed');
  const qualityFailed = checkFailures.length > 0 || holds.length > 0;
  const status: RunStatus = canceled ? 'canceled' : failed.length > 0 || qualityFailed ? 'failed' : 'success';
  const problems = [
    ...failed.map((o) => `${o.asset}: ${o.error}`),
    ...(checkFailures.length > 0 ? checkFailures : holds),
  ];
  const error = status === 'canceled' ? 'canceled' : problems.length > 0 ? problems.join('; ') : null;
  record({
    level: status === 'success' ? 'info' : 'error',
    type: `run_${status}`,
    asset: null,
    message: error ?? `run ${status}`,
  });
  const pending = events.slice(flushedEvents - firstSeq);
  await ledger.finishRunWith(
    runId,
    { status, error },
    { assetRuns: deferred, firstSeq: flushedEvents, events: pending },
  );
  flushedEvents += pending.length;
  emitter?.emit('run:finished', { runId, status, error });
  return { runId, status, error, assets: [...outcomes.values()] };

  async function skip(asset: AssetDefinition, reason: string): Promise<AssetOutcome> {
    const startedAt = Date.now();
    record({ level: 'warn', type: 'asset_skipped', asset: asset.name, message: reason });
    await ledger.recordAssetRun(runId, {
      asset: asset.name,
      status: 'skipped',
      changed: false,
      rowCount: null,
      startedAt,
      durationMs: 0,
      error: reason,
      partitions: [],
    });
    emitter?.emit('asset:finished', {
      runId,
      asset: asset.name,
      status: 'skipped',
      durationMs: 0,
      result: null,
      error: reason,
    });
    return { asset: asset.name, status: 'skipped', durationMs: 0, result: null, error: reason };
  }

  async function materializeOne(
    asset: AssetDefinition,
    blockedUpstream: readonly BlockedPartition[],
  ): Promise<AssetOutcome> {
    const startedAt = Date.now();
    emitter?.emit('asset:started', { runId, asset: asset.name });
    record({
      level: 'info',
      type: 'asset_started',
      asset: asset.name,
      message: `materializing ${asset.name}`,
    });
    const context: AssetContext = {
      runId,
      asset: asset.name,
      warehouse,
      range,
      fullRefresh: request.fullRefresh ?? false,
      upstreamChanged: upstreamChanged(asset),
      signal,
      log(message: string, data?: Record<string, Cell>) {
        record({ level: 'info', type: 'log', asset: asset.name, message, data });
        emitter?.emit('asset:log', { runId, asset: asset.name, message });
      },
      progress(update) {
        emitter?.emit('asset:progress', { runId, asset: asset.name, update });
      },
      getCursor: () => ledger.getCursor(asset.name),
      setCursor: (tx, value) => ledger.setCursor(tx, asset.name, value),
      blockedUpstream,
    };
    const dispatch = options.dispatch;
    if (dispatch && asset.runTask) context.dispatch = (tasks) => dispatch(asset.name, tasks, signal);
    let result: AssetResult | null = null;
    let error: string | null = null;
    try {
      result = await asset.materialize(context);
      error = result.failure ?? null;
    } catch (caught) {
      error = errorMessage(caught);
    }
    const durationMs = Date.now() - startedAt;
    const status: AssetRunStatus = error ? 'failed' : 'success';
    const partitions = result?.partitions ?? [];
    const rowCount = partitions.length > 0 ? partitions.reduce((n, p) => n + p.rowCount, 0) : null;
    record({
      level: error ? 'error' : 'info',
      type: error ? 'asset_failed' : 'asset_materialized',
      asset: asset.name,
      message: error
        ? `${asset.name} failed: ${error}`
        : `${asset.name} ${result?.changed ? `materialized ${partitions.length} partition(s)` : 'was up to date'} in ${durationMs} ms`,
      data: result?.metadata,
    });
    const assetRun: AssetRunRecord = {
      asset: asset.name,
      status,
      changed: result?.changed ?? false,
      rowCount,
      startedAt,
      durationMs,
      error,
      metadata: result?.metadata,
      partitions,
    };
    // What changed data is recorded at once, beside the data; a no-op waits for the run's end.
    const noOp = status === 'success' && !assetRun.changed && partitions.length === 0;
    if (noOp) deferred.push(assetRun);
    const checkRows = result && !signal.aborted ? await runChecks(asset, result, blockedUpstream) : [];
    // One commit for the asset's record, its check results and its events (issue 12: a commit
    // costs a WAL sync, and a run of ten assets made thirty).
    if (!noOp || checkRows.length > 0) {
      const pending = noOp ? [] : events.slice(flushedEvents - firstSeq);
      try {
        const failing = await warehouse.transaction(async (tx) => {
          const keys = await checks.store.recordIn(tx, runId, checkRows);
          await ledger.recordAssetRunIn(tx, runId, noOp ? null : assetRun, {
            firstSeq: flushedEvents,
            events: pending,
          });
          return keys;
        });
        checks.adopt(failing);
      } catch (error) {
        checks.forget();
        throw error;
      }
      flushedEvents += pending.length;
    }
    emitter?.emit('asset:finished', { runId, asset: asset.name, status, durationMs, result, error });
    return { asset: asset.name, status, durationMs, result, error };
  }

  async function runChecks(
    asset: AssetDefinition,
    result: AssetResult,
    blockedUpstream: readonly BlockedPartition[],
  ): Promise<CheckRow[]> {
    const { verdicts, rows } = await checks.assess(asset, result, blockedUpstream, signal);
    if (verdicts.length === 0) return rows;
    for (const v of verdicts.filter((x) => x.failed.length > 0)) {
      if (v.severity === 'error' && v.withholds) checksFailed.add(asset.name);
      const message = describeFailure(v);
      if (v.severity === 'error') checkFailures.push(`${asset.name}: ${message}`);
      record({
        level: v.severity === 'error' ? 'error' : 'warn',
        type: 'check_failed',
        asset: asset.name,
        message: `${asset.name}: ${message}${v.severity === 'error' && v.withholds ? '; withheld from downstream assets' : ''}`,
        data: {
          check: v.check,
          severity: v.severity,
          partitions: v.failed.map((o) => o.partition),
        },
      });
    }
    const failedCount = verdicts.reduce((n, v) => n + v.failed.length, 0);
    const passedCount = verdicts.reduce((n, v) => n + v.passed, 0);
    record({
      level: 'info',
      type: 'checks_evaluated',
      asset: asset.name,
      message: `${asset.name}: ${verdicts.length} check(s) evaluated, ${passedCount} result(s) passed, ${failedCount} failed`,
      data: { checks: verdicts.length, passed: passedCount, failed: failedCount },
    });
    return rows;
  }

  /** An asset the fast path skips: recorded as a success that changed nothing, with the reason. */
  function skipUpToDate(asset: AssetDefinition, reason: string): AssetOutcome {
    const metadata = { skipped: true, reason };
    const result: AssetResult = { changed: false, partitions: [], metadata };
    record({
      level: 'info',
      type: 'asset_up_to_date',
      asset: asset.name,
      message: `${asset.name} skipped: ${reason}`,
    });
    deferred.push({
      asset: asset.name,
      status: 'success',
      changed: false,
      rowCount: null,
      startedAt: Date.now(),
      durationMs: 0,
      error: null,
      metadata,
      partitions: [],
    });
    emitter?.emit('asset:finished', {
      runId,
      asset: asset.name,
      status: 'success',
      durationMs: 0,
      result,
      error: null,
    });
    return { asset: asset.name, status: 'success', durationMs: 0, result, error: null };
  }

  function upstreamChanged(asset: AssetDefinition): boolean {
    const mine = states.get(asset.name)?.lastSuccessAt ?? null;
    return asset.deps.some((dep) => {
      if (outcomes.get(dep)?.result?.changed) return true;
      const theirs = states.get(dep)?.lastChangeAt ?? null;
      return theirs !== null && (mine === null || theirs > mine);
    });
  }
}

function describeFailure(v: CheckVerdict): string {
  const partitions = v.failed.map((o) => o.partition);
  const where = partitions.every((p) => p === null) ? '' : ` for ${describePartitions(partitions)}`;
  const first = v.summary ?? v.failed[0]?.message;
  return `check ${v.check} (${v.severity}) failed${where}${first ? `: ${first}` : ''}`;
}

function describeBlocks(blocked: readonly BlockedPartition[]): string {
  const byAsset = new Map<string, BlockedPartition[]>();
  for (const b of blocked) byAsset.set(b.asset, [...(byAsset.get(b.asset) ?? []), b]);
  return [...byAsset]
    .map(([asset, list]) => {
      const checkNames = [...new Set(list.flatMap((b) => b.checks))].sort().join(', ');
      const whole = list.some((b) => b.partition === null);
      const what = whole
        ? asset
        : `${asset} partition(s) ${describePartitions(list.map((b) => b.partition))}`;
      return `${what} (failed ${checkNames})`;
    })
    .join('; ');
}
