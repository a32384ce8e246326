import type { Command } from 'commander';
import { renderInsights } from '../../billing/insights-report.js';
import { type CommonOptions, commonOptions, withRuntime } from '../context.js';
import { escapeControlChars } from '../format.js';

export function registerInsights(program: Command): void {
  commonOptions(program.command('insights').description('Print the billing insights report'))
    .addHelpText('after', '\nExample:\n  $ billing-pipeline insights')
    .action(async (flags: CommonOptions) => {
      const report = await withRuntime(flags, (runtime) => renderInsights(runtime.warehouse));
      // The report quotes data (user ids, regions, tiers): control characters in it must not reach the terminal raw.
      process.stdout.write(`${escapeControlChars(report, { keepNewlines: true })}\n`);
    });
}
