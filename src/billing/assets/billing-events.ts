import { join } from 'node:path';
import type {
  AssetContext,
  AssetDefinition,
  AssetResult,
  PartitionMaterialization,
  TaskContext,
} from '../../orchestrator/asset.js';
import type { Source } from '../../sources/source.js';
import { ensureDayPartitions } from '../../warehouse/day-partitions.js';
import { sqlDialect } from '../../warehouse/dialect.js';
import { type Cell, insertMany, type SqlSession } from '../../warehouse/warehouse.js';
import { FX_HEAD, fxTables } from '../fx/fx-sql.js';
import { applyRateChanges } from '../fx/renormalize.js';
import { parseFile } from '../parse-file.js';
import * as sql from '../sql/events.js';
import * as files from '../sql/files.js';
import { NORMALIZED_EVENT_COLUMNS, REJECTED_ROW_COLUMNS, SETUP_LOCK } from '../sql/tables.js';
import { withTempDir } from '../temp-files.js';

export interface BillingEventsOptions {
  source: Source;
  home: string;
  /** Files downloaded and parsed at once (default 2); warehouse writes stay one at a time. */
  concurrency?: number;
  /** What `normalized_credit_usage` is expressed in (default USD). */
  reportingCurrency?: string;
}

interface PendingFile {
  source_key: string;
  version: string;
  partition: string;
  size: number;
  replaces: boolean;
}

/** What became of one file: the unit of the asset's result, whether loaded in process or by a task. */
interface FileOutcome {
  file: PendingFile;
  kind: 'loaded' | 'rejected' | 'failed';
  rows: number;
  rejectedRows: number;
  reason?: string;
  /** An earlier attempt (a retried task, another worker) had already loaded this version. */
  alreadyDone?: boolean;
}

/** A file after parsing, waiting for (or done with) its transaction. */
interface ParsedFile extends FileOutcome {
  index: number;
  eventsPath: string;
  rejectsPath: string;
}

/** What a load needs of its caller: the run's asset context or a worker's task context. */
type LoadContext = Pick<TaskContext, 'warehouse' | 'runId' | 'log' | 'signal'>;

interface Timings {
  parseMs: number;
  insertMs: number;
}

/** Files committed together: small files share one transaction, big ones go alone. */
const BATCH_MAX_FILES = 64;
const BATCH_MAX_ROWS = 2_000_000;

/**
 * `billing_events`: every valid row of every file, with its source key and line. A file is loaded
 * by replacing exactly its rows inside one transaction, so re-running never duplicates or loses
 * events. Embedded, parsing runs ahead of the warehouse and whatever is parsed when the writer is
 * free commits as one batch; in scale-out mode each file is a task (`runTask`) on some worker.
 */
