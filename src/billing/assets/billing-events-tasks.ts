import type { AssetContext, AssetTask, TaskContext } from '../../orchestrator/asset.js';
import { batchBySize } from '../../orchestrator/scale-out/task-batches.js';
import type { Cell } from '../../warehouse/warehouse.js';
import {
  commitBatch,
  type FileOutcome,
  type FileState,
  type LoadContext,
  nativeParser,
  type PendingFile,
  parseOne,
  priorOutcome,
  type Timings,
} from '../ingest/file-load.js';
import { type IngestOptions, ingest } from '../ingest/pipelined-ingest.js';
import * as files from '../sql/files.js';
import { withTempDir } from '../temp-files.js';

/** What a billing_events task runs with: the load options and the scratch folder's home. */
export type TaskOptions = IngestOptions & { home: string };

/** `billing_events`' `runTask` (scale-out): one file, or several batched into one task. */
export async function runTask(
  ctx: TaskContext,
  options: TaskOptions,
  payload: Record<string, Cell>,
): Promise<Record<string, Cell>> {
  const reportingCurrency = options.reportingCurrency ?? 'USD';
  if (Array.isArray(payload.files)) return runFileBatch(ctx, options, payload.files);
  const file = pendingFile(payload);
  const started = Date.now();
  // A retried task whose first attempt committed: nothing to download.
  const [state] = await ctx.warehouse.all<FileState>(files.FILE_STATE, [file.source_key]);
  const prior = priorOutcome(file, state);
  if (prior) return taskResult(prior, { parseMs: 0, insertMs: 0 });
  return withTempDir(options.home, async (dir) => {
    const parsed = await parseOne(
      options.source,
      ctx.signal,
      file,
      0,
      dir,
      () => {},
      nativeParser(ctx.warehouse, options.parser ?? 'native'),
    );
    const parseMs = Date.now() - started;
    const [outcome] = await commitBatch(ctx, [parsed], reportingCurrency, {
      recheck: true,
      duplicates: options.duplicates,
    });
    return taskResult(outcome ?? parsed, { parseMs, insertMs: Date.now() - started - parseMs });
  });
}

/**
 * A task of several files (scale-out): loaded as the embedded mode loads them, parsing ahead of
 * the writes, each commit re-checking its files under their locks (the task may be a retry).
 */
async function runFileBatch(
  ctx: LoadContext,
  options: TaskOptions,
  payload: readonly Cell[],
): Promise<Record<string, Cell>> {
  const list = payload.map((f) => pendingFile(f as Record<string, Cell>));
  const done: FileOutcome[] = [];
  const todo: PendingFile[] = [];
  // Files an earlier attempt of this task committed are not downloaded again.
  for (const file of list) {
    const [state] = await ctx.warehouse.all<FileState>(files.FILE_STATE, [file.source_key]);
    const prior = priorOutcome(file, state);
    if (prior) done.push(prior);
    else todo.push(file);
  }
  const timings = { parseMs: 0, insertMs: 0 };
  if (todo.length > 0) {
    await withTempDir(options.home, (dir) =>
      ingest({ ...ctx, progress: () => {} }, options, todo, dir, timings, (b) => done.push(...b), true),
    );
  }
  // Stopped part way: the queue retries the task, which skips what committed.
  if (ctx.signal.aborted) throw new Error('the task was stopped before all its files were loaded');
  const byKey = new Map(done.map((o) => [o.file.source_key, o]));
  const none = { parseMs: 0, insertMs: 0 };
  return {
    files: list.map((f) => {
      const outcome = byKey.get(f.source_key);
      return outcome ? taskResult(outcome, none) : null;
    }),
    ...timings,
  };
}

function pendingFile(payload: Record<string, Cell>): PendingFile {
  const text = (name: string): string => {
    const value = payload[name];
    if (typeof value !== 'string') throw new Error(`billing_events task without ${name}`);
    return value;
  };
  return {
    source_key: text('source_key'),
    version: text('version'),
    partition: text('partition'),
    size: Number(payload.size ?? 0),
    replaces: payload.replaces === true,
    retract: payload.retract === true,
  };
}

function taskResult(outcome: FileOutcome, timings: Timings): Record<string, Cell> {
  return {
    kind: outcome.kind,
    rows: outcome.rows,
    rejectedRows: outcome.rejectedRows,
    reason: outcome.reason ?? null,
    duplicateOf: outcome.duplicateOf ?? null,
    alreadyDone: outcome.alreadyDone === true,
    partition: outcome.file.partition,
    source_key: outcome.file.source_key,
    version: outcome.file.version,
    ...timings,
  };
}

const TASK_KINDS: readonly FileOutcome['kind'][] = ['loaded', 'rejected', 'duplicate', 'retracted'];

/**
 * Files on the job queue, small ones batched into one task (batchBySize), a big one alone; the
 * outcomes in the shape the embedded load gives.
 */
export async function dispatchFiles(
  ctx: AssetContext,
  dispatch: NonNullable<AssetContext['dispatch']>,
  pending: readonly PendingFile[],
  timings: Timings,
): Promise<FileOutcome[]> {
  const batches = batchBySize(pending, (f) => Number(f.size));
  const tasks = batches.map((batch): AssetTask => {
    const [first] = batch as [PendingFile];
    const key = `file:${first.source_key}@${first.version}`;
    if (batch.length === 1) return { key, payload: { ...first } };
    return {
      key: `files:${batch.length}:${key.slice(5)}`,
      payload: { files: batch.map((f): Record<string, Cell> => ({ ...f })) },
    };
  });
  const outcomes = await dispatch(tasks);
  // One result per file, in pending order, whichever task carried it.
  const results: { result: Record<string, Cell> | null; error: string | null }[] = [];
  batches.forEach((batch, b) => {
    const outcome = outcomes[b];
    const result = outcome?.status === 'success' ? outcome.result : null;
    if (result && batch.length > 1) {
      timings.parseMs += Number(result.parseMs ?? 0);
      timings.insertMs += Number(result.insertMs ?? 0);
    }
    batch.forEach((_, i) => {
      const own = batch.length === 1 ? result : ((result?.files as Cell[] | undefined)?.[i] ?? null);
      results.push({
        result: own && typeof own === 'object' && !Array.isArray(own) ? own : null,
        error: outcome?.error ?? null,
      });
    });
  });
  return pending.map((file, i): FileOutcome => {
    const outcome = results[i];
    const result = outcome?.result ?? null;
    if (!result) {
      const reason = outcome?.error ?? 'the task did not finish';
      ctx.log(`could not load ${file.source_key}: ${reason}`);
      return { file, kind: 'failed', rows: 0, rejectedRows: 0, reason };
    }
    timings.parseMs += Number(result.parseMs ?? 0);
    timings.insertMs += Number(result.insertMs ?? 0);
    const kind = TASK_KINDS.find((k) => k === result.kind) ?? 'failed';
    return {
      file,
      kind,
      rows: Number(result.rows ?? 0),
      rejectedRows: Number(result.rejectedRows ?? 0),
      reason: typeof result.reason === 'string' ? result.reason : undefined,
      duplicateOf: typeof result.duplicateOf === 'string' ? result.duplicateOf : undefined,
      alreadyDone: result.alreadyDone === true,
    };
  });
}
