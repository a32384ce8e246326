import { detectDelimiter } from './delimiter.js';
import { ESCAPED, ESCAPED_ALL, escapedByte, Utf8Decoder } from './utf8-decoder.js';

/**
 * One CSV record. `line` is the 1-based physical line it starts on, `raw` its original text without the
 * trailing line ending (embedded line breaks of quoted fields included). When `error` is set the record
 * could not be parsed and `fields` is empty; `raw` still holds the text so it can be stored as rejected.
 */
export interface CsvRecord {
  line: number;
  fields: string[];
  raw: string;
  error?: string;
}

export interface CsvReadOptions {
  /** Records per yielded batch (default 8192). */
  batchSize?: number;
  /**
   * Longest record kept in memory, in UTF-16 code units (default 1 MiB). Without a cap, a stray opening
   * quote or a file with no line breaks would make the reader buffer the rest of a multi-GB file.
   */
  maxRecordLength?: number;
  /**
   * Field separator (one character, default `,`), or `auto`: chosen from the first line (see
   * delimiter.ts), and told to `onDelimiter` before the first record.
   */
  delimiter?: string;
  onDelimiter?: (delimiter: string) => void;
}

const DEFAULT_BATCH_SIZE = 8192;
const DEFAULT_MAX_RECORD_LENGTH = 1 << 20;
// Very large input chunks are parsed in slices so one chunk never turns into millions of pending records.
const MAX_SLICE = 1 << 20;

const QUOTE = 34;
const LF = 10;
const CR = 13;

/** What the quote-aware slow path found at a record start; `null` from it means "need more input". */
interface SlowRecord {
  fields: string[];
  raw: string;
  error: string | undefined;
  /** Index just after the record's line ending. */
  next: number;
}

/**
 * Streams CSV records (RFC 4180) from a byte or string stream, in batches. The header is simply the
 * first record. Empty lines are skipped but counted. A record holding bytes that are not UTF-8 gets
 * `error` ("invalid UTF-8 at byte N of the line (0xFC)") and its raw text shows them as `\xFC`:
 * never a silent U+FFFD. Only LF and CRLF end lines; a lone CR is data.
 */
export async function* readCsvRecords(
  input: AsyncIterable<Buffer | string>,
  options?: CsvReadOptions,
): AsyncGenerator<CsvRecord[]> {
  const batchSize = options?.batchSize ?? DEFAULT_BATCH_SIZE;
  const maxRecordLength = options?.maxRecordLength ?? DEFAULT_MAX_RECORD_LENGTH;
  if (!Number.isInteger(batchSize) || batchSize < 1) throw new RangeError(`invalid batchSize ${batchSize}`);
  if (!Number.isInteger(maxRecordLength) || maxRecordLength < 1) {
    throw new RangeError(`invalid maxRecordLength ${maxRecordLength}`);
  }
  let parser: Parser | null = null;
  let invalidBytes = false;
  const decoder = new Utf8Decoder(() => {
    invalidBytes = true;
    if (parser) parser.invalidBytes = true;
  });
  // With `auto`, text is held back until the first line is complete, so the header decides the delimiter.
  let held = '';
  const start = (text: string): Parser => {
    let delimiter = options?.delimiter ?? ',';
    if (delimiter === 'auto') {
      const nl = text.indexOf('\n');
      delimiter = detectDelimiter(nl === -1 ? text : text.slice(0, nl));
      options?.onDelimiter?.(delimiter);
    }
    if (delimiter.length !== 1 || delimiter === '"' || delimiter === '\n' || delimiter === '\r') {
      throw new RangeError(`invalid delimiter ${JSON.stringify(delimiter)}`);
    }
    const started = new Parser(batchSize, maxRecordLength, delimiter);
    started.invalidBytes = invalidBytes;
    return started;
  };
  let atStart = true;
  for await (const chunk of input) {
    let text = typeof chunk === 'string' ? chunk : decoder.write(chunk);
    if (text.length === 0) continue;
    if (atStart) {
      atStart = false;
      if (text.charCodeAt(0) === 0xfeff) text = text.slice(1);
    }
    if (parser === null) {
      held += text;
      if (held.indexOf('\n') === -1 && held.length <= maxRecordLength) continue;
      text = held;
      held = '';
      parser = start(text);
    }
    for (let off = 0; off < text.length; off += MAX_SLICE) {
      parser.feed(off === 0 && text.length <= MAX_SLICE ? text : text.slice(off, off + MAX_SLICE));
      yield* parser.takeReady();
    }
  }
  let tail = decoder.end();
  if (atStart && tail.charCodeAt(0) === 0xfeff) tail = tail.slice(1);
  if (parser === null) {
    tail = held + tail;
    parser = start(tail);
  }
  parser.finish(tail);
  yield* parser.takeReady();
  const rest = parser.takeRest();
  if (rest.length > 0) yield rest;
}