export function billingEventsAsset(options: BillingEventsOptions): AssetDefinition {
  const reportingCurrency = options.reportingCurrency ?? 'USD';
  return {
    name: 'billing_events',
    description:
      'Validated billing events with provenance (source_key, source_line); rejected rows kept aside',
    deps: ['billing_files', 'fx_rates'],
    partitioning: 'daily',
    group: 'ingest',
    // Files of a day that failed an error check on billing_files (e.g. freshness) wait; others load.
    onBlockedUpstream: 'exclude',
    async setup(warehouse) {
      // The load reads fx_rates to normalize amounts, whichever asset is set up first.
      await warehouse.transaction(async (tx) => {
        await tx.lock(SETUP_LOCK);
        for (const statement of fxTables(sqlDialect(warehouse.dialect))) await tx.exec(statement);
      });
    },
    async materialize(ctx) {
      const held = new Set(
        (ctx.blockedUpstream ?? []).filter((b) => b.asset === 'billing_files').map((b) => b.partition),
      );
      if (ctx.range) await ctx.warehouse.exec(files.FORCE_RANGE, [ctx.range.from, ctx.range.to]);
      const [fxHead] = await ctx.warehouse.all<{ head: number | null }>(FX_HEAD);
      const listed = await ctx.warehouse.all<PendingFile>(files.FILES_TO_LOAD);
      const pending = listed.filter((f) => !held.has(f.partition));
      if (pending.length < listed.length) {
        ctx.log(`held back ${listed.length - pending.length} file(s) of partitions that failed error checks`);
      }
      let loaded: AssetResult = { changed: false, partitions: [], metadata: { files: 0 } };
      if (pending.length > 0) {
        const timings = { parseMs: 0, insertMs: 0 };
        const done: FileOutcome[] = [];
        if (ctx.dispatch) {
          done.push(...(await dispatchFiles(ctx, ctx.dispatch, pending, timings)));
        } else {
          await withTempDir(options.home, (dir) =>
            ingest(ctx, options, pending, dir, timings, (batch) => done.push(...batch)),
          );
        }
        loaded = summarize(pending, done, timings);
      }
      if (ctx.signal.aborted) return loaded;
      const fx = await applyRateChanges(ctx, reportingCurrency, fxHead?.head ?? null);
      return withRenormalized(loaded, fx.partitions);
    },
    async runTask(ctx, payload) {
      const file = pendingFile(payload);
      const started = Date.now();
      // A retried task whose first attempt committed: nothing to download.
      const [state] = await ctx.warehouse.all<FileState>(files.FILE_STATE, [file.source_key]);
      const prior = priorOutcome(file, state);
      if (prior) return taskResult(prior, { parseMs: 0, insertMs: 0 });
      return withTempDir(options.home, async (dir) => {
        const parsed = await parseOne(options.source, ctx.signal, file, 0, dir, () => {});
        const parseMs = Date.now() - started;
        const [outcome] = await commitBatch(ctx, [parsed], reportingCurrency, { recheck: true });
        return taskResult(outcome ?? parsed, { parseMs, insertMs: Date.now() - started - parseMs });
      });
    },
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
  };
}

function taskResult(outcome: FileOutcome, timings: Timings): Record<string, Cell> {
  return {
    kind: outcome.kind,
    rows: outcome.rows,
    rejectedRows: outcome.rejectedRows,
    reason: outcome.reason ?? null,
    alreadyDone: outcome.alreadyDone === true,
    partition: outcome.file.partition,
    source_key: outcome.file.source_key,
    version: outcome.file.version,
    ...timings,
  };
}

/** One task per file on the job queue; the outcomes in the shape the embedded load gives. */
async function dispatchFiles(
  ctx: AssetContext,
  dispatch: NonNullable<AssetContext['dispatch']>,
  pending: readonly PendingFile[],
  timings: Timings,
): Promise<FileOutcome[]> {
  const tasks = pending.map((f) => ({
    key: `file:${f.source_key}@${f.version}`,
    payload: { ...f },
  }));
  const outcomes = await dispatch(tasks);
  return pending.map((file, i): FileOutcome => {
    const outcome = outcomes[i];
    const result = outcome?.status === 'success' ? outcome.result : null;
    if (!result) {
      const reason = outcome?.error ?? 'the task did not finish';
      ctx.log(`could not load ${file.source_key}: ${reason}`);
      return { file, kind: 'failed', rows: 0, rejectedRows: 0, reason };
    }
    timings.parseMs += Number(result.parseMs ?? 0);
    timings.insertMs += Number(result.insertMs ?? 0);
    const kind = result.kind === 'loaded' || result.kind === 'rejected' ? result.kind : 'failed';
    return {
      file,
      kind,
      rows: Number(result.rows ?? 0),
      rejectedRows: Number(result.rejectedRows ?? 0),
      reason: typeof result.reason === 'string' ? result.reason : undefined,
      alreadyDone: result.alreadyDone === true,
    };
  });
}

interface FileState {
  needs_load: boolean;
  loaded_version: string | null;
  rejected_version: string | null;
  row_count: number | null;
  rejected_row_count: number | null;
  error: string | null;
}

/** The outcome an earlier attempt recorded for this very version, or null when it still needs loading. */
function priorOutcome(file: PendingFile, state: FileState | undefined): FileOutcome | null {
  if (!state || state.needs_load) return null;
  if (state.rejected_version === file.version) {
    return { file, kind: 'rejected', rows: 0, rejectedRows: 0, reason: state.error ?? '', alreadyDone: true };
  }
  if (state.loaded_version === file.version) {
    return {
      file,
      kind: 'loaded',
      rows: Number(state.row_count ?? 0),
      rejectedRows: Number(state.rejected_row_count ?? 0),
      alreadyDone: true,
    };
  }
  return null;
}

