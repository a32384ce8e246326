import type { Command } from 'commander';
import { renderInsights } from '../../billing/insights-report.js';
import { type CommonOptions, commonOptions, withRuntime } from '../context.js';

export function registerInsights(program: Command): void {
  commonOptions(program.command('insights').description('Print the billing insights report'))
    .addHelpText('after', '\nExample:\n  $ billing-pipeline insights')
    .action(async (flags: CommonOptions) => {
      const report = await withRuntime(flags, (runtime) => renderInsights(runtime.warehouse));
      process.stdout.write(`${report}\n`);
    });
}
