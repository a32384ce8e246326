import { createWriteStream } from 'node:fs';
import { mkdir, mkdtemp, open, rm } from 'node:fs/promises';
import { join } from 'node:path';
import { pipeline } from 'node:stream/promises';
import { createGzip } from 'node:zlib';
import { dayString, parseDayRange } from './days.js';
import { buildPopulation, userCountFor } from './distributions.js';
import { mixSeed, Rng } from './random.js';
import { CHUNK_BYTES, FileRows, type FileSpec, HEADER, RowText } from './rows.js';
import { ChunkWriter } from './writer.js';

export interface GenerateOptions {
  /** First day, YYYY-MM-DD (inclusive). */
  from: string;
  /** Last day, YYYY-MM-DD (inclusive). */
  to: string;
  rowsPerDay: number;
  seed: number;
  /** 0..1 share of malformed rows, default 0. */
  dirtyRate?: number;
  /** Write `.csv.gz`. */
  gzip?: boolean;
  /** Default 1; a day's rows are split across this many files. */
  filesPerDay?: number;
  /** Where files are written before being handed over. */
  tmpDir: string;
}

export interface GeneratedFile {
  key: string;
  /** Data rows, header excluded, dirty rows included. */
  rows: number;
  dirtyRows: number;
  /** Size of the file as written (the compressed size for gzip). */
  bytes: number;
}

export interface GenerateResult {
  files: GeneratedFile[];
  rows: number;
  dirtyRows: number;
}

/** One output file, fully determined before any row is generated. */
export interface FilePlan extends FileSpec {
  key: string;
  part: number;
}

export const MAX_FILES_PER_DAY = 1000;
/** Level 1 is the fastest; this CSV still shrinks about 4x (levels 2-3 buy little for much more CPU). */
const GZIP_LEVEL = 1;

function checkOptions(o: GenerateOptions): void {
  if (!Number.isSafeInteger(o.rowsPerDay) || o.rowsPerDay < 0) {
    throw new Error(`rowsPerDay must be a non-negative integer, got ${o.rowsPerDay}`);
  }
  if (!Number.isSafeInteger(o.seed)) throw new Error(`seed must be an integer, got ${o.seed}`);
  const rate = o.dirtyRate ?? 0;
  if (!(rate >= 0 && rate <= 1)) throw new Error(`dirtyRate must be between 0 and 1, got ${o.dirtyRate}`);
  const files = o.filesPerDay ?? 1;
  if (!Number.isSafeInteger(files) || files < 1 || files > MAX_FILES_PER_DAY) {
    throw new Error(`filesPerDay must be an integer from 1 to ${MAX_FILES_PER_DAY}, got ${o.filesPerDay}`);
  }
  if (typeof o.tmpDir !== 'string' || o.tmpDir === '') throw new Error('tmpDir must be a directory path');
}

/** `year=YYYY/month=MM/day=DD/billing-YYYY-MM-DD-part-000.csv[.gz]` */
export function fileKey(day: string, part: number, gzip: boolean): string {
  const [y, m, d] = day.split('-');
  const name = `billing-${day}-part-${String(part).padStart(3, '0')}.csv${gzip ? '.gz' : ''}`;
  return `year=${y}/month=${m}/day=${d}/${name}`;
}

/**
 * Every file the options produce, in key order; throws (with a message fit for a CLI) on bad options.
 * Each file has its own seed from (seed, day, part), so any file can be regenerated on its own.
 */
export function planFiles(options: GenerateOptions): FilePlan[] {
  checkOptions(options);
  const range = parseDayRange(options.from, options.to);
  const filesPerDay = options.filesPerDay ?? 1;
  const rate = options.dirtyRate ?? 0;
  const base = Math.floor(options.rowsPerDay / filesPerDay);
  const extra = options.rowsPerDay % filesPerDay;
  const plans: FilePlan[] = [];
  for (let d = range.from; d <= range.to; d++) {
    const day = dayString(d);
    for (let part = 0; part < filesPerDay; part++) {
      const rows = base + (part < extra ? 1 : 0);
      plans.push({
        key: fileKey(day, part, options.gzip === true),
        day,
        dayNumber: d,
        part,
        rows,
        // Rounded per file so the realised share is exact instead of a binomial draw.
        dirtyRows: Math.round(rows * rate),
        seed: mixSeed(options.seed, d, part),
      });
    }
  }
  return plans;
}

/** Where a file's bytes go; `write` resolves once the chunk's memory may be reused. */
interface ChunkSink {
  write(chunk: Buffer): Promise<void>;
  /** Finishes the file and returns its size on disk. */
  close(): Promise<number>;
  /** Releases the file after a failure. */
  abort(): Promise<void>;
}

