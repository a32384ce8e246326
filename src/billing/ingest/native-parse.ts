import { isAscii } from 'node:buffer';
import { once } from 'node:events';
import { createWriteStream } from 'node:fs';
import { rm } from 'node:fs/promises';
import type { Readable } from 'node:stream';
import { finished } from 'node:stream/promises';
import { TextDecoder } from 'node:util';
import type { Source } from '../../sources/source.js';
import { isNoSpaceError, NoSpaceError } from '../../warehouse/duckdb/duckdb-errors.js';
import { type CountedStatement, ownConnectionRunner } from '../../warehouse/duckdb/own-connection.js';
import type { Warehouse } from '../../warehouse/warehouse.js';
import { nativeParseCopy } from '../sql/native-ingest.js';
import { detectDelimiter } from './delimiter.js';
import type { ParsedFile, PendingFile } from './file-load.js';
import { measuredInput } from './measured-input.js';
import { type HeaderMap, mapHeader } from './row-normalizer.js';

/*
 * The fast path of a load into DuckDB (issue 12): the download is written to a local file with each
 * line prefixed by its physical line number, and DuckDB's read_csv parses and validates it in SQL
 * (sql/native-ingest.ts) straight into the normalized events file the JS path would have written.
 * Only files whose every line is one record the SQL rules can classify take it: no quote character
 * at all (so no field spans lines), no NUL, no CR but in CRLF, no byte order mark, lines under the
 * JS reader's record cap, a header the JS rules accept. Anything else, and any row the SQL does not
 * accept, sends the whole file to the JS path, which alone words rejections and their line numbers.
 */

/** The `ingest_parser` setting: `js` takes the JS parser everywhere (to compare, or to rule the fast path out). */
export type IngestParser = 'native' | 'js';

/** The DuckDB-native parse for this warehouse (embedded only), unless the JS parser is asked for. */
export function nativeParser(warehouse: Warehouse, parser: IngestParser): CountedStatement | null {
  if (parser === 'js') return null;
  return ownConnectionRunner(warehouse);
}

/** The fast path's outcome, or null when the file must take the JS path. */
export async function parseNatively(
  run: CountedStatement,
  source: Source,
  signal: AbortSignal,
  file: PendingFile,
  index: number,
  eventsPath: string,
  gzip: boolean,
  onProgress: (bytes: number) => void,
): Promise<Pick<ParsedFile, 'rows' | 'rejectedRows' | 'contentHash'> | null> {
  const path = `${eventsPath.slice(0, -'-events.parquet'.length)}-numbered.csv`;
  try {
    const input = await source.open(file.source_key, { signal });
    const staged = await stageSource({ input, gzip, path, onProgress });
    if (!staged.eligible) return null;
    let written: number;
    try {
      written = await run(
        nativeParseCopy({
          path,
          delimiter: staged.delimiter,
          fieldCount: staged.header.fieldCount,
          indexes: staged.header.indexes,
          fileIndex: index,
          eventsPath,
          verbatim: staged.verbatim,
        }),
      );
    } catch (error) {
      if (error instanceof NoSpaceError) throw error;
      // read_csv's own objections (a field count, bytes that are not UTF-8): the JS path words them.
      return null;
    }
    // A row the SQL did not accept: the JS path decides it, and gives its reason.
    if (written !== staged.dataLines) return null;
    return { rows: written, rejectedRows: 0, contentHash: staged.contentHash };
  } finally {
    await rm(path, { force: true });
  }
}

export type StagedSource =
  | {
      eligible: true;
      bytes: number;
      contentHash: string;
      delimiter: string;
      header: HeaderMap;
      /** Records after the header: each must come out of the SQL as a valid row. */
      dataLines: number;
      /**
       * Every field of every record is ASCII with no whitespace but inner spaces, so no value
       * needs trimming or a blank test (the SQL then skips them: a third of its cost).
       */
      verbatim: boolean;
    }
  | { eligible: false; why: string };

/** The JS reader's default record cap (csv-reader.ts), in bytes here: bytes ≥ UTF-16 units. */
const MAX_LINE_BYTES = 1 << 20;
const WRITE_CHUNK = 1 << 18;
const LF = 10;
const CR = 13;
const QUOTE = 34;

class Ineligible extends Error {}