/** Adds the partitions whose amounts were re-normalized, so their checks run again. */
function withRenormalized(
  result: AssetResult,
  renormalized: readonly { partition: string; events: number }[],
): AssetResult {
  if (renormalized.length === 0) return result;
  const partitions = new Map(result.partitions.map((p) => [p.partition, { ...p }]));
  for (const r of renormalized) {
    const existing = partitions.get(r.partition);
    const events = Number(r.events);
    if (existing) {
      existing.metadata = { ...existing.metadata, renormalizedEvents: events };
    } else {
      partitions.set(r.partition, {
        partition: r.partition,
        rowCount: 0,
        metadata: { renormalizedEvents: events },
      });
    }
  }
  return {
    ...result,
    changed: true,
    partitions: [...partitions.values()].sort((a, b) =>
      String(a.partition).localeCompare(String(b.partition)),
    ),
    metadata: {
      ...result.metadata,
      renormalizedEvents: renormalized.reduce((n, r) => n + Number(r.events), 0),
    },
  };
}

async function parseOne(
  source: Source,
  signal: AbortSignal,
  file: PendingFile,
  index: number,
  dir: string,
  onBytes: (delta: number) => void,
): Promise<ParsedFile> {
  const prefix = join(dir, String(index));
  const parsed: ParsedFile = {
    index,
    file,
    kind: 'loaded',
    rows: 0,
    rejectedRows: 0,
    eventsPath: `${prefix}-events.csv`,
    rejectsPath: `${prefix}-rejects.csv`,
  };
  let last = 0;
  try {
    const input = await source.open(file.source_key, { signal });
    const result = await parseFile({
      input,
      fileIndex: index,
      gzip: file.source_key.toLowerCase().endsWith('.gz'),
      eventsPath: parsed.eventsPath,
      rejectsPath: parsed.rejectsPath,
      onProgress: (bytes) => {
        onBytes(bytes - last);
        last = bytes;
      },
    });
    if (result.kind === 'rejected') return { ...parsed, kind: 'rejected', reason: result.reason };
    return { ...parsed, rows: result.rows, rejectedRows: result.rejected };
  } catch (error) {
    return { ...parsed, kind: 'failed', reason: error instanceof Error ? error.message : String(error) };
  }
}

async function ingest(
  ctx: AssetContext,
  options: BillingEventsOptions,
  pending: readonly PendingFile[],
  dir: string,
  timings: Timings,
  onCommitted: (batch: FileOutcome[]) => void,
): Promise<void> {
  const totalBytes = pending.reduce((n, f) => n + Number(f.size), 0);
  let doneBytes = 0;
  const ready: ParsedFile[] = [];
  let wake: (() => void) | null = null;
  let parsing = pending.length;
  let next = 0;

  const parser = async () => {
    while (next < pending.length && !ctx.signal.aborted) {
      const index = next++;
      const started = Date.now();
      const parsed = await parseOne(
        options.source,
        ctx.signal,
        pending[index] as PendingFile,
        index,
        dir,
        (delta) => {
          doneBytes += delta;
          ctx.progress({ done: doneBytes, total: totalBytes, unit: 'bytes' });
        },
      );
      timings.parseMs += Date.now() - started;
      ready.push(parsed);
      parsing--;
      wake?.();
    }
  };
  const parsers = Array.from(
    { length: Math.max(1, Math.min(options.concurrency ?? 2, pending.length)) },
    parser,
  );

  const writer = async () => {
    for (;;) {
      if (ready.length === 0) {
        if (parsing === 0) return;
        await new Promise<void>((resolve) => {
          wake = resolve;
        });
        wake = null;
        continue;
      }
      const batch: ParsedFile[] = [];
      let rows = 0;
      while (
        ready.length > 0 &&
        batch.length < BATCH_MAX_FILES &&
        (batch.length === 0 || rows < BATCH_MAX_ROWS)
      ) {
        const item = ready.shift() as ParsedFile;
        rows += item.rows;
        batch.push(item);
      }
      const started = Date.now();
      const committed = await commitBatch(ctx, batch, options.reportingCurrency ?? 'USD');
      timings.insertMs += Date.now() - started;
      onCommitted(committed);
    }
  };
  const parsersDone = Promise.all(parsers).then(() => {
    parsing = 0;
    wake?.();
  });
  await Promise.all([parsersDone, writer()]);
}

