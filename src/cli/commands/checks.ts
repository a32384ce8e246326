import type { Command } from 'commander';
import { CheckStore } from '../../orchestrator/check-runner.js';
import { parseDay } from '../../orchestrator/days.js';
import type { Cell, Row } from '../../warehouse/warehouse.js';
import { type CommonOptions, commonOptions, UsageError, withRuntime } from '../context.js';
import { toTable } from '../format.js';

interface ChecksFlags extends CommonOptions {
  partition?: string;
  failed?: boolean;
  all?: boolean;
  history?: boolean;
  limit: string;
  format: string;
}

const COLUMNS = [
  'asset',
  'partition',
  'check_name',
  'severity',
  'status',
  'observed',
  'threshold',
  'message',
];

/** A cell as read: the whole asset for an unpartitioned result, `-` for nothing, never `NULL`. */
function cell(r: Row, column: string): Cell {
  if (column === 'status') return r.passed ? 'pass' : 'FAIL';
  const value = r[column] ?? null;
  if (value !== null && value !== '') return value;
  return column === 'partition' ? '(whole asset)' : '-';
}

const table = (rows: readonly Row[]) =>
  toTable(
    COLUMNS,
    rows.map((r) => COLUMNS.map((c) => cell(r, c))),
  );

/** Failures first, errors before warnings; then asset, partition and check, as stored. */
const bySeverity = (a: Row, b: Row) =>
  Number(a.passed) - Number(b.passed) || (a.severity === 'error' ? 0 : 1) - (b.severity === 'error' ? 0 : 1);

/**
 * The default view: counts by severity and status, then only what needs attention (failures, errors
 * first); passing results are a count. 400 lines of "pass" hide the one line that matters.
 */
export function checksSummary(rows: readonly Row[]): string {
  const count = (severity: string, passed: boolean) =>
    rows.filter((r) => r.severity === severity && Boolean(r.passed) === passed).length;
  const failing = rows.filter((r) => !r.passed).sort(bySeverity);
  const passing = rows.length - failing.length;
  const errors = count('error', false);
  const lines = [
    `${rows.length} check result(s): ${failing.length} failing (${errors} error, ${failing.length - errors} warn), ${passing} passing`,
    '',
    toTable(
      ['severity', 'failing', 'passing'],
      ['error', 'warn'].map((s) => [s, count(s, false), count(s, true)]),
    ),
  ];
  if (failing.length > 0) lines.push('', 'Failing (errors first)', table(failing));
  else lines.push('', 'No failing checks.');
  if (passing > 0) {
    lines.push(
      '',
      `${passing} passing result(s) not listed: --all lists every result, --format json prints them all.`,
    );
  }
  return lines.join('\n');
}

export function registerChecks(program: Command): void {
  commonOptions(
    program
      .command('checks')
      .description(
        'Data quality check results: a summary with the failing checks first (the latest verdict of each check on each partition)',
      )
      .argument('[asset]', 'only this asset')
      .option('--partition <day>', 'only this partition (YYYY-MM-DD)')
      .option('--failed', 'only failing checks')
      .option('--all', 'list every result, passing ones too, instead of the summary')
      .option('--history', 'every evaluation, newest first, instead of the latest per check and partition')
      .option('--limit <n>', 'with --history: how many results', '100')
      .option('--format <format>', 'table | json (json: every result, as stored)', 'table'),
  )
    .addHelpText(
      'after',
      `
A failed "error" check withholds its partition from downstream assets until it passes again;
"warn" checks only record. Results are stored in the table check_results (see docs/quality.md).

Examples:
  $ billing-pipeline checks
  $ billing-pipeline checks --all
  $ billing-pipeline checks billing_events --partition 2025-04-23
  $ billing-pipeline checks --failed --format json
  $ billing-pipeline checks daily_aggregates --history --limit 20`,
    )
    .action(async (asset: string | undefined, flags: ChecksFlags) => {
      if (flags.format !== 'table' && flags.format !== 'json')
        throw new UsageError(`--format must be one of table, json; got "${flags.format}"`);
      const limit = Number(flags.limit);
      if (!Number.isInteger(limit) || limit < 1)
        throw new UsageError(`--limit must be a positive integer; got "${flags.limit}"`);
      const partition = flags.partition === undefined ? null : parseDay(flags.partition, '--partition');
      const rows = await withRuntime(flags, async (runtime) => {
        if (asset) runtime.graph.get(asset);
        const store = new CheckStore(runtime.warehouse);
        const found: Row[] = flags.history
          ? await store.history({ asset, partition, limit })
          : ((await store.latest({ asset, partition })) as unknown as Row[]);
        return flags.failed ? found.filter((r) => r.passed === false) : found;
      });
      if (flags.format === 'json') {
        process.stdout.write(`${JSON.stringify(rows, null, 2)}\n`);
        return;
      }
      if (rows.length === 0) {
        process.stdout.write(
          flags.failed
            ? 'No failing checks.\n'
            : 'No check results yet: run `billing-pipeline materialize` first.\n',
        );
        return;
      }
      if (!flags.all && !flags.history && !flags.failed) {
        process.stdout.write(`${checksSummary(rows)}\n`);
        return;
      }
      // History stays newest first; a list of latest results shows failures first.
      const listed = flags.history ? rows : [...rows].sort(bySeverity);
      const failing = rows.filter((r) => r.passed === false);
      const blocking = failing.filter((r) => r.severity === 'error').length;
      process.stdout.write(
        `${table(listed)}\n\n${rows.length} result(s), ${failing.length} failing (${blocking} error, ${failing.length - blocking} warn)\n`,
      );
    });
}