/** Streams `input` to `path` as numbered lines; stops early (and says why) once the file cannot take the fast path. */
export async function stageSource(options: {
  input: Readable;
  gzip: boolean;
  path: string;
  onProgress?: (bytes: number) => void;
}): Promise<StagedSource> {
  const measured = measuredInput(options.input, options.gzip, options.onProgress);
  const stream = measured.stream;
  const out = createWriteStream(options.path, { highWaterMark: WRITE_CHUNK });
  let writeError: Error | null = null;
  out.on('error', (error) => {
    writeError ??= isNoSpaceError(error) ? new NoSpaceError(options.path, { cause: error }) : error;
    stream.destroy(writeError);
  });
  const state: State = {
    line: 1,
    header: null,
    delimiter: ',',
    dataLines: 0,
    pending: [],
    pendingBytes: 0,
    verbatim: true,
  };
  let first = true;
  const utf8 = new TextDecoder('utf-8', { fatal: true });
  let carry: Buffer | null = null;
  try {
    for await (const chunk of stream as AsyncIterable<Buffer>) {
      const buf: Buffer = carry ? Buffer.concat([carry, chunk]) : chunk;
      if (first && buf.length >= 3) {
        first = false;
        if (buf[0] === 0xef && buf[1] === 0xbb && buf[2] === 0xbf) throw new Ineligible('byte order mark');
      }
      if (buf.indexOf(QUOTE) !== -1) throw new Ineligible('quote characters');
      if (buf.indexOf(0) !== -1) throw new Ineligible('NUL bytes');
      const used = numberLines(buf, false, state, utf8);
      carry = used < buf.length ? buf.subarray(used) : null;
      if (carry && carry.length > MAX_LINE_BYTES) throw new Ineligible('a line longer than the record cap');
      if (state.pendingBytes >= WRITE_CHUNK) await write(out, state);
    }
    if (carry) numberLines(carry, true, state, utf8);
    await write(out, state);
  } catch (error) {
    if (writeError) throw writeError;
    if (error instanceof Ineligible) return { eligible: false, why: error.message };
    const code = (error as { code?: string }).code ?? '';
    // A corrupt .gz: the JS path words its rejection.
    if (code.startsWith('Z_')) return { eligible: false, why: 'gzip error' };
    throw error;
  } finally {
    stream.destroy();
    options.input.destroy();
    out.end();
    await finished(out).catch(() => {});
  }
  if (writeError) throw writeError;
  if (state.header === null) return { eligible: false, why: 'no header' };
  return {
    eligible: true,
    bytes: measured.bytes(),
    contentHash: measured.contentHash(),
    delimiter: state.delimiter,
    header: state.header,
    dataLines: state.dataLines,
    verbatim: state.verbatim,
  };
}

interface State {
  /** Physical line number (1-based) of the next line. */
  line: number;
  header: HeaderMap | null;
  delimiter: string;
  dataLines: number;
  /** Numbered lines waiting to be written. */
  pending: Buffer[];
  pendingBytes: number;
  verbatim: boolean;
}

const TAB = 9;
const VT = 11;
const FF = 12;
const SPACE = 32;

/**
 * Whether numbered lines (`<line><delimiter><fields>\n`) hold only ASCII fields with no whitespace
 * but inner spaces. Other control bytes are text to both paths (JS trims only whitespace). A line
 * starts with digits, so a field's start follows a delimiter and its end precedes one or LF.
 */
export function verbatimLines(lines: Buffer, delimiter: number): boolean {
  if (!isAscii(lines)) return false;
  for (const ws of [TAB, VT, FF]) if (ws !== delimiter && lines.indexOf(ws) !== -1) return false;
  for (let i = lines.indexOf(SPACE); i !== -1; i = lines.indexOf(SPACE, i + 1)) {
    const next = lines[i + 1];
    if (lines[i - 1] === delimiter || next === delimiter || next === LF) return false;
  }
  return true;
}

async function write(out: ReturnType<typeof createWriteStream>, state: State): Promise<void> {
  if (state.pending.length === 0) return;
  const data = Buffer.concat(state.pending);
  state.pending = [];
  state.pendingBytes = 0;
  if (!out.write(data)) {
    if (out.destroyed) throw out.errored ?? new Error(`${String(out.path)} was closed while writing`);
    await once(out, 'drain');
  }
}

/**
 * Moves the complete lines of `buf` (all of it when `final`) into `state.pending` as
 * `<line><delimiter><text>\n`, and returns how many bytes were used. The first non-empty line is the
 * header: it sets the delimiter and the column map, and is not written.
 */
function numberLines(buf: Buffer, final: boolean, state: State, utf8: TextDecoder): number {
  let pos = 0;
  const len = buf.length;
  let cr = buf.indexOf(CR);
  // Upper bound: every line gains at most 21 bytes (line number and delimiter).
  let lines = 1;
  for (let i = buf.indexOf(LF); i !== -1; i = buf.indexOf(LF, i + 1)) lines++;
  const target = Buffer.allocUnsafe(len + lines * 21);
  let o = 0;
  while (pos < len) {
    let nl = buf.indexOf(LF, pos);
    if (nl === -1) {
      if (!final) break;
      nl = len;
    }
    let end = nl;
    if (end > pos && buf[end - 1] === CR) end--;
    // A CR that does not end a line is data to the JS reader; read_csv might split on it.
    if (cr !== -1 && cr < end) throw new Ineligible('CR inside a line');
    if (cr !== -1 && cr < nl + 1) cr = buf.indexOf(CR, nl + 1);
    if (end - pos > MAX_LINE_BYTES) throw new Ineligible('a line longer than the record cap');
    if (end > pos) {
      if (state.header === null) {
        let text: string;
        try {
          text = utf8.decode(buf.subarray(pos, end));
        } catch {
          throw new Ineligible('header is not UTF-8');
        }
        state.delimiter = detectDelimiter(text);
        const mapped = mapHeader(text.split(state.delimiter));
        if (!mapped.ok) throw new Ineligible('header rejected');
        state.header = mapped.header;
      } else {
        o += target.write(String(state.line), o, 'latin1');
        target[o++] = state.delimiter.charCodeAt(0);
        o += buf.copy(target, o, pos, end);
        target[o++] = LF;
        state.dataLines++;
      }
    }
    state.line++;
    pos = nl + 1;
  }
  if (o > 0) {
    if (state.verbatim && !verbatimLines(target.subarray(0, o), state.delimiter.charCodeAt(0)))
      state.verbatim = false;
    state.pending.push(target.subarray(0, o));
    state.pendingBytes += o;
  }
  return Math.min(pos, len);
}