/**
 * Loads a batch of parsed files in one transaction. With `recheck` (a task, which may be a retry or
 * race another worker), each file's state is read again under its lock and a version already
 * loaded or rejected is left as it is: the outcome then is the one recorded.
 */
async function commitBatch(
  ctx: LoadContext,
  batch: readonly ParsedFile[],
  reportingCurrency: string,
  options: { recheck?: boolean } = {},
): Promise<FileOutcome[]> {
  const dialect = sqlDialect(ctx.warehouse.dialect);
  // Before the load's transaction, in a short one of its own (PostgreSQL only; see day-partitions.ts).
  await ensureDayPartitions(
    ctx.warehouse,
    'billing_events',
    batch.filter((p) => p.kind === 'loaded' && p.rows > 0).map((p) => p.file.partition),
  );
  const prior = new Map<string, FileOutcome>();
  await ctx.warehouse.transaction(async (tx: SqlSession) => {
    // Sorted: two batches sharing files lock them in the same order.
    for (const key of [...new Set(batch.map((p) => p.file.source_key))].sort()) {
      await tx.lock(sql.fileLock(key));
    }
    if (options.recheck) {
      for (const p of batch) {
        const [state] = await tx.all<FileState>(files.FILE_STATE, [p.file.source_key]);
        const done = priorOutcome(p.file, state);
        if (done) prior.set(p.file.source_key, done);
      }
    }
    const todo = batch.filter((p) => !prior.has(p.file.source_key));
    for (const f of todo.filter((p) => p.kind === 'failed'))
      await tx.exec(files.MARK_FILE_FAILED, [f.file.source_key, f.reason ?? 'unknown error']);
    const written = todo.filter((p) => p.kind !== 'failed');
    if (written.length === 0) return;
    await tx.lock(sql.EVENTS_REWRITE_LOCK, 'shared');
    for (const statement of sql.CREATE_BATCH) await tx.exec(statement);
    await insertMany(
      tx,
      sql.INSERT_BATCH_FILES,
      sql.BATCH_FILE_VALUES,
      written.map((p) => {
        const [year, month, day] = p.file.partition.split('-').map(Number);
        return [
          p.index,
          p.file.source_key,
          p.file.version,
          p.kind,
          p.reason ?? null,
          year ?? 0,
          month ?? 0,
          day ?? 0,
          p.rows,
          p.rejectedRows,
        ];
      }),
    );
    for (const statement of dialect.refreshStatistics('ingest_batch')) await tx.exec(statement);
    const loaded = written.filter((p) => p.kind === 'loaded');
    // Events and rejected rows exist only for files loaded before (loaded_version is set in the same
    // transaction): a batch of new files has nothing to replace, and the scans of all history are skipped.
    // Asked inside the transaction, as another run may have loaded one of them since they were listed.
    const [previous] = await tx.all<{ replaces: boolean | null }>(sql.BATCH_REPLACES);
    const replaces = previous?.replaces === true;
    if (replaces) {
      for (const statement of sql.COLLECT_OLD_KEYS) await tx.exec(statement);
      await tx.exec(sql.DELETE_BATCH_EVENTS);
      await tx.exec(sql.DELETE_BATCH_REJECTED_ROWS);
    }
    await tx.exec(sql.DELETE_BATCH_FILE_REJECTIONS);
    const withRows = loaded.filter((p) => p.rows > 0);
    if (withRows.length > 0) {
      await tx.stageCsv({
        name: 'staged_events',
        paths: withRows.map((p) => p.eventsPath),
        columns: NORMALIZED_EVENT_COLUMNS,
      });
      await dialect.withLargeJoin(tx, () => tx.exec(sql.insertEvents(dialect), [reportingCurrency]));
    }
    const withRejects = loaded.filter((p) => p.rejectedRows > 0);
    if (withRejects.length > 0) {
      await tx.stageCsv({
        name: 'staged_rejects',
        paths: withRejects.map((p) => p.rejectsPath),
        columns: REJECTED_ROW_COLUMNS,
      });
      await tx.exec(sql.INSERT_REJECTED_ROWS, [ctx.runId]);
    }
    await tx.exec(sql.MARK_BATCH_LOADED, [ctx.runId]);
    await tx.exec(sql.RECORD_BATCH_REJECTIONS, [ctx.runId]);
    await tx.exec(sql.MARK_BATCH_REJECTED);
    // Last, and held until commit: see CHANGE_LOG_LOCK.
    await tx.lock(sql.CHANGE_LOG_LOCK, 'shared');
    const [change] = await tx.all<{ id: number }>(sql.NEXT_CHANGE_ID);
    const changeId = change?.id ?? 0;
    if (replaces) await tx.exec(sql.RECORD_OLD_KEYS, [changeId]);
    if (withRows.length > 0) await tx.exec(sql.RECORD_NEW_KEYS, [changeId]);
    for (const statement of sql.dropBatch(dialect)) await tx.exec(statement);
  });
  const outcomes = batch.map((p) => prior.get(p.file.source_key) ?? p);
  for (const p of outcomes) logOutcome(ctx, p);
  return outcomes;
}

