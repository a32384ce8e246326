import { join } from 'node:path';
import type { AssetContext, AssetDefinition, PartitionMaterialization } from '../../orchestrator/asset.js';
import { type Source, SourceError } from '../../sources/source.js';
import type { SqlSession } from '../../warehouse/warehouse.js';
import { parseFile } from '../parse-file.js';
import * as eventsSql from '../sql/events.js';
import * as files from '../sql/files.js';
import { NORMALIZED_EVENT_COLUMNS, REJECTED_ROW_COLUMNS } from '../sql/tables.js';
import { withTempDir } from '../temp-files.js';

export interface BillingEventsOptions {
  source: Source;
  home: string;
  /** Files parsed at once; their warehouse writes are still one at a time. */
  concurrency?: number;
}

interface PendingFile {
  source_key: string;
  version: string;
  partition: string;
  size: number;
  replaces: boolean;
}

interface FileOutcome {
  file: PendingFile;
  kind: 'loaded' | 'rejected' | 'failed';
  rows: number;
  rejectedRows: number;
  message?: string;
}

/**
 * `billing_events`: every valid row of every file, with its source key and line. A file is loaded
 * by replacing exactly its rows in one transaction, so re-running never duplicates or loses events.
 */
export function billingEventsAsset(options: BillingEventsOptions): AssetDefinition {
  return {
    name: 'billing_events',
    description: 'Validated billing events with provenance (source_key, source_line); rejected rows kept aside',
    deps: ['billing_files'],
    partitioning: 'daily',
    group: 'ingest',
    async materialize(ctx) {
      const pending = await ctx.warehouse.all<PendingFile>(files.FILES_TO_LOAD);
      if (pending.length === 0) return { changed: false, partitions: [], metadata: { files: 0 } };
      const totalBytes = pending.reduce((n, f) => n + Number(f.size), 0);
      let doneBytes = 0;
      const outcomes: FileOutcome[] = [];
      const timings = { parseMs: 0, insertMs: 0 };

      await withTempDir(options.home, async (dir) => {
        let next = 0;
        const worker = async () => {
          while (next < pending.length && !ctx.signal.aborted) {
            const index = next++;
            const file = pending[index] as PendingFile;
            let last = 0;
            outcomes.push(
              await loadFile(ctx, options.source, file, join(dir, String(index)), timings, (bytes) => {
                doneBytes += bytes - last;
                last = bytes;
                ctx.progress({ done: doneBytes, total: totalBytes, unit: 'bytes' });
              }),
            );
          }
        };
        await Promise.all(Array.from({ length: Math.min(options.concurrency ?? 2, pending.length) }, worker));
      });

      const byPartition = new Map<string, PartitionMaterialization>();
      for (const o of outcomes.filter((x) => x.kind === 'loaded')) {
        const p = byPartition.get(o.file.partition) ?? { partition: o.file.partition, rowCount: 0, inputs: [], metadata: { rejectedRows: 0 } };
        p.rowCount += o.rows;
        p.inputs?.push(`${o.file.source_key}@${o.file.version}`);
        if (p.metadata) p.metadata.rejectedRows = Number(p.metadata.rejectedRows) + o.rejectedRows;
        byPartition.set(o.file.partition, p);
      }
      const count = (kind: FileOutcome['kind']) => outcomes.filter((o) => o.kind === kind).length;
      const failed = outcomes.filter((o) => o.kind === 'failed');
      const metadata = {
        files: outcomes.length,
        loadedFiles: count('loaded'),
        rejectedFiles: count('rejected'),
        failedFiles: failed.length,
        rows: outcomes.reduce((n, o) => n + o.rows, 0),
        rejectedRows: outcomes.reduce((n, o) => n + o.rejectedRows, 0),
        bytes: totalBytes,
        ...timings,
      };
      const unfinished = pending.length - outcomes.length;
      const failure =
        failed.length > 0
          ? `${failed.length} file(s) could not be read and will be retried on the next run: ${failed
              .slice(0, 3)
              .map((o) => `${o.file.source_key}: ${o.message}`)
              .join('; ')}`
          : unfinished > 0
            ? `canceled with ${unfinished} file(s) not loaded`
            : undefined;
      return {
        changed: count('loaded') > 0,
        partitions: [...byPartition.values()].sort((a, b) => String(a.partition).localeCompare(String(b.partition))),
        metadata,
        failure,
      };
    },
  };
}