async function plainSink(path: string): Promise<ChunkSink> {
  const file = await open(path, 'w');
  let bytes = 0;
  return {
    async write(chunk) {
      for (let done = 0; done < chunk.length; ) {
        done += (await file.write(chunk, done, chunk.length - done)).bytesWritten;
      }
      bytes += chunk.length;
    },
    async close() {
      await file.close();
      return bytes;
    },
    abort: () => file.close(),
  };
}

function gzipSink(path: string): ChunkSink {
  const gzip = createGzip({ level: GZIP_LEVEL });
  const out = createWriteStream(path);
  const finished = pipeline(gzip, out);
  // Observed now so a disk error is not reported as unhandled before close() awaits it.
  finished.catch(() => {});
  return {
    // The callback fires once zlib has consumed the chunk, and Transform withholds it while the
    // compressed side is backed up, so this is also the backpressure.
    write: (chunk) => new Promise((resolve, reject) => gzip.write(chunk, (e) => (e ? reject(e) : resolve()))),
    async close() {
      gzip.end();
      await finished;
      return out.bytesWritten;
    },
    async abort() {
      gzip.destroy();
      await finished.catch(() => {});
    },
  };
}

/**
 * Writes one file. Chunks alternate between two buffers: while one is written (or compressed on
 * libuv's thread pool) the next is generated, so disk and zlib time overlap with generation.
 */
async function writeLocalFile(
  path: string,
  plan: FilePlan,
  text: RowText,
  gzip: boolean,
): Promise<GeneratedFile> {
  const sink = gzip ? gzipSink(path) : await plainSink(path);
  const rows = new FileRows(plan, text);
  const out = new ChunkWriter(CHUNK_BYTES);
  let inFlight: Promise<void> | undefined;
  try {
    out.text(HEADER);
    do {
      rows.fill(out);
      if (out.full || rows.done) {
        const chunk = out.take();
        // take() switched to the buffer of the previous chunk: its write must be over before reuse.
        if (inFlight !== undefined) await inFlight;
        inFlight = sink.write(chunk);
      }
    } while (!rows.done);
    await inFlight;
    inFlight = undefined;
    const bytes = await sink.close();
    return { key: plan.key, rows: rows.stats.rows, dirtyRows: rows.stats.dirtyRows, bytes };
  } catch (error) {
    await inFlight?.catch(() => {});
    await sink.abort();
    throw error;
  }
}

/**
 * Generates reproducible sample billing files: the same options give byte-identical files.
 * `write` is called once per finished file (e.g. uploads to S3 or copies to a folder); the temp file is
 * deleted once it resolves. One `write` may run while the next file is being generated, but calls never
 * overlap each other and come in key order, as do `onFile` calls (each after its file's `write`).
 */
export async function generate(
  options: GenerateOptions,
  write: (key: string, localPath: string) => Promise<void>,
  onFile?: (f: GeneratedFile) => void,
): Promise<GenerateResult> {
  const plans = planFiles(options);
  const gzip = options.gzip === true;
  const pop = buildPopulation(userCountFor(options.rowsPerDay), new Rng(mixSeed(options.seed, 0x9e9)));
  const text = new RowText(pop);
  const result: GenerateResult = { files: [], rows: 0, dirtyRows: 0 };

  await mkdir(options.tmpDir, { recursive: true });
  // A private folder so concurrent runs sharing tmpDir cannot overwrite each other's files.
  const dir = await mkdtemp(join(options.tmpDir, 'billing-generate-'));
  let pending: Promise<void> | undefined;
  try {
    for (const plan of plans) {
      const localPath = join(dir, plan.key.slice(plan.key.lastIndexOf('/') + 1));
      const file = await writeLocalFile(localPath, plan, text, gzip);
      if (pending !== undefined) await pending;
      pending = handOver(file, localPath, write, result, onFile);
      // Observed here so a failure surfaces at the next await instead of as an unhandled rejection.
      pending.catch(() => {});
    }
    if (pending !== undefined) await pending;
  } finally {
    if (pending !== undefined) await pending.catch(() => {});
    await rm(dir, { recursive: true, force: true });
  }
  return result;
}

async function handOver(
  file: GeneratedFile,
  localPath: string,
  write: (key: string, localPath: string) => Promise<void>,
  result: GenerateResult,
  onFile: ((f: GeneratedFile) => void) | undefined,
): Promise<void> {
  await write(file.key, localPath);
  await rm(localPath, { force: true });
  result.files.push(file);
  result.rows += file.rows;
  result.dirtyRows += file.dirtyRows;
  onFile?.(file);
}
