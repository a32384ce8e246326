/**
 * CSV for downloads (the SQL page's, built in the browser or by POST /api/sql/csv on the server), safe to open in a spreadsheet: a text cell that starts with
 * `=`, `+`, `-`, `@`, a tab or a carriage return would be read as a formula (and could run one),
 * so it gets a leading `'`, which spreadsheets show as text. Numbers stay as they are: JSON
 * numbers, and decimal strings (exact money) in numeric columns.
 */

export interface CsvColumn {
  name: string;
  /** The SQL type, e.g. DECIMAL(18,6): numeric types keep their decimal strings unprefixed. */
  type?: string;
}

const NUMERIC_TYPE = /INT|DECIMAL|DOUBLE|FLOAT|NUMERIC|REAL/i;
const NUMBER = /^[-+]?(\d+(\.\d*)?|\.\d+)([eE][-+]?\d+)?$/;
const FORMULA_START = /^[=+\-@\t\r]/;

export const isNumericType = (type: string | undefined): boolean => NUMERIC_TYPE.test(type ?? '');

/** One cell: formula-safe, then quoted when it holds a quote, comma or line break. */
export function csvCell(value: unknown, numeric = false): string {
  if (value === null || value === undefined) return '';
  if (typeof value === 'number' || typeof value === 'bigint') return String(value);
  if (typeof value === 'boolean') return String(value);
  let text = typeof value === 'object' ? JSON.stringify(value) : String(value);
  if (FORMULA_START.test(text) && !(numeric && NUMBER.test(text))) text = `'${text}`;
  return /[",\n\r]/.test(text) ? `"${text.replaceAll('"', '""')}"` : text;
}

/** One row's line (without its newline). */
export function csvLine(columns: readonly CsvColumn[], row: Record<string, unknown>): string {
  return columns.map((c) => csvCell(row[c.name], isNumericType(c.type))).join(',');
}

/** A header line and one line per row, each ending in a newline. */
export function toCsv(columns: readonly CsvColumn[], rows: readonly Record<string, unknown>[]): string {
  const lines = [columns.map((c) => csvCell(c.name)).join(',')];
  for (const row of rows) {
    lines.push(csvLine(columns, row));
  }
  return `${lines.join('\n')}\n`;
}
