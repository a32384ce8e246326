import { join } from 'node:path';
import type { TaskContext } from '../../orchestrator/asset.js';
import type { Source } from '../../sources/source.js';
import { ensureDayPartitions } from '../../warehouse/day-partitions.js';
import { sqlDialect } from '../../warehouse/dialect.js';
import { NoSpaceError } from '../../warehouse/duckdb/duckdb-errors.js';
import type { CountedStatement } from '../../warehouse/duckdb/own-connection.js';
import { insertMany, type SqlSession } from '../../warehouse/warehouse.js';
import { parseFile } from '../parse-file.js';
import * as sql from '../sql/events.js';
import * as files from '../sql/files.js';
import { STAGED_CSV_EVENTS, stageNativeEvents } from '../sql/native-ingest.js';
import { NORMALIZED_EVENT_COLUMNS, REJECTED_ROW_COLUMNS } from '../sql/tables.js';
import { parseNatively } from './native-parse.js';

export { nativeParser } from './native-parse.js';

/*
 * Loading source files into billing_events: parse one file to normalized CSVs, then commit a batch
 * of parsed files in one transaction that replaces exactly their rows. The billing_events asset
 * drives it, in process (pipelined batches) or one file per task on a scale-out worker.
 */

export interface PendingFile {
  source_key: string;
  version: string;
  partition: string;
  size: number;
  replaces: boolean;
  /** Asked to be retracted (`billing-pipeline retract`): its events go, nothing is read. */
  retract?: boolean;
}

/** What to do with a file whose content equals a file already loaded (`checks.duplicate_file.on_duplicate`). */
export type DuplicatePolicy = 'reject' | 'load';

/** What became of one file: the unit of the asset's result, whether loaded in process or by a task. */
export interface FileOutcome {
  file: PendingFile;
  kind: 'loaded' | 'rejected' | 'failed' | 'duplicate' | 'retracted';
  rows: number;
  rejectedRows: number;
  reason?: string;
  /** SHA-256 of the file's bytes, when it was read whole. */
  contentHash?: string;
  /** The loaded file with the same content (kind `duplicate`, or `loaded` when duplicates load). */
  duplicateOf?: string;
  /** An earlier attempt (a retried task, another worker) had already loaded this version. */
  alreadyDone?: boolean;
}

/** A file after parsing, waiting for (or done with) its transaction. */
export interface ParsedFile extends FileOutcome {
  index: number;
  eventsPath: string;
  rejectsPath: string;
  /** `parquet` when DuckDB parsed the file (native-parse.ts); the JS path writes CSV. */
  eventsFormat?: 'csv' | 'parquet';
}

/** What a load needs of its caller: the run's asset context or a worker's task context. */
export type LoadContext = Pick<TaskContext, 'warehouse' | 'runId' | 'log' | 'signal'>;

export interface Timings {
  parseMs: number;
  insertMs: number;
  /** Files DuckDB parsed (the others took the JS parser): with the timings, where the time went. */
  nativeFiles?: number;
}

export interface FileState {
  needs_load: boolean;
  status: string;
  loaded_version: string | null;
  rejected_version: string | null;
  row_count: number | null;
  rejected_row_count: number | null;
  error: string | null;
  duplicate_of: string | null;
}

