import { once } from 'node:events';
import { createWriteStream, type WriteStream } from 'node:fs';
import type { Readable } from 'node:stream';
import { finished } from 'node:stream/promises';
import { isNoSpaceError, NoSpaceError } from '../warehouse/duckdb/duckdb-errors.js';
import { csvText } from './csv-text.js';
import { type CsvRecord, readCsvRecords } from './ingest/csv-reader.js';
import { DELIMITERS, delimiterName } from './ingest/delimiter.js';
import { measuredInput } from './ingest/measured-input.js';
import { headerProblemReason, mapHeader, normalizeRecord } from './ingest/row-normalizer.js';

export type ParsedFile =
  /** `contentHash`: SHA-256 (hex) of the bytes as stored (compressed, for a .gz), to find copies. */
  | { kind: 'parsed'; rows: number; rejected: number; bytes: number; contentHash: string }
  | { kind: 'rejected'; reason: string };

export interface ParseFileOptions {
  input: Readable;
  /** Written as the first field of every output line, to tell files apart in a batch. */
  fileIndex: number;
  gzip: boolean;
  /** Normalized, valid rows (see NORMALIZED_EVENT_COLUMNS) go here. */
  eventsPath: string;
  /** Rejected rows (line, reason, raw) go here. */
  rejectsPath: string;
  onProgress?: (bytes: number) => void;
}

/**
 * Records per parsed batch. A batch stays alive until all of it is normalized, so big batches survive
 * young-generation collections and get copied; with 8192 records, garbage collection took more time
 * than parsing itself.
 */
const BATCH_RECORDS = 256;
/** Output is written in chunks of about this many characters: fewer write calls and drains. */
const WRITE_CHUNK = 1 << 18;

/**
 * Streams one source file through the strict row rules into two local CSV files the warehouse
 * bulk-loads: memory stays bounded by one batch, whatever the file's size.
 */
export async function parseFile(options: ParseFileOptions): Promise<ParsedFile> {
  const measured = measuredInput(options.input, options.gzip, options.onProgress);
  const stream = measured.stream;
  const events = createWriteStream(options.eventsPath, { highWaterMark: WRITE_CHUNK });
  const rejects = createWriteStream(options.rejectsPath, { highWaterMark: WRITE_CHUNK });
  // A failed write (a full disk) is emitted whenever it happens, often while nothing awaits the
  // stream: kept here, it fails this parse with the path named instead of crashing the process
  // with an unhandled 'error' event, and stops reading the input.
  let writeError: Error | null = null;
  const onWriteError = (path: string) => (error: Error) => {
    writeError ??= isNoSpaceError(error) ? new NoSpaceError(path, { cause: error }) : error;
    stream.destroy(writeError);
  };
  events.on('error', onWriteError(options.eventsPath));
  rejects.on('error', onWriteError(options.rejectsPath));
  let result: Awaited<ReturnType<typeof parseRecords>>;
  try {
    result = await parseRecords(stream, options.fileIndex, events, rejects);
  } catch (error) {
    if (writeError) throw writeError;
    const code = (error as { code?: string }).code ?? '';
    // zlib's codes: a corrupt .gz is the file's fault, so it is rejected rather than retried.
    if (code.startsWith('Z_'))
      return { kind: 'rejected', reason: `not a valid gzip file (${(error as Error).message})` };
    throw error;
  } finally {
    // An early return (rejected header) must not leave the download open.
    stream.destroy();
    options.input.destroy();
    events.end();
    rejects.end();
    // finished(), not once('close'): a stream destroyed by an error may have closed already.
    await Promise.all([finished(events).catch(() => {}), finished(rejects).catch(() => {})]);
  }
  // The last chunks are written by end(): a full disk may show only now.
  if (writeError) throw writeError;
  return result.kind === 'parsed'
    ? { ...result, bytes: measured.bytes(), contentHash: measured.contentHash() }
    : result;
}

