import type { Command } from 'commander';
import { loadConfig } from '../config.js';
import { openRuntime, type Runtime } from '../runtime.js';

export interface CommonOptions {
  home?: string;
  warehouse?: string;
  source?: string;
}

/** Options every command that touches the warehouse accepts. */
export function commonOptions(command: Command, withSource = false): Command {
  command
    .option('--home <dir>', 'state folder (env BILLING_HOME, default ./data)')
    .option(
      '--warehouse <file>',
      'DuckDB file (env BILLING_WAREHOUSE, default $BILLING_HOME/billing.duckdb)',
    );
  if (withSource)
    command.option('--source <uri>', 'billing files: s3://bucket/prefix/ or a folder (env BILLING_SOURCE)');
  return command;
}

/** Opens the runtime for one command and always closes it, so the DuckDB file is left clean. */
export async function withRuntime<T>(
  options: CommonOptions,
  fn: (runtime: Runtime) => Promise<T>,
): Promise<T> {
  const runtime = await openRuntime(loadConfig(process.env, options));
  try {
    if (runtime.orphanedRuns > 0) {
      process.stderr.write(`note: marked ${runtime.orphanedRuns} interrupted run(s) as failed\n`);
    }
    return await fn(runtime);
  } finally {
    await runtime.close();
  }
}

/** A usage problem (bad flag value): reported without a stack trace, exit code 2. */
export class UsageError extends Error {
  override name = 'UsageError';
}