/** The outcome an earlier attempt recorded for this very version, or null when it still needs loading. */
export function priorOutcome(file: PendingFile, state: FileState | undefined): FileOutcome | null {
  if (!state || state.needs_load) return null;
  if (file.retract) {
    if (state.status !== 'retracted') return null;
    return { file, kind: 'retracted', rows: 0, rejectedRows: 0, alreadyDone: true };
  }
  if (state.rejected_version === file.version) {
    const kind = state.status === 'duplicate' ? 'duplicate' : 'rejected';
    const done: FileOutcome = {
      file,
      kind,
      rows: 0,
      rejectedRows: 0,
      reason: state.error ?? '',
      alreadyDone: true,
    };
    if (state.duplicate_of) done.duplicateOf = state.duplicate_of;
    return done;
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

/**
 * Parses one file into its normalized events and rejected rows. With `native` (an embedded
 * warehouse), DuckDB parses it (native-parse.ts); a file that path cannot vouch for is downloaded
 * again and parsed by the JS path, so its rejections and line numbers are exactly the JS ones.
 */
export async function parseOne(
  source: Source,
  signal: AbortSignal,
  file: PendingFile,
  index: number,
  dir: string,
  onBytes: (delta: number) => void,
  native: CountedStatement | null = null,
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
  if (file.retract) return { ...parsed, kind: 'retracted' };
  let last = 0;
  // Progress counts each byte once, though a fallback downloads the file again.
  const onProgress = (bytes: number) => {
    if (bytes <= last) return;
    onBytes(bytes - last);
    last = bytes;
  };
  const gzip = file.source_key.toLowerCase().endsWith('.gz');
  try {
    if (native !== null) {
      const fast = await parseNatively(
        native,
        source,
        signal,
        file,
        index,
        `${prefix}-events.parquet`,
        gzip,
        onProgress,
      );
      if (fast !== null) {
        return { ...parsed, ...fast, eventsPath: `${prefix}-events.parquet`, eventsFormat: 'parquet' };
      }
    }
    const input = await source.open(file.source_key, { signal });
    const result = await parseFile({
      input,
      fileIndex: index,
      gzip,
      eventsPath: parsed.eventsPath,
      rejectsPath: parsed.rejectsPath,
      onProgress,
    });
    if (result.kind === 'rejected') return { ...parsed, kind: 'rejected', reason: result.reason };
    return { ...parsed, rows: result.rows, rejectedRows: result.rejected, contentHash: result.contentHash };
  } catch (error) {
    // A full local disk is not the file's fault: it fails the run (naming the path), not the file.
    if (error instanceof NoSpaceError) throw error;
    return { ...parsed, kind: 'failed', reason: error instanceof Error ? error.message : String(error) };
  }
}

/**
 * Loads a batch of parsed files in one transaction. With `recheck` (a task, which may be a retry or
 * race another worker), each file's state is read again under its lock and a version already
 * loaded or rejected is left as it is: the outcome then is the one recorded.
 */
export async function commitBatch(
  ctx: LoadContext,
  batch: readonly ParsedFile[],
  reportingCurrency: string,
  options: { recheck?: boolean; duplicates?: DuplicatePolicy } = {},
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
    const todo = await findCopies(
      tx,
      batch.filter((p) => !prior.has(p.file.source_key)),
      options.duplicates ?? 'reject',
    );
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
          p.contentHash ?? null,
          p.duplicateOf ?? null,
        ];
      }),
    );
    for (const statement of dialect.refreshStatistics('ingest_batch')) await tx.exec(statement);
    const loaded = written.filter((p) => p.kind === 'loaded');
    const retracted = written.some((p) => p.kind === 'retracted');
    // Events and rejected rows exist only for files loaded before (loaded_version is set in the same
    // transaction): a batch of new files has nothing to replace, and the scans of all history are skipped.
    // Asked inside the transaction, as another run may have loaded one of them since they were listed.
    const [previous] = await tx.all<{ replaces: boolean | null; rejections: boolean }>(sql.BATCH_REPLACES);
    const replaces = previous?.replaces === true || retracted;
    if (replaces) {
      for (const statement of sql.COLLECT_OLD_KEYS) await tx.exec(statement);
      await tx.exec(sql.DELETE_BATCH_EVENTS);
      await tx.exec(sql.DELETE_BATCH_REJECTED_ROWS);
    }
    if (previous?.rejections === true) await tx.exec(sql.DELETE_BATCH_FILE_REJECTIONS);
    const withRows = loaded.filter((p) => p.rows > 0);
    const csv = withRows.filter((p) => p.eventsFormat !== 'parquet');
    const parquet = withRows.filter((p) => p.eventsFormat === 'parquet');
    if (withRows.length > 0) {
      if (csv.length > 0) {
        await tx.stageCsv({
          name: parquet.length > 0 ? STAGED_CSV_EVENTS : 'staged_events',
          paths: csv.map((p) => p.eventsPath),
          columns: NORMALIZED_EVENT_COLUMNS,
        });
      }
      if (parquet.length > 0) {
        await tx.exec(
          stageNativeEvents(
            parquet.map((p) => p.eventsPath),
            csv.length > 0,
          ),
        );
      }
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
    if (loaded.length > 0) await tx.exec(sql.MARK_BATCH_LOADED, [ctx.runId]);
    if (written.some((p) => p.kind === 'rejected' || p.kind === 'duplicate')) {
      await tx.exec(sql.RECORD_BATCH_REJECTIONS, [ctx.runId]);
      await tx.exec(sql.MARK_BATCH_REJECTED);
    }
    if (retracted) await tx.exec(sql.MARK_BATCH_RETRACTED, [ctx.runId]);
    // Last, and held until commit: see CHANGE_LOG_LOCK.
    await tx.lock(sql.CHANGE_LOG_LOCK, 'shared');
    const [change] = await tx.all<{ id: number }>(sql.NEXT_CHANGE_ID);
    const changeId = change?.id ?? 0;
    if (replaces) await tx.exec(sql.RECORD_OLD_KEYS, [changeId]);
    if (withRows.length > 0) await tx.exec(sql.RECORD_NEW_KEYS, [changeId]);
    // Only what this batch created: each drop is a statement.
    await tx.exec(sql.DROP_BATCH);
    if (replaces) await tx.exec(sql.DROP_OLD_KEYS);
    if (withRows.length > 0) await tx.exec(dialect.unstage('staged_events'));
    if (withRejects.length > 0) await tx.exec(dialect.unstage('staged_rejects'));
    if (parquet.length > 0 && csv.length > 0) await tx.exec(dialect.unstage(STAGED_CSV_EVENTS));
  });
  const outcomes = batch.map((p) => prior.get(p.file.source_key) ?? p);
  for (const p of outcomes) logOutcome(ctx, p);
  return outcomes;
}

