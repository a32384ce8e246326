import type { Command } from 'commander';
import type { Cell } from '../../warehouse/warehouse.js';
import { type CommonOptions, commonOptions, withRuntime } from '../context.js';
import { toTable } from '../format.js';

export function registerAssets(program: Command): void {
  commonOptions(
    program
      .command('assets')
      .description('List assets with their dependencies and last materialization')
      .option('--format <format>', 'table | json', 'table'),
  )
    .addHelpText('after', '\nExample:\n  $ billing-pipeline assets')
    .action(async (flags: CommonOptions & { format: string }) => {
      const rows = await withRuntime(flags, async (runtime) => {
        const latest = new Map((await runtime.ledger.latestAssetRuns()).map((r) => [String(r.asset), r]));
        return runtime.graph.assets.map((asset) => {
          const last = latest.get(asset.name);
          return {
            asset: asset.name,
            deps: asset.deps.join(', '),
            partitioning: asset.partitioning,
            status: (last?.status as Cell) ?? 'never materialized',
            last_run: (last?.run_id as Cell) ?? null,
            finished_at: (last?.finished_at as Cell) ?? null,
            duration_ms: (last?.duration_ms as Cell) ?? null,
            description: asset.description,
          };
        });
      });
      if (flags.format === 'json') {
        process.stdout.write(`${JSON.stringify(rows, null, 2)}\n`);
        return;
      }
      const headers = [
        'asset',
        'deps',
        'partitioning',
        'status',
        'last_run',
        'finished_at',
        'duration_ms',
      ] as const;
      process.stdout.write(
        `${toTable(
          headers,
          rows.map((r) => headers.map((h) => r[h])),
        )}\n`,
      );
    });
}