/** Incremental parser state between chunks; records are collected into batches for the generator. */
class Parser {
  private readonly batchSize: number;
  private readonly maxRecordLength: number;
  private batch: CsvRecord[] = [];
  /** Set once the decoder met a byte that is not UTF-8: from then on records are checked for one. */
  invalidBytes = false;
  private ready: CsvRecord[][] = [];
  /** Unconsumed text: the start of a record whose end has not arrived yet. */
  private leftover = '';
  /** Physical line number at which `leftover` starts. */
  private line = 1;
  /** Discarding the rest of an over-long line up to its line break. */
  private skipping = false;

  private readonly delimiter: string;
  private readonly delimiterCode: number;

  constructor(batchSize: number, maxRecordLength: number, delimiter: string) {
    this.batchSize = batchSize;
    this.maxRecordLength = maxRecordLength;
    this.delimiter = delimiter;
    this.delimiterCode = delimiter.charCodeAt(0);
  }

  /** Full batches completed so far. */
  takeReady(): CsvRecord[][] {
    const ready = this.ready;
    if (ready.length > 0) this.ready = [];
    return ready;
  }

  /** The last, partial batch (after `finish`). */
  takeRest(): CsvRecord[] {
    const rest = this.batch;
    this.batch = [];
    return rest;
  }

  feed(text: string): void {
    if (this.skipping) {
      const nl = text.indexOf('\n');
      if (nl === -1) return;
      this.skipping = false;
      this.line++;
      text = text.slice(nl + 1);
    }
    const firstNl = text.indexOf('\n');
    if (firstNl === -1) {
      // No record can end before a line break arrives, so re-parsing the pending text would be wasted work
      // (and quadratic when a stream delivers tiny chunks).
      this.leftover += text;
    } else if (this.leftover.length === 0) {
      this.leftover = text.slice(this.parse(text, 0, false));
    } else {
      // Finish the pending record with the chunk's first line, then parse the chunk in place: concatenating
      // would copy every chunk once more. Only a record still open after that line (a quoted line break)
      // needs the concatenation.
      const head = this.leftover + text.slice(0, firstNl + 1);
      const used = this.parse(head, 0, false);
      if (used === head.length) {
        this.leftover = text.slice(this.parse(text, firstNl + 1, false));
      } else {
        const all = head.slice(used) + text.slice(firstNl + 1);
        this.leftover = all.slice(this.parse(all, 0, false));
      }
    }
    while (this.leftover.length > this.maxRecordLength) this.overflow();
  }

  finish(text: string): void {
    if (this.skipping) return;
    const all = this.leftover + text;
    this.leftover = '';
    this.parse(all, 0, true);
  }

  private push(record: CsvRecord): void {
    if (this.invalidBytes) markInvalidBytes(record);
    const batch = this.batch;
    batch.push(record);
    if (batch.length >= this.batchSize) {
      this.ready.push(batch);
      this.batch = [];
    }
  }

  /**
   * Emits every complete record of `text` from `start` (a record start) and returns the index of the first
   * unconsumed character.
   */
  private parse(text: string, start: number, final: boolean): number {
    const len = text.length;
    let pos = start;
    let line = this.line;
    // Next quote at or after `pos`; lines before it take the fast path.
    let quote = text.indexOf('"', start);
    while (pos < len) {
      let nl = text.indexOf('\n', pos);
      if (nl === -1) {
        if (!final) break;
        nl = len;
      }
      if (quote !== -1 && quote < nl) {
        const rec = parseQuotedRecord(text, pos, final, this.delimiterCode);
        if (rec === null) break;
        const record: CsvRecord = { line, fields: rec.fields, raw: rec.raw };
        if (rec.error !== undefined) record.error = rec.error;
        this.push(record);
        line += countLineFeeds(text, pos, rec.next);
        pos = rec.next;
        quote = pos < len ? text.indexOf('"', pos) : -1;
        continue;
      }
      let end = nl;
      if (end > pos && text.charCodeAt(end - 1) === CR) end--;
      if (end > pos) {
        const raw = text.slice(pos, end);
        this.push({ line, fields: raw.split(this.delimiter), raw });
      }
      line++;
      pos = nl + 1;
    }
    this.line = line;
    return Math.min(pos, len);
  }