/**
 * Marks the files of the batch whose content equals a file already loaded under another key, or an
 * earlier file of this batch (key order): the first loaded wins. With `reject` a copy is not loaded
 * (kind `duplicate`); with `load` it loads and remembers its original. Under the content locks, so
 * two workers loading copies at once cannot both count.
 */
async function findCopies(
  tx: SqlSession,
  files: ParsedFile[],
  policy: DuplicatePolicy,
): Promise<ParsedFile[]> {
  const candidates = files
    .filter((p) => p.kind === 'loaded' && p.contentHash && p.rows + p.rejectedRows > 0)
    .sort((a, b) => (a.file.source_key < b.file.source_key ? -1 : 1));
  if (candidates.length === 0) return files;
  for (const hash of [...new Set(candidates.map((p) => p.contentHash as string))].sort()) {
    await tx.lock(sql.contentLock(hash));
  }
  const probed = await tx.all<{ i: number; original: string | null }>(
    sql.loadedCopies(candidates.length),
    candidates.flatMap((p) => [p.file.source_key, p.contentHash as string, Number(p.file.size)]),
  );
  const loadedCopy = new Map(probed.map((r) => [Number(r.i), r.original]));
  const firstInBatch = new Map<string, string>();
  const copies = new Map<string, string>();
  for (const [i, p] of candidates.entries()) {
    const identity = `${p.contentHash}:${p.file.size}`;
    const original = loadedCopy.get(i) ?? firstInBatch.get(identity);
    if (original === undefined) firstInBatch.set(identity, p.file.source_key);
    else copies.set(p.file.source_key, original);
  }
  return files.map((p) => {
    const original = copies.get(p.file.source_key);
    if (original === undefined) return p;
    if (policy === 'load') return { ...p, duplicateOf: original };
    return {
      ...p,
      kind: 'duplicate',
      rows: 0,
      rejectedRows: 0,
      duplicateOf: original,
      reason: `same content as ${original} (${p.file.size} bytes, SHA-256 ${p.contentHash?.slice(0, 12)}…): not counted again; remove the copy, or set checks.duplicate_file.on_duplicate to load`,
    };
  });
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
    case 'duplicate':
      ctx.log(`${p.alreadyDone ? 'already skipped' : 'skipped'} duplicate ${p.file.source_key}: ${p.reason}`);
      break;
    case 'retracted':
      ctx.log(
        `${p.alreadyDone ? 'already retracted' : 'retracted'} ${p.file.source_key}: its events and rejected rows are removed`,
      );
      break;
    default: {
      const unreachable: never = p.kind;
      throw new Error(`unknown outcome ${String(unreachable)}`);
    }
  }
}
