import type { Command } from 'commander';
import {
  INVOICE_FORMATS,
  type InvoiceFormat,
  invoiceCsv,
  invoiceTable,
} from '../../billing/invoice/invoice-format.js';
import { invoicePreview, parseInvoiceRequest } from '../../billing/invoice/invoice-preview.js';
import { type CommonOptions, commonOptions, UsageError, withRuntime } from '../context.js';
import { escapeControlChars, jsonText } from '../format.js';

function parseInvoiceFormat(value: string): InvoiceFormat {
  const format = INVOICE_FORMATS.find((f) => f === value);
  if (!format) throw new UsageError(`--format must be one of ${INVOICE_FORMATS.join(', ')}; got "${value}"`);
  return format;
}

export function registerInvoicePreview(program: Command): void {
  commonOptions(
    program
      .command('invoice-preview')
      .description(
        "A user's month to date by service tier, resource type and operation: exact amounts, events, forecast total and the FX rates used",
      )
      .option('--user <id>', 'the user id (user_id in the billing files)')
      .option('--month <YYYY-MM>', 'the calendar month (UTC)')
      .option('--format <format>', 'table | csv | json', 'table'),
  )
    .addHelpText(
      'after',
      `
Lines come from billing_events (the events of the user whose UTC day is in the month). Amounts are
exact decimals in the reporting currency; a line with an event that has no FX rate shows "unknown"
(empty in CSV, null in JSON), never a smaller sum, and so does the total. The forecast (whole-month
total with an 80 % band) is shown while the data has not reached the month's last day.

csv: a header, one row per line, then a total row; amount is labelled by the currency column and
original_<CUR> columns hold what was billed in each currency.

Examples:
  $ billing-pipeline invoice-preview --user 1042 --month 2026-11
  $ billing-pipeline invoice-preview --user 1042 --month 2026-11 --format csv > invoice.csv`,
    )
    .action(async (flags: CommonOptions & { user?: string; month?: string; format: string }) => {
      const format = parseInvoiceFormat(flags.format);
      const parsed = parseInvoiceRequest({ user: flags.user, month: flags.month });
      if (!parsed.ok) {
        throw new UsageError(parsed.errors.map((e) => `--${e.field}: ${e.message}`).join('\n'));
      }
      const preview = await withRuntime(flags, (runtime) =>
        invoicePreview(runtime.warehouse, parsed.request, {
          reportingCurrency: runtime.config.reportingCurrency,
        }),
      );
      switch (format) {
        case 'json':
          process.stdout.write(`${jsonText(preview)}\n`);
          break;
        case 'csv':
          // As `query` does: exact bytes into a pipe, control characters from the data made visible on a terminal.
          process.stdout.write(
            process.stdout.isTTY
              ? escapeControlChars(invoiceCsv(preview), { keepNewlines: true })
              : invoiceCsv(preview),
          );
          break;
        case 'table':
          process.stdout.write(invoiceTable(preview));
          break;
        default: {
          const unreachable: never = format;
          throw new Error(`unknown format ${String(unreachable)}`);
        }
      }
      // Warnings go to stderr too when the output is data for a program: a pipe must still see them.
      if (format !== 'table')
        for (const warning of preview.warnings) process.stderr.write(`warning: ${warning}\n`);
    });
}
