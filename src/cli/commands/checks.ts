import type { Command } from 'commander';
import { CheckStore } from '../../orchestrator/check-runner.js';
import { parseDay } from '../../orchestrator/days.js';
import type { Cell, Row } from '../../warehouse/warehouse.js';
import { type CommonOptions, commonOptions, UsageError, withRuntime } from '../context.js';
import { toTable } from '../format.js';

interface ChecksFlags extends CommonOptions {
  partition?: string;
  failed?: boolean;
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

export function registerChecks(program: Command): void {
  commonOptions(
    program
      .command('checks')
      .description('Data quality check results: the latest verdict of each check on each partition')
      .argument('[asset]', 'only this asset')
      .option('--partition <day>', 'only this partition (YYYY-MM-DD)')
      .option('--failed', 'only failing checks')
      .option('--history', 'every evaluation, newest first, instead of the latest per check and partition')
      .option('--limit <n>', 'with --history: how many results', '100')
      .option('--format <format>', 'table | json', 'table'),
  )
    .addHelpText(
      'after',
      `
A failed "error" check withholds its partition from downstream assets until it passes again;
"warn" checks only record. Results are stored in the table check_results (see docs/quality.md).

Examples:
  $ billing-pipeline checks
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
      const cells = rows.map((r) =>
        COLUMNS.map((c): Cell => (c === 'status' ? (r.passed ? 'pass' : 'FAIL') : (r[c] ?? null))),
      );
      const failing = rows.filter((r) => r.passed === false);
      const blocking = failing.filter((r) => r.severity === 'error').length;
      process.stdout.write(
        `${toTable(COLUMNS, cells)}\n\n${rows.length} result(s), ${failing.length} failing (${blocking} error, ${failing.length - blocking} warn)\n`,
      );
    });
}
