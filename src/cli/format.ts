import type { Cell, QueryResult } from '../warehouse/warehouse.js';

export type OutputFormat = 'json' | 'csv' | 'table';
export const OUTPUT_FORMATS: readonly OutputFormat[] = ['json', 'csv', 'table'];

export function formatResult(result: QueryResult, format: OutputFormat): string {
  switch (format) {
    case 'json':
      return JSON.stringify(result.rows, null, 2);
    case 'csv':
      return toCsv(result);
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

/** A plain aligned text table; numbers right-aligned so amounts line up on the decimal point. */
export function toTable(headers: readonly string[], rows: readonly (readonly Cell[])[]): string {
  const text = rows.map((r) => r.map((v) => (v === null ? 'NULL' : cellText(v))));
  const numeric = headers.map(
    (_, i) =>
      rows.length > 0 &&
      rows.every(
        (r) => r[i] === null || typeof r[i] === 'number' || /^-?[\d,]+(\.\d+)?%?$/.test(String(r[i])),
      ),
  );
  const widths = headers.map((h, i) => Math.max(h.length, ...text.map((r) => (r[i] ?? '').length)));
  const pad = (s: string, i: number) => (numeric[i] ? s.padStart(widths[i] ?? 0) : s.padEnd(widths[i] ?? 0));
  const lines = [
    headers.map(pad).join('  '),
    widths.map((w) => '-'.repeat(w)).join('  '),
    ...text.map((r) => r.map(pad).join('  ')),
  ];
  return lines.map((l) => l.trimEnd()).join('\n');
}
