import type { AssetContext } from '../../orchestrator/asset.js';
import type { Source } from '../../sources/source.js';
import {
  commitBatch,
  type DuplicatePolicy,
  type FileOutcome,
  type LoadContext,
  nativeParser,
  type ParsedFile,
  type PendingFile,
  parseOne,
  type Timings,
} from './file-load.js';
import type { IngestParser } from './native-parse.js';

/** What loading files takes: the billing_events options the load itself reads. */
export interface IngestOptions {
  source: Source;
  /** Files downloaded and parsed at once (default 2); warehouse writes stay one at a time. */
  concurrency?: number;
  /** What `normalized_credit_usage` is expressed in (default USD). */
  reportingCurrency?: string;
  /** A file with the content of one already loaded: not loaded (`reject`, the default) or loaded. */
  duplicates?: DuplicatePolicy;
  /** `native` (default): DuckDB parses the plain files it can vouch for; `js`: the JS parser for all. */
  parser?: IngestParser;
}

/** Files committed together: small files share one transaction, big ones go alone. */
const BATCH_MAX_FILES = 64;
const BATCH_MAX_ROWS = 2_000_000;
/**
 * While files are still being parsed, a DuckDB batch waits for this many parsed rows. DuckDB writes
 * a transaction's full row groups (122,880 rows) straight into the file; what is left over goes
 * into the WAL and is written again by the checkpoint. A day of four 75,000-row files committed as
 * they came spent 1.2 s in checkpoints (issue 12).
 */
const BATCH_MIN_ROWS = 250_000;

/**
 * Loads the pending files: parsers download and parse ahead of the warehouse, and whatever is parsed
 * when the writer is free commits as one batch (embedded mode, and a scale-out task of several files).
 */
export async function ingest(
  ctx: LoadContext & Pick<AssetContext, 'progress'>,
  options: IngestOptions,
  pending: readonly PendingFile[],
  dir: string,
  timings: Timings,
  onCommitted: (batch: FileOutcome[]) => void,
  /** A scale-out task (maybe a retry, or racing another worker): see commitBatch. */
  recheck = false,
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
  const native = nativeParser(ctx.warehouse, options.parser ?? 'native');
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
        native,
      );
      timings.parseMs += Date.now() - started;
      if (parsed.eventsFormat === 'parquet') timings.nativeFiles = (timings.nativeFiles ?? 0) + 1;
      ready.set(index, parsed);
      parsing--;
      wake?.();
    }
  };
  const parsers = Array.from(
    { length: Math.max(1, Math.min(options.concurrency ?? 2, pending.length)) },
    parser,
  );

  const minRows = ctx.warehouse.dialect === 'duckdb' ? BATCH_MIN_ROWS : 0;
  /** Whether the files parsed next in key order fill a batch (rows or files) before the rest are parsed. */
  const fullBatchReady = () => {
    let rows = 0;
    for (let i = nextToCommit; ready.has(i); i++) {
      rows += (ready.get(i) as ParsedFile).rows;
      if (rows >= minRows || i - nextToCommit + 1 >= BATCH_MAX_FILES) return true;
    }
    return false;
  };
  const writer = async () => {
    for (;;) {
      if (failure !== null) return;
      if (!ready.has(nextToCommit) || (parsing > 0 && !fullBatchReady())) {
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
        recheck,
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