  /**
   * The pending record outgrew `maxRecordLength`. If it spans lines, an opening quote was never closed:
   * reject its first physical line and resume on the next one, so one stray quote costs one line rather
   * than the rest of the file. Otherwise the line itself is too long: reject it and drop it up to its end.
   */
  private overflow(): void {
    const text = this.leftover;
    const nl = text.indexOf('\n');
    if (nl === -1) {
      this.push({
        line: this.line,
        fields: [],
        raw: text,
        error: `record longer than ${this.maxRecordLength} characters`,
      });
      this.leftover = '';
      this.skipping = true;
      return;
    }
    const end = nl > 0 && text.charCodeAt(nl - 1) === CR ? nl - 1 : nl;
    this.push({
      line: this.line,
      fields: [],
      raw: text.slice(0, end),
      error: `quoted field not closed within ${this.maxRecordLength} characters`,
    });
    this.line++;
    const rest = text.slice(nl + 1);
    this.leftover = rest.slice(this.parse(rest, 0, false));
  }
}

function countLineFeeds(text: string, from: number, to: number): number {
  let n = 0;
  for (let i = text.indexOf('\n', from); i !== -1 && i < to; i = text.indexOf('\n', i + 1)) n++;
  return n;
}

/** Text of a record ending at `end` (exclusive, at a LF or end of input), minus its line ending. */
function rawUntil(text: string, start: number, end: number): string {
  if (end === text.length && end > start && text.charCodeAt(end - 1) === LF) end--;
  return text.slice(start, end > start && text.charCodeAt(end - 1) === CR ? end - 1 : end);
}

function failed(text: string, start: number, end: number, next: number, error: string): SlowRecord {
  return { fields: [], raw: rawUntil(text, start, end), error, next };
}

/**
 * Full RFC 4180 state machine for a record that contains a quote somewhere. Returns null when the record
 * may continue beyond `text` and more input is expected (`final` false).
 */
function parseQuotedRecord(
  text: string,
  start: number,
  final: boolean,
  delimiter: number,
): SlowRecord | null {
  const len = text.length;
  const fields: string[] = [];
  let i = start;
  for (;;) {
    if (i < len && text.charCodeAt(i) === QUOTE) {
      let value = '';
      let segment = i + 1;
      let from = segment;
      for (;;) {
        const q = text.indexOf('"', from);
        if (q === -1) {
          if (!final) return null;
          return failed(text, start, len, len, 'unterminated quoted field');
        }
        // A quote as the last available character may be the first half of a doubled quote.
        if (q + 1 >= len && !final) return null;
        if (text.charCodeAt(q + 1) === QUOTE) {
          value += text.slice(segment, q + 1);
          from = q + 2;
          segment = from;
          continue;
        }
        value += text.slice(segment, q);
        i = q + 1;
        break;
      }
      fields.push(value);
      if (i >= len) {
        if (!final) return null;
        return { fields, raw: text.slice(start, len), error: undefined, next: len };
      }
      const c = text.charCodeAt(i);
      if (c === delimiter) {
        i++;
        continue;
      }
      if (c === LF) return { fields, raw: text.slice(start, i), error: undefined, next: i + 1 };
      if (c === CR) {
        if (i + 1 >= len) {
          if (!final) return null;
          return { fields, raw: text.slice(start, i), error: undefined, next: len };
        }
        if (text.charCodeAt(i + 1) === LF)
          return { fields, raw: text.slice(start, i), error: undefined, next: i + 2 };
      }
      // The record is broken: it ends with its physical line, whatever quotes follow on it.
      const nl = text.indexOf('\n', i);
      if (nl === -1) {
        if (!final) return null;
        return failed(text, start, len, len, 'unexpected character after closing quote');
      }
      return failed(text, start, nl, nl + 1, 'unexpected character after closing quote');
    }
    // Unquoted field: runs to the next delimiter or line break; quotes inside it are literal.
    let nl = text.indexOf('\n', i);
    const comma = text.indexOf(String.fromCharCode(delimiter), i);
    if (comma !== -1 && (nl === -1 || comma < nl)) {
      fields.push(text.slice(i, comma));
      i = comma + 1;
      continue;
    }
    if (nl === -1) {
      if (!final) return null;
      nl = len;
    }
    const end = nl > i && text.charCodeAt(nl - 1) === CR ? nl - 1 : nl;
    fields.push(text.slice(i, end));
    return { fields, raw: text.slice(start, end), error: undefined, next: nl + 1 };
  }
}

/** Names the first byte that is not UTF-8 (see utf8-decoder.ts) and shows every one as `\xFC` in raw. */
function markInvalidBytes(record: CsvRecord): void {
  const at = record.raw.search(ESCAPED);
  if (at === -1) return;
  const byte = Buffer.byteLength(record.raw.slice(0, at), 'utf8') + 1;
  const value = escapedByte(record.raw.charAt(at));
  record.raw = record.raw.replace(ESCAPED_ALL, (c) => `\\x${escapedByte(c)}`);
  if (record.error === undefined) {
    record.error = `invalid UTF-8 at byte ${byte} of the line (0x${value}): the file must be UTF-8`;
    record.fields = [];
  }
}