function logOutcome(ctx: LoadContext, p: FileOutcome): void {
  switch (p.kind) {
    case 'loaded':
      ctx.log(
        `${p.alreadyDone ? 'already loaded' : p.file.replaces ? 'replaced' : 'loaded'} ${p.file.source_key}: ${p.rows} row(s)` +
          (p.rejectedRows > 0 ? `, ${p.rejectedRows} rejected` : ''),
      );
      break;
    case 'rejected':
      ctx.log(`${p.alreadyDone ? 'already rejected' : 'rejected'} file ${p.file.source_key}: ${p.reason}`);
      break;
    case 'failed':
      ctx.log(`could not read ${p.file.source_key}: ${p.reason}`);
      break;
    default: {
      const unreachable: never = p.kind;
      throw new Error(`unknown outcome ${String(unreachable)}`);
    }
  }
}

function summarize(
  pending: readonly PendingFile[],
  done: readonly FileOutcome[],
  timings: Timings,
): AssetResult {
  const byPartition = new Map<string, PartitionMaterialization & { inputs: string[] }>();
  let rejectedRows = 0;
  for (const o of done.filter((x) => x.kind === 'loaded')) {
    const p = byPartition.get(o.file.partition) ?? {
      partition: o.file.partition,
      rowCount: 0,
      inputs: [],
      metadata: { rejectedRows: 0 },
    };
    p.rowCount += o.rows;
    p.inputs.push(`${o.file.source_key}@${o.file.version}`);
    p.metadata = { rejectedRows: Number(p.metadata?.rejectedRows ?? 0) + o.rejectedRows };
    byPartition.set(o.file.partition, p);
    rejectedRows += o.rejectedRows;
  }
  const count = (kind: FileOutcome['kind']) => done.filter((o) => o.kind === kind).length;
  const failed = done.filter((o) => o.kind === 'failed');
  const unfinished = pending.length - done.length;
  const failure =
    failed.length > 0
      ? `${failed.length} file(s) could not be read and will be retried on the next run: ${failed
          .slice(0, 3)
          .map((o) => `${o.file.source_key}: ${o.reason}`)
          .join('; ')}`
      : unfinished > 0
        ? `canceled with ${unfinished} file(s) not loaded`
        : undefined;
  return {
    changed: count('loaded') > 0,
    partitions: [...byPartition.values()].sort((a, b) =>
      String(a.partition).localeCompare(String(b.partition)),
    ),
    metadata: {
      files: done.length,
      loadedFiles: count('loaded'),
      rejectedFiles: count('rejected'),
      failedFiles: failed.length,
      rows: done.reduce((n, o) => n + o.rows, 0),
      rejectedRows,
      bytes: pending.reduce((n, f) => n + Number(f.size), 0),
      ...timings,
    },
    failure,
  };
}
