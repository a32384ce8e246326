import { existsSync } from 'node:fs';
import { join } from 'node:path';
import type { Command } from 'commander';
import { type Config, loadConfig } from '../../config.js';
import { WarehouseBusyError } from '../../warehouse/duckdb/duckdb-errors.js';
import { DuckDBWarehouse } from '../../warehouse/duckdb/duckdb-warehouse.js';
import type { QueryResult, Row } from '../../warehouse/warehouse.js';
import { type CommonOptions, commonOptions, daemonFor, UsageError, withRuntime } from '../context.js';
import { formatResult, OUTPUT_FORMATS, type OutputFormat } from '../format.js';

export function parseFormat(value: string): OutputFormat {
  const format = OUTPUT_FORMATS.find((f) => f === value);
  if (!format) throw new UsageError(`--format must be one of ${OUTPUT_FORMATS.join(', ')}; got "${value}"`);
  return format;
}

export function registerQuery(program: Command): void {
  commonOptions(
    program
      .command('query')
      .description('Run SQL against the warehouse')
      .argument('<sql>', 'the SQL to run')
      .option('--format <format>', 'json | csv | table', 'table'),
  )
    .addHelpText(
      'after',
      `
Output: json is an array of row objects; DECIMAL values are exact decimal strings, TIMESTAMP is
ISO-8601 UTC, DATE is YYYY-MM-DD, integers are numbers.

csv is RFC 4180: a header line, then one line per row; a field holding a comma, a quote or a line
break is quoted, with quotes doubled; NULL is an empty field. It is data for programs, so values are
written exactly as stored: text starting with = + - @ is NOT neutralised for spreadsheets (the web
UI's CSV downloads are). Only when stdout is a terminal are control characters (ESC, BEL, CR, ...)
shown as visible escapes such as \x1b; redirect to a file or a pipe for the exact bytes.

table shows control characters in values as visible escapes (\x1b, \r, \t, \u202e), so data
cannot move the cursor, recolour or retitle your terminal. json escapes them as JSON does (\u001b).
table shows NULL as —, and "(no rows)" under the header of an empty result.

The DuckDB file is opened read-only (so query works on a read-only mount and beside other
readers); only SQL that writes reopens it read-write.

Examples:
  $ billing-pipeline query "SELECT * FROM daily_aggregates ORDER BY day" --format json
  $ billing-pipeline query "SELECT source_key, line_number, reason FROM rejected_rows" --format csv`,
    )
    .action(async (sql: string, flags: CommonOptions & { format: string }) => {
      const format = parseFormat(flags.format);
      const output = { terminal: process.stdout.isTTY === true };
      const daemon = await daemonFor(flags);
      if (daemon) {
        // The daemon owns the warehouse: its SQL endpoint is read-only and returns 10,000 rows at most.
        const result = await daemon.sql(sql, { limit: 10_000 });
        process.stdout.write(
          `${formatResult({ columns: result.columns, rows: result.rows as Row[] }, format, output)}\n`,
        );
        if (format === 'table' && result.rows.length === 0) process.stdout.write('(no rows)\n');
        if (result.truncated)
          process.stderr.write(
            "note: only the first 10,000 rows are shown (the daemon's limit); add LIMIT/OFFSET\n",
          );
        return;
      }
      const config = loadConfig(process.env, flags);
      const result =
        (await queryReadOnly(config, sql)) ??
        (await withRuntime(flags, (runtime) => runtime.warehouse.query(sql)));
      process.stdout.write(`${formatResult(result, format, output)}\n`);
      // A table of headers alone reads like a misprint; JSON ([]) and CSV (the header) say it already.
      if (format === 'table' && result.rows.length === 0) process.stdout.write('(no rows)\n');
    });
}

/** DuckDB's refusal of a write on a file opened read-only: nothing was changed. */
const NEEDS_WRITE = /read-only mode|read only mode/i;

/**
 * A query needs nothing written: it opens an existing DuckDB file read-only (no table setup, no
 * orphaned-run bookkeeping), so it works on a read-only mount and next to other readers. Null
 * when that does not apply (PostgreSQL, no file yet), when a writer holds the file (the usual
 * open then waits for it or routes to the daemon that appears) or when the SQL writes (DuckDB
 * refused it before changing anything, and the usual read-write open runs it).
 */
async function queryReadOnly(config: Config, sql: string): Promise<QueryResult | null> {
  if (config.databaseUrl || !existsSync(config.warehousePath)) return null;
  let warehouse: DuckDBWarehouse;
  try {
    warehouse = await DuckDBWarehouse.open({
      path: config.warehousePath,
      readOnly: true,
      memoryLimit: config.memoryLimit,
      threads: config.threads,
      tempDirectory: join(config.home, 'tmp', 'duckdb'),
    });
  } catch (error) {
    if (error instanceof WarehouseBusyError) return null;
    throw error;
  }
  try {
    return await warehouse.query(sql);
  } catch (error) {
    if (error instanceof Error && NEEDS_WRITE.test(error.message)) return null;
    throw error;
  } finally {
    await warehouse.close();
  }
}