async function parseRecords(
  stream: Readable,
  fileIndex: number,
  events: WriteStream,
  rejects: WriteStream,
): Promise<{ kind: 'parsed'; rows: number; rejected: number } | { kind: 'rejected'; reason: string }> {
  let header: ReturnType<typeof mapHeader> | null = null;
  let rows = 0;
  let rejected = 0;
  let good = '';
  let bad = '';
  let delimiter = ',';
  const reading = readCsvRecords(stream, {
    batchSize: BATCH_RECORDS,
    delimiter: 'auto',
    onDelimiter: (d) => {
      delimiter = d;
    },
  });
  for await (const batch of reading) {
    for (const record of batch) {
      if (header === null) {
        const unreadable = headerEncodingProblem(record);
        if (unreadable) return { kind: 'rejected', reason: unreadable };
        header = mapHeader(record.fields);
        if (!header.ok)
          return {
            kind: 'rejected',
            reason: withDelimiter(headerProblemReason(header.problem), record, delimiter),
          };
        continue;
      }
      if (!header.ok) break;
      const result = normalizeRecord(record, header.header);
      if (result.ok) {
        good += `${fileIndex},${record.line},${result.csv.slice(0, 10)},${result.csv}\n`;
        rows++;
      } else {
        bad += `${fileIndex},${record.line},${csvText(result.reason)},${csvText(record.raw)}\n`;
        rejected++;
      }
    }
    if (good.length >= WRITE_CHUNK) {
      const full = good;
      good = '';
      if (!events.write(full)) await drain(events);
    }
    if (bad.length >= WRITE_CHUNK) {
      const full = bad;
      bad = '';
      if (!rejects.write(full)) await drain(rejects);
    }
  }
  if (good) events.write(good);
  if (bad) rejects.write(bad);
  return { kind: 'parsed', rows, rejected };
}

/** Waits for room in the output; an output that failed (and so never drains) throws instead. */
async function drain(out: WriteStream): Promise<void> {
  if (out.destroyed) throw out.errored ?? new Error(`${String(out.path)} was closed while writing`);
  await once(out, 'drain');
}

/**
 * A header that shows the file is not UTF-8 text with line feeds. Caught here, the reason names the
 * real problem instead of "missing … currency" for a header the parser could not split.
 */
function headerEncodingProblem(record: CsvRecord): string | null {
  const raw = record.raw;
  if (raw.startsWith('\\xFF\\xFE') || raw.startsWith('\\xFE\\xFF')) {
    return `UTF-16 encoded file (byte order mark ${raw.slice(2, 4)} ${raw.slice(6, 8)}): export it as UTF-8`;
  }
  let nuls = 0;
  for (let i = 0; i < raw.length; i++) if (raw.charCodeAt(i) === 0) nuls++;
  // UTF-16 text in Latin script: every other byte of the header is NUL.
  if (raw.length >= 8 && nuls * 4 >= raw.length) {
    return 'UTF-16 encoded file (every other byte of the header is NUL): export it as UTF-8';
  }
  if (raw.includes('\r')) {
    return 'CR-only line endings (no line feed after the header): export the file with LF or CRLF line endings';
  }
  if (record.error !== undefined) return `header (line ${record.line}): ${record.error}`;
  return null;
}

/**
 * A header rejection names the delimiter it was split with when that may be the cause: a file read
 * with a delimiter other than the comma, or a one-field header holding another candidate.
 */
export function withDelimiter(reason: string, header: CsvRecord, delimiter: string): string {
  const others = DELIMITERS.filter((d) => d !== delimiter && header.raw.includes(d));
  if (delimiter === ',' && (header.fields.length > 1 || others.length === 0)) return reason;
  const seen = others.length > 0 ? `; it also contains ${others.map(delimiterName).join(', ')}` : '';
  return `${reason}; the header was split on ${delimiterName(delimiter)}${seen}`;
}
