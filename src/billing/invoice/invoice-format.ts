import { escapeControlChars } from '../../cli/format.js';
import { csvCell } from '../../server/sql-csv.js';
import { fromMicros, toMicros } from '../budgets/decimal.js';
import type { InvoiceLine, InvoicePreview } from './invoice-preview.js';

/** How a preview is written out: the CLI's `--format` and the API's `format`. */
export type InvoiceFormat = 'table' | 'csv' | 'json';
export const INVOICE_FORMATS: readonly InvoiceFormat[] = ['table', 'csv', 'json'];

/** Every original currency of the preview, sorted: the CSV's `original_<CUR>` columns. */
function originalCurrencies(preview: InvoicePreview): string[] {
  return [...new Set(preview.lines.flatMap((l) => l.original.map((o) => o.currency)))].sort();
}

/** Per original currency, the exact sum over the lines (each currency on its own, never converted). */
export function originalTotals(lines: readonly InvoiceLine[]): Map<string, string> {
  const micros = new Map<string, bigint>();
  for (const line of lines)
    for (const o of line.original)
      micros.set(o.currency, (micros.get(o.currency) ?? 0n) + toMicros(o.amount));
  return new Map([...micros].map(([currency, m]) => [currency, fromMicros(m)]));
}

/**
 * A header, one row per line, then a `total` row. Amounts are the exact decimals, labelled by the
 * `currency` column (the reporting currency) and by the `original_<CUR>` column names; an unknown
 * amount is an empty cell, never 0. Cells from the data are formula-safe (sql-csv.ts).
 */
export function invoiceCsv(preview: InvoicePreview): string {
  const currencies = originalCurrencies(preview);
  const header = [
    'row',
    'user',
    'month',
    'service_tier',
    'resource_type',
    'operation_type',
    'events',
    'amount',
    'currency',
    'unnormalized_events',
    ...currencies.map((c) => `original_${c}`),
  ];
  const row = (cells: readonly (string | number | null)[], numericFrom: number) =>
    cells.map((cell, i) => csvCell(cell, i >= numericFrom)).join(',');
  const lines = [header.map((h) => csvCell(h)).join(',')];
  for (const line of preview.lines) {
    const byCurrency = new Map(line.original.map((o) => [o.currency, o.amount]));
    lines.push(
      row(
        [
          'line',
          preview.user,
          preview.month,
          line.serviceTier,
          line.resourceType,
          line.operationType,
          line.events,
          line.amount,
          preview.currency,
          line.unnormalizedEvents,
          ...currencies.map((c) => byCurrency.get(c) ?? null),
        ],
        6,
      ),
    );
  }
  const totals = originalTotals(preview.lines);
  const events = preview.lines.reduce((n, l) => n + l.events, 0);
  lines.push(
    row(
      [
        'total',
        preview.user,
        preview.month,
        null,
        null,
        null,
        events,
        preview.total.amount,
        preview.currency,
        preview.total.unknownEvents,
        ...currencies.map((c) => totals.get(c) ?? null),
      ],
      6,
    ),
  );
  return `${lines.join('\n')}\n`;
}

const UNKNOWN = 'unknown';
const NONE = '—';

/** Groups of three digits in the whole part: "40120.500000" → "40,120.500000". */
export function groupedAmount(amount: string): string {
  const [whole = '', fraction] = amount.split('.');
  const sign = whole.startsWith('-') ? '-' : '';
  const digits = whole.replace('-', '').replace(/\B(?=(\d{3})+(?!\d))/g, ',');
  return `${sign}${digits}${fraction === undefined ? '' : `.${fraction}`}`;
}

const money = (amount: string | null, currency: string) =>
  amount === null ? UNKNOWN : `${groupedAmount(amount)} ${currency}`;

/** An aligned table of the lines, then the total, the forecast with its band, the rates and warnings. */
export function invoiceTable(preview: InvoicePreview): string {
  const c = preview.currency;
  const headers = [
    'service tier',
    'resource type',
    'operation',
    'events',
    `amount (${c})`,
    'no rate',
    'original amounts',
  ];
  const right = [false, false, false, true, true, true, false];
  const rows = preview.lines.map((l) => [
    l.serviceTier ?? NONE,
    l.resourceType ?? NONE,
    l.operationType ?? NONE,
    l.events.toLocaleString('en-US'),
    money(l.amount, c),
    l.unnormalizedEvents > 0 ? String(l.unnormalizedEvents) : '',
    l.original.map((o) => `${groupedAmount(o.amount)} ${o.currency}`).join(', '),
  ]);
  const safe = rows.map((r) => r.map((cell) => escapeControlChars(cell)));
  const widths = headers.map((h, i) => Math.max(h.length, ...safe.map((r) => (r[i] ?? '').length)));
  const pad = (cells: readonly string[]) =>
    cells
      .map((cell, i) => (right[i] ? cell.padStart(widths[i] ?? 0) : cell.padEnd(widths[i] ?? 0)))
      .join('  ')
      .trimEnd();
  const out = [
    `Invoice preview: user ${escapeControlChars(preview.user)}, ${preview.month}` +
      (preview.asOf ? ` (data to ${preview.asOf})` : ' (no data for this month yet)'),
    '',
    pad(headers),
    widths.map((w) => '-'.repeat(w)).join('  '),
    ...(safe.length > 0 ? safe.map(pad) : ['(no events in this month)']),
    '',
  ];
  const events = preview.lines.reduce((n, l) => n + l.events, 0);
  out.push(
    preview.total.complete
      ? `Total:    ${money(preview.total.amount, c)} (${events.toLocaleString('en-US')} events)`
      : `Total:    ${UNKNOWN} ${c} (${preview.total.unknownEvents.toLocaleString('en-US')} of ${events.toLocaleString('en-US')} events have no FX rate)`,
  );
  const originals = [...originalTotals(preview.lines)]
    .sort(([a], [b]) => a.localeCompare(b))
    .map(([cur, amount]) => `${groupedAmount(amount)} ${cur}`);
  if (originals.length > 0) out.push(`Billed:   ${originals.join(', ')}`);
  out.push(
    preview.forecast
      ? `Forecast: ${money(preview.forecast.total, c)} [${groupedAmount(preview.forecast.low)}–${groupedAmount(preview.forecast.high)} ${c}] for the whole month`
      : `Forecast: ${NONE} (${preview.asOf === null ? 'no data for the month yet' : 'the month is closed'})`,
  );
  out.push(
    preview.rates.length > 0
      ? `Rates:    ${preview.rates.map((r) => `1 ${r.currency} = ${r.rate} ${c} (rate of ${r.rateDate})`).join('; ')}`
      : `Rates:    ${NONE} (every amount is in ${c} or has no rate)`,
  );
  for (const warning of preview.warnings) out.push(`warning: ${escapeControlChars(warning)}`);
  return `${out.join('\n')}\n`;
}
