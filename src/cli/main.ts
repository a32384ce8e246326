import { Command, CommanderError } from 'commander';
import { ConfigError, SettingError } from '../config.js';
import { AssetGraphError } from '../orchestrator/asset-graph.js';
import { SourceError } from '../sources/source.js';
import { registerAssets } from './commands/assets.js';
import { registerChecks } from './commands/checks.js';
import { registerDev } from './commands/dev.js';
import { registerGenerate } from './commands/generate.js';
import { registerInit } from './commands/init.js';
import { registerInsights } from './commands/insights.js';
import { registerLineage } from './commands/lineage.js';
import { registerBackfill, registerMaterialize } from './commands/materialize.js';
import { registerQuery } from './commands/query.js';
import { registerRetract } from './commands/retract.js';
import { registerRuns } from './commands/runs.js';
import { registerSchedules } from './commands/schedules.js';
import { registerSensors } from './commands/sensors.js';
import { registerServe } from './commands/serve.js';
import { registerWorker } from './commands/worker.js';
import { resetConfigWarnings, UsageError } from './context.js';
import { escapeControlChars } from './format.js';

export function buildProgram(): Command {
  const program = new Command('billing-pipeline')
    .description(
      'Incremental, idempotent billing pipeline: Hive-partitioned CSVs in S3 to exact DuckDB aggregates',
    )
    .showHelpAfterError('(add --help for usage)')
    .exitOverride();
  registerMaterialize(program);
  registerBackfill(program);
  registerQuery(program);
  registerAssets(program);
  registerRuns(program);
  registerLineage(program);
  registerInsights(program);
  registerChecks(program);
  registerGenerate(program);
  registerDev(program);
  registerServe(program);
  registerSensors(program);
  registerSchedules(program);
  registerWorker(program);
  registerInit(program);
  registerRetract(program);
  return program;
}

/** The one place errors become messages and exit codes: 2 for usage, 1 for everything else. */
export async function main(argv: readonly string[]): Promise<number> {
  const program = buildProgram();
  resetConfigWarnings();
  try {
    await program.parseAsync([...argv], { from: 'user' });
    return typeof process.exitCode === 'number' ? process.exitCode : 0;
  } catch (error) {
    if (error instanceof CommanderError) {
      return error.exitCode === 0 ? 0 : 2;
    }
    const usage =
      error instanceof UsageError ||
      error instanceof SettingError ||
      error instanceof RangeError ||
      error instanceof AssetGraphError;
    const known = usage || error instanceof ConfigError || error instanceof SourceError;
    const message = error instanceof Error ? error.message : String(error);
    // Messages quote file keys and values from the data: control characters print as escapes.
    process.stderr.write(`error: ${escapeControlChars(message, { keepNewlines: true })}\n`);
    if (!known && process.env.BILLING_DEBUG) process.stderr.write(`${(error as Error).stack ?? ''}\n`);
    return usage ? 2 : 1;
  }
}
