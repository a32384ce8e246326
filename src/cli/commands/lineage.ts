import type { Command } from 'commander';
import { assetLineage, partitionLineage } from '../../billing/lineage.js';
import type { Cell } from '../../warehouse/warehouse.js';
import { type CommonOptions, commonOptions, UsageError, withRuntime } from '../context.js';
import { shownText, toTable } from '../format.js';

export function registerLineage(program: Command): void {
  commonOptions(
    program
      .command('lineage')
      .description(
        'Where an asset (or one day of it) came from: upstream assets, runs, files and source lines',
      )
      .argument('<asset>')
      .option('--partition <day>', 'one day (YYYY-MM-DD): the runs and files behind it')
      .option('--rows <n>', 'with --partition: also show N events with their source file and line', '0')
      .option('--format <format>', 'table | json', 'table'),
  )
    .addHelpText(
      'after',
      `
Examples:
  $ billing-pipeline lineage billing_insights
  $ billing-pipeline lineage daily_aggregates --partition 2025-04-23 --rows 5`,
    )
    .action(
      async (asset: string, flags: CommonOptions & { partition?: string; rows: string; format: string }) => {
        const sample = Number(flags.rows);
        if (!Number.isInteger(sample) || sample < 0)
          throw new UsageError(`--rows must be a whole number; got "${flags.rows}"`);
        let lastRun: Record<string, unknown> | undefined;
        const result = await withRuntime(flags, async (runtime) => {
          if (flags.partition) return partitionLineage(runtime, asset, flags.partition, sample);
          const lineage = assetLineage(runtime.graph, asset);
          lastRun = (await runtime.ledger.latestAssetRuns()).find((r) => r.asset === asset);
          return {
            ...lineage,
            materializations: await runtime.ledger.partitionMaterializations(asset, null),
          };
        });
        if (flags.format === 'json') {
          process.stdout.write(`${JSON.stringify(result, null, 2)}\n`);
          return;
        }
        // Direct inputs and outputs first: a flat "a <- b <- c" read as a chain when they were siblings.
        const out = [
          `${result.asset}${'partition' in result ? ` @ ${result.partition}` : ''}`,
          `  inputs:         ${result.inputs.join(', ') || '(none: a source asset)'}`,
          `  all upstream:   ${result.upstream.join(', ') || '(none)'}`,
          `  outputs:        ${result.outputs.join(', ') || '(none)'}`,
          `  all downstream: ${result.downstream.join(', ') || '(none)'}`,
        ];
        if ('files' in result && result.materializations.length === 0 && result.files.length === 0) {
          out.push(
            '',
            `No data for ${result.partition}: no run has materialized this partition and no source file is behind it.`,
          );
        }
        if (!('files' in result) && result.materializations.length === 0) {
          // A partitioned asset's materializations are per day: say where they are, or that none is.
          out.push(
            '',
            lastRun
              ? `last run ${shownText(lastRun.run_id as Cell)}: ${shownText(lastRun.status as Cell)} at ${shownText(lastRun.finished_at as Cell)}; one day's runs and files: billing-pipeline lineage ${result.asset} --partition YYYY-MM-DD`
              : `${result.asset} has never been materialized; run: billing-pipeline materialize`,
          );
        }
        const section = (title: string, rows: readonly Record<string, unknown>[], cols: string[]) => {
          if (rows.length === 0) return;
          out.push(
            '',
            `${title}:`,
            toTable(
              cols,
              rows.map((r) => cols.map((c) => (r[c] ?? null) as never)),
            ),
          );
        };
        section('materializations', result.materializations.slice(0, 10), [
          'run_id',
          'status',
          'row_count',
          'duration_ms',
          'created_at',
          'trigger',
        ]);
        if ('files' in result) {
          const fileCols = Object.keys(result.files[0] ?? {});
          section('source files', result.files, fileCols);
          section('source rows', result.rows, [
            'source_key',
            'source_line',
            'timestamp',
            'user_id',
            'credit_usage',
            'currency',
          ]);
        }
        process.stdout.write(`${out.join('\n')}\n`);
      },
    );
}
