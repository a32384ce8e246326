import type { AssetDefinition, AssetResult, PartitionMaterialization } from '../../orchestrator/asset.js';
import { sqlDialect } from '../../warehouse/dialect.js';
import { FX_HEAD, fxTables } from '../fx/fx-sql.js';
import { applyRateChanges, missingRatesNotice } from '../fx/renormalize.js';
import type { FileOutcome, PendingFile, Timings } from '../ingest/file-load.js';
import { type IngestOptions, ingest } from '../ingest/pipelined-ingest.js';
import * as files from '../sql/files.js';
import { SETUP_LOCK } from '../sql/tables.js';
import { withTempDir } from '../temp-files.js';
import { dispatchFiles, runTask } from './billing-events-tasks.js';

export interface BillingEventsOptions extends IngestOptions {
  home: string;
  /** The configured FX rate file; null: none, so each run notes the currencies left without rates. */
  fxSource?: string | null;
}

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
    runTask: (ctx, payload) => runTask(ctx, options, payload),
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