async function loadFile(
  ctx: AssetContext,
  source: Source,
  file: PendingFile,
  prefix: string,
  timings: { parseMs: number; insertMs: number },
  onProgress: (bytes: number) => void,
): Promise<FileOutcome> {
  const eventsPath = `${prefix}-events.csv`;
  const rejectsPath = `${prefix}-rejects.csv`;
  const parseStarted = Date.now();
  let parsed: Awaited<ReturnType<typeof parseFile>>;
  try {
    const input = await source.open(file.source_key, { signal: ctx.signal });
    parsed = await parseFile({ input, gzip: file.source_key.toLowerCase().endsWith('.gz'), eventsPath, rejectsPath, onProgress });
  } catch (error) {
    const message = error instanceof SourceError || error instanceof Error ? error.message : String(error);
    await ctx.warehouse.exec(files.MARK_FILE_FAILED, [file.source_key, message]);
    ctx.log(`could not read ${file.source_key}: ${message}`);
    return { file, kind: 'failed', rows: 0, rejectedRows: 0, message };
  }
  timings.parseMs += Date.now() - parseStarted;

  if (parsed.kind === 'rejected') {
    const reason = parsed.reason;
    await ctx.warehouse.transaction(async (tx) => {
      await tx.exec(files.INSERT_REJECTED_FILE, [file.source_key, file.version, reason, ctx.runId]);
      await tx.exec(files.MARK_FILE_REJECTED, [file.source_key, file.version, reason]);
    });
    ctx.log(`rejected file ${file.source_key}: ${reason}`);
    return { file, kind: 'rejected', rows: 0, rejectedRows: 0, message: reason };
  }

  const insertStarted = Date.now();
  const [year, month, day] = file.partition.split('-').map(Number);
  await ctx.warehouse.transaction(async (tx: SqlSession) => {
    const [change] = await tx.all<{ id: number }>(eventsSql.NEXT_CHANGE_ID);
    const changeId = change?.id ?? 0;
    await tx.exec(eventsSql.RECORD_CHANGED_KEYS, [file.source_key, changeId]);
    await tx.exec(eventsSql.DELETE_FILE_EVENTS, [file.source_key]);
    await tx.exec(eventsSql.DELETE_FILE_REJECTED_ROWS, [file.source_key]);
    await tx.exec(eventsSql.DELETE_FILE_REJECTION, [file.source_key]);
    if (parsed.rows > 0) {
      await tx.insertCsv({
        table: 'billing_events',
        path: eventsPath,
        columns: NORMALIZED_EVENT_COLUMNS,
        constants: { year: year ?? 0, month: month ?? 0, day: day ?? 0, source_key: file.source_key },
      });
      await tx.exec(eventsSql.RECORD_CHANGED_KEYS, [file.source_key, changeId]);
    }
    if (parsed.rejected > 0) {
      await tx.insertCsv({
        table: 'rejected_rows',
        path: rejectsPath,
        columns: REJECTED_ROW_COLUMNS,
        constants: {
          source_key: file.source_key,
          source_version: file.version,
          run_id: ctx.runId,
          rejected_at: new Date().toISOString(),
        },
      });
    }
    await tx.exec(files.MARK_FILE_LOADED, [file.source_key, file.version, ctx.runId, parsed.rows, parsed.rejected]);
  });
  timings.insertMs += Date.now() - insertStarted;
  ctx.log(
    `${file.replaces ? 'replaced' : 'loaded'} ${file.source_key}: ${parsed.rows} row(s)` +
      (parsed.rejected > 0 ? `, ${parsed.rejected} rejected` : ''),
  );
  return { file, kind: 'loaded', rows: parsed.rows, rejectedRows: parsed.rejected };
}
