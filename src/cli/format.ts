import type { Cell, QueryResult } from '../warehouse/warehouse.js';

export type OutputFormat = 'json' | 'csv' | 'table';
export const OUTPUT_FORMATS: readonly OutputFormat[] = ['json', 'csv', 'table'];

export interface FormatOptions {
  /**
   * The output goes to a terminal: CSV then shows control characters as visible escapes too, since
   * the terminal would act on them. Piped or redirected CSV keeps every value exact.
   */
  terminal?: boolean;
}

export function formatResult(result: QueryResult, format: OutputFormat, options: FormatOptions = {}): string {
  switch (format) {
    case 'json':
      return jsonText(result.rows);
    case 'csv': {
      const text = toCsv(result);
      return options.terminal ? escapeControlChars(text, { keepNewlines: true }) : text;
    }
    case 'table':
      return toTable(
        result.columns.map((c) => c.name),
        result.rows.map((r) => result.columns.map((c) => r[c.name] ?? null)),
      );
    default: {
      const unreachable: never = format;
      throw new Error(`unknown format ${String(unreachable)}`);
    }
  }
}

/*
 * Text from the data (a source file's key, a rejected line, a user id) reaches the terminal. An ESC
 * there starts an escape sequence (colours, cursor moves, window titles, OSC 52 clipboard writes),
 * BEL rings, CR overwrites what was printed, and bidirectional overrides reorder what is shown. So
 * C0 controls, DEL, C1 controls and the bidi overrides and isolates print as visible escapes:
 * `\x1b`, `\x07`, `\r`, `\u202e`. A backslash itself is left alone (this is for reading, not a
 * round trip: JSON and piped CSV keep values exact).
 */
// biome-ignore lint/suspicious/noControlCharactersInRegex: matching control characters is the point
const CONTROL_CHARS = /[\u0000-\u001f\u007f-\u009f\u061c\u200e\u200f\u202a-\u202e\u2066-\u2069]/g;
const CONTROL_CHARS_BUT_NEWLINE =
  // biome-ignore lint/suspicious/noControlCharactersInRegex: matching control characters is the point
  /[\u0000-\u0009\u000b-\u001f\u007f-\u009f\u061c\u200e\u200f\u202a-\u202e\u2066-\u2069]/g;
const NAMED_ESCAPES: Record<string, string> = { '\n': '\\n', '\r': '\\r', '\t': '\\t' };

function visibleEscape(char: string): string {
  const named = NAMED_ESCAPES[char];
  if (named) return named;
  const code = char.charCodeAt(0);
  return code <= 0xff
    ? `\\x${code.toString(16).padStart(2, '0')}`
    : `\\u${code.toString(16).padStart(4, '0')}`;
}

/** Text safe to print on a terminal; `keepNewlines` for multi-line output such as a report. */
export function escapeControlChars(text: string, options: { keepNewlines?: boolean } = {}): string {
  return text.replace(options.keepNewlines ? CONTROL_CHARS_BUT_NEWLINE : CONTROL_CHARS, visibleEscape);
}

/**
 * JSON.stringify escapes C0 controls but leaves DEL, C1 controls and bidi overrides raw; JSON can
 * spell those as `\u` escapes too, so the output is terminal-safe and still decodes to the same values.
 */
export function jsonText(value: unknown): string {
  return JSON.stringify(value, null, 2).replace(
    /[\u007f-\u009f\u061c\u200e\u200f\u202a-\u202e\u2066-\u2069]/g,
    (c) => `\\u${c.charCodeAt(0).toString(16).padStart(4, '0')}`,
  );
}

export function cellText(value: Cell | undefined): string {
  if (value === null || value === undefined) return '';
  if (typeof value === 'object') return JSON.stringify(value);
  return String(value);
}

function csvField(value: Cell): string {
  const text = cellText(value);
  return /[",\r\n]/.test(text) ? `"${text.replaceAll('"', '""')}"` : text;
}

function toCsv(result: QueryResult): string {
  const lines = [result.columns.map((c) => csvField(c.name)).join(',')];
  for (const row of result.rows)
    lines.push(result.columns.map((c) => csvField(row[c.name] ?? null)).join(','));
  return lines.join('\n');
}

/**
 * How every CLI table and summary line shows an absent value (SQL NULL, a run not finished yet, a
 * tick not taken): one mark, never the word NULL, and not an empty cell that reads as a misprint.
 */
export const ABSENT = '—';

/** A value for a line of text: `ABSENT` when there is none. */
export function shownText(value: Cell | undefined): string {
  return value === null || value === undefined || value === '' ? ABSENT : escapeControlChars(cellText(value));
}

/** A plain aligned text table; numbers right-aligned so amounts line up on the decimal point. */
export function toTable(
  headers: readonly string[],
  rows: readonly (readonly (Cell | undefined)[])[],
): string {
  const text = rows.map((r) =>
    r.map((v) => (v === null || v === undefined ? ABSENT : escapeControlChars(cellText(v)))),
  );
  const numeric = headers.map(
    (_, i) =>
      rows.length > 0 &&
      rows.every(
        (r) =>
          r[i] === null ||
          r[i] === undefined ||
          typeof r[i] === 'number' ||
          /^-?[\d,]+(\.\d+)?%?$/.test(String(r[i])),
      ),
  );
  const heads = headers.map((h) => escapeControlChars(h));
  const widths = heads.map((h, i) => Math.max(h.length, ...text.map((r) => (r[i] ?? '').length)));
  const pad = (s: string, i: number) => (numeric[i] ? s.padStart(widths[i] ?? 0) : s.padEnd(widths[i] ?? 0));
  const lines = [
    heads.map(pad).join('  '),
    widths.map((w) => '-'.repeat(w)).join('  '),
    ...text.map((r) => r.map(pad).join('  ')),
  ];
  return lines.map((l) => l.trimEnd()).join('\n');
}
