import type {
  AssetContext,
  AssetDefinition,
  AssetResult,
  PartitionMaterialization,
} from '../../orchestrator/asset.js';
import type { Source } from '../../sources/source.js';
import { sqlDialect } from '../../warehouse/dialect.js';
import type { Cell } from '../../warehouse/warehouse.js';
import { FX_HEAD, fxTables } from '../fx/fx-sql.js';
import { applyRateChanges, missingRatesNotice } from '../fx/renormalize.js';
import {
  commitBatch,
  type DuplicatePolicy,
  type FileOutcome,
  type FileState,
  type ParsedFile,
  type PendingFile,
  parseOne,
  priorOutcome,
  type Timings,
} from '../ingest/file-load.js';
import * as files from '../sql/files.js';
import { SETUP_LOCK } from '../sql/tables.js';
import { withTempDir } from '../temp-files.js';

export interface BillingEventsOptions {
  source: Source;
  home: string;
  /** Files downloaded and parsed at once (default 2); warehouse writes stay one at a time. */
  concurrency?: number;
  /** What `normalized_credit_usage` is expressed in (default USD). */
  reportingCurrency?: string;
  /** The configured FX rate file; null: none, so each run notes the currencies left without rates. */
  fxSource?: string | null;
  /** A file with the content of one already loaded: not loaded (`reject`, the default) or loaded. */
  duplicates?: DuplicatePolicy;
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
      const result = withRenormalized(loaded, fx.partitions);
      if (options.fxSource !== null) return result;
      const notice = await missingRatesNotice(ctx, reportingCurrency);
      if (notice === null) return result;
      ctx.log(`notice: ${notice}`, { fxNotice: notice });
      return { ...result, metadata: { ...result.metadata, fxNotice: notice } };
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
        const [outcome] = await commitBatch(ctx, [parsed], reportingCurrency, {
          recheck: true,
          duplicates: options.duplicates,
        });
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
  // Parsed files by index. They commit in index (key) order, whatever order the parsers finish in,
  // so which of two copies of one content is loaded first does not depend on timing.
  const ready = new Map<number, ParsedFile>();
  let nextToCommit = 0;
  let wake: (() => void) | null = null;
  let parsing = pending.length;
  let next = 0;
  // The first error of a parser or the writer (a full disk) stops both sides, and ingest returns
  // only once every parser has stopped: the caller then removes the scratch folder, and a parser
  // still writing into it would fail on a folder that is gone.
  let failure: { error: unknown } | null = null;

  const parser = async () => {
    try {
      await parseAll();
    } catch (error) {
      failure ??= { error };
    }
  };
  const parseAll = async () => {
    while (next < pending.length && !ctx.signal.aborted && failure === null) {
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
      ready.set(index, parsed);
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
      if (failure !== null) return;
      if (!ready.has(nextToCommit)) {
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
        ready.has(nextToCommit) &&
        batch.length < BATCH_MAX_FILES &&
        (batch.length === 0 || rows < BATCH_MAX_ROWS)
      ) {
        const item = ready.get(nextToCommit) as ParsedFile;
        ready.delete(nextToCommit++);
        rows += item.rows;
        batch.push(item);
      }
      const started = Date.now();
      const committed = await commitBatch(ctx, batch, options.reportingCurrency ?? 'USD', {
        duplicates: options.duplicates,
      });
      timings.insertMs += Date.now() - started;
      onCommitted(committed);
    }
  };
  const parsersDone = Promise.all(parsers).then(() => {
    parsing = 0;
    wake?.();
  });
  await Promise.all([
    parsersDone,
    writer().catch((error: unknown) => {
      failure ??= { error };
    }),
  ]);
  if (failure !== null) throw (failure as { error: unknown }).error;
}

function summarize(
  pending: readonly PendingFile[],
  done: readonly FileOutcome[],
  timings: Timings,
): AssetResult {
  const byPartition = new Map<string, PartitionMaterialization & { inputs: string[] }>();
  let rejectedRows = 0;
  // A retraction changes its day too (its events are gone): recorded as an input `key@retracted`.
  for (const o of done.filter((x) => x.kind === 'loaded' || x.kind === 'retracted')) {
    const p = byPartition.get(o.file.partition) ?? {
      partition: o.file.partition,
      rowCount: 0,
      inputs: [],
      metadata: { rejectedRows: 0 },
    };
    p.rowCount += o.rows;
    p.inputs.push(`${o.file.source_key}@${o.kind === 'retracted' ? 'retracted' : o.file.version}`);
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
    changed: count('loaded') + count('retracted') > 0,
    partitions: [...byPartition.values()].sort((a, b) =>
      String(a.partition).localeCompare(String(b.partition)),
    ),
    metadata: {
      files: done.length,
      loadedFiles: count('loaded'),
      rejectedFiles: count('rejected'),
      duplicateFiles: count('duplicate'),
      retractedFiles: count('retracted'),
      failedFiles: failed.length,
      rows: done.reduce((n, o) => n + o.rows, 0),
      rejectedRows,
      bytes: pending.reduce((n, f) => n + Number(f.size), 0),
      ...timings,
    },
    failure,
  };
}
