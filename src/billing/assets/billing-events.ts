import { join } from 'node:path';
import type {
  AssetContext,
  AssetDefinition,
  AssetResult,
  PartitionMaterialization,
} from '../../orchestrator/asset.js';
import type { Source } from '../../sources/source.js';
import { insertMany, type SqlSession } from '../../warehouse/warehouse.js';
import { FX_HEAD, FX_TABLES } from '../fx/fx-sql.js';
import { applyRateChanges } from '../fx/renormalize.js';
import { parseFile } from '../parse-file.js';
import * as sql from '../sql/events.js';
import * as files from '../sql/files.js';
import { NORMALIZED_EVENT_COLUMNS, REJECTED_ROW_COLUMNS } from '../sql/tables.js';
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

/** A file after parsing, waiting for (or done with) its transaction. */
interface ParsedFile {
  index: number;
  file: PendingFile;
  kind: 'loaded' | 'rejected' | 'failed';
  rows: number;
  rejectedRows: number;
  reason?: string;
  eventsPath: string;
  rejectsPath: string;
}

/** Files committed together: small files share one transaction, big ones go alone. */
const BATCH_MAX_FILES = 64;
const BATCH_MAX_ROWS = 2_000_000;

/**
 * `billing_events`: every valid row of every file, with its source key and line. A file is loaded
 * by replacing exactly its rows inside one transaction, so re-running never duplicates or loses
 * events. Parsing runs ahead of the warehouse; whatever is parsed when the writer is free commits
 * as one batch.
 */
export function billingEventsAsset(options: BillingEventsOptions): AssetDefinition {
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
        for (const statement of FX_TABLES) await tx.exec(statement);
      });
    },
    async materialize(ctx) {
      const reportingCurrency = options.reportingCurrency ?? 'USD';
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
        const done: ParsedFile[] = [];
        await withTempDir(options.home, (dir) =>
          ingest(ctx, options, pending, dir, timings, (batch) => done.push(...batch)),
        );
        loaded = summarize(pending, done, timings);
      }
      if (ctx.signal.aborted) return loaded;
      const fx = await applyRateChanges(ctx, reportingCurrency, fxHead?.head ?? null);
      return withRenormalized(loaded, fx.partitions);
    },
  };
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
  timings: { parseMs: number; insertMs: number },
  onCommitted: (batch: ParsedFile[]) => void,
): Promise<void> {
  const totalBytes = pending.reduce((n, f) => n + Number(f.size), 0);
  let doneBytes = 0;
  const ready: ParsedFile[] = [];
  let wake: (() => void) | null = null;
  let parsing = pending.length;
  let next = 0;

  const parseOne = async (index: number): Promise<ParsedFile> => {
    const file = pending[index] as PendingFile;
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
      const input = await options.source.open(file.source_key, { signal: ctx.signal });
      const result = await parseFile({
        input,
        fileIndex: index,
        gzip: file.source_key.toLowerCase().endsWith('.gz'),
        eventsPath: parsed.eventsPath,
        rejectsPath: parsed.rejectsPath,
        onProgress: (bytes) => {
          doneBytes += bytes - last;
          last = bytes;
          ctx.progress({ done: doneBytes, total: totalBytes, unit: 'bytes' });
        },
      });
      if (result.kind === 'rejected') return { ...parsed, kind: 'rejected', reason: result.reason };
      return { ...parsed, rows: result.rows, rejectedRows: result.rejected };
    } catch (error) {
      return { ...parsed, kind: 'failed', reason: error instanceof Error ? error.message : String(error) };
    }
  };

  const parser = async () => {
    while (next < pending.length && !ctx.signal.aborted) {
      const index = next++;
      const started = Date.now();
      const parsed = await parseOne(index);
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
      await commitBatch(ctx, batch, options.reportingCurrency ?? 'USD');
      timings.insertMs += Date.now() - started;
      onCommitted(batch);
    }
  };
  const parsersDone = Promise.all(parsers).then(() => {
    parsing = 0;
    wake?.();
  });
  await Promise.all([parsersDone, writer()]);
}

async function commitBatch(
  ctx: AssetContext,
  batch: readonly ParsedFile[],
  reportingCurrency: string,
): Promise<void> {
  const failed = batch.filter((p) => p.kind === 'failed');
  const written = batch.filter((p) => p.kind !== 'failed');
  await ctx.warehouse.transaction(async (tx: SqlSession) => {
    for (const f of failed)
      await tx.exec(files.MARK_FILE_FAILED, [f.file.source_key, f.reason ?? 'unknown error']);
    if (written.length === 0) return;
    await tx.exec(sql.CREATE_BATCH);
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
    const loaded = written.filter((p) => p.kind === 'loaded');
    const [change] = await tx.all<{ id: number }>(sql.NEXT_CHANGE_ID);
    const changeId = change?.id ?? 0;
    // Events and rejected rows exist only for files loaded before (loaded_version is set in the same
    // transaction): a batch of new files has nothing to replace, and the scans of all history are skipped.
    // Asked inside the transaction, as another run may have loaded one of them since they were listed.
    const [previous] = await tx.all<{ replaces: boolean | null }>(sql.BATCH_REPLACES);
    if (previous?.replaces === true) {
      await tx.exec(sql.RECORD_OLD_KEYS, [changeId]);
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
      await tx.exec(sql.KEEP_JOIN_SIDES);
      try {
        await tx.exec(sql.INSERT_EVENTS, [reportingCurrency]);
      } finally {
        // After a failed insert the transaction is aborted and refuses this; the insert's error is the one to report.
        await tx.exec(sql.RESTORE_JOIN_SIDES).catch(() => {});
      }
      await tx.exec(sql.RECORD_NEW_KEYS, [changeId]);
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
    for (const statement of sql.DROP_BATCH) await tx.exec(statement);
  });
  for (const p of batch) {
    switch (p.kind) {
      case 'loaded':
        ctx.log(
          `${p.file.replaces ? 'replaced' : 'loaded'} ${p.file.source_key}: ${p.rows} row(s)` +
            (p.rejectedRows > 0 ? `, ${p.rejectedRows} rejected` : ''),
        );
        break;
      case 'rejected':
        ctx.log(`rejected file ${p.file.source_key}: ${p.reason}`);
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
}

function summarize(
  pending: readonly PendingFile[],
  done: readonly ParsedFile[],
  timings: { parseMs: number; insertMs: number },
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
  const count = (kind: ParsedFile['kind']) => done.filter((o) => o.kind === kind).length;
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
