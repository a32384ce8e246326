import type { Command } from 'commander';
import { type Config, loadConfig } from '../config.js';
import type { Runtime } from '../runtime.js';
import type { DaemonClient } from '../server/daemon-client.js';
import { findLiveDaemon } from '../server/daemon-file.js';
import { printedWarnings } from './config-warnings.js';

export { resetConfigWarnings } from './config-warnings.js';
export { UsageError } from './usage-error.js';

/*
 * The runtime (DuckDB or pg, the asset graph, the AWS SDK) and the daemon client load on first
 * use: a command that never opens the warehouse, or only reads it, does not pay for them.
 */
const loadRuntime = () => import('../runtime.js');
const loadDaemonClient = () => import('../server/daemon-client.js');

export interface CommonOptions {
  home?: string;
  warehouse?: string;
  source?: string;
  databaseUrl?: string;
  /** --config: the project configuration file (billing-pipeline.yaml). */
  config?: string;
}

/**
 * Options every command that touches the warehouse accepts. `backfill` keeps `--config` for its
 * range file, so it reads the project file from BILLING_CONFIG or the usual places only.
 */
export function commonOptions(command: Command, withSource = false, configFlag = true): Command {
  if (configFlag)
    command.option(
      '--config <file>',
      'project configuration file (env BILLING_CONFIG, default ./billing-pipeline.yaml, then $BILLING_HOME/billing-pipeline.yaml)',
    );
  command
    .option('--home <dir>', 'state folder (env BILLING_HOME, default ./data)')
    .option('--warehouse <file>', 'DuckDB file (env BILLING_WAREHOUSE, default $BILLING_HOME/billing.duckdb)')
    .option(
      '--database-url <url>',
      'scale-out mode: PostgreSQL for warehouse, ledger and job queue (env BILLING_DATABASE_URL)',
    );
  if (withSource)
    command.option('--source <uri>', 'billing files: s3://bucket/prefix/ or a folder (env BILLING_SOURCE)');
  return command;
}

/** The command's configuration: flags > variables > billing-pipeline.yaml > defaults; warns once. */
export function cliConfig(options: CommonOptions): Config {
  const config = loadConfig(process.env, options);
  for (const warning of config.warnings) {
    if (printedWarnings.has(warning)) continue;
    printedWarnings.add(warning);
    process.stderr.write(`warning: ${warning}\n`);
  }
  return config;
}

/** The daemon serving this command's warehouse, if one runs (found through `$BILLING_HOME/daemon.json`). */
export async function daemonFor(options: CommonOptions): Promise<DaemonClient | null> {
  const config = cliConfig(options);
  // Scale-out: every process talks to PostgreSQL itself; several `serve` instances may run.
  if (config.databaseUrl) return null;
  const info = await findLiveDaemon(config.home, config.warehousePath);
  return info ? new (await loadDaemonClient()).DaemonClient(info) : null;
}

/**
 * Opens the warehouse in this process, or, when another process holds it, waits: a daemon that
 * is starting will appear in daemon.json (then the command goes to it), another command will
 * finish. Only after BILLING_LOCK_WAIT_MS (`lock_wait_ms`) does the user see that the warehouse is busy.
 */
async function openOrRoute(config: Config, options: RunOptions): Promise<Runtime> {
  const deadline = Date.now() + Number(config.settings.get('lock_wait_ms')?.value ?? 30_000);
  let noted = false;
  // PostgreSQL has no single-writer lock, and runs go to the workers' queue: nothing to route.
  if (config.databaseUrl) return (await loadRuntime()).openRuntime(config);
  for (;;) {
    const daemon = await findLiveDaemon(config.home, config.warehousePath);
    if (daemon) {
      const { DaemonClient, remoteRuntime } = await loadDaemonClient();
      return remoteRuntime(new DaemonClient(daemon), config, (line) => process.stderr.write(`${line}\n`));
    }
    try {
      return await (await loadRuntime()).openRuntime(config, { prefetchListing: options.runsBillingFiles });
    } catch (error) {
      const busy = error instanceof Error && /in use by another process/.test(error.message);
      if (!busy || Date.now() > deadline) throw error;
      if (!noted) {
        noted = true;
        process.stderr.write('note: the warehouse is in use by another process; waiting for it...\n');
      }
      await new Promise((resolve) => setTimeout(resolve, 250));
    }
  }
}

export interface RunOptions {
  /**
   * The command will run billing_files in this process (a `materialize` that lists the source):
   * the listing then starts as soon as the warehouse is open, while the rest loads.
   */
  runsBillingFiles?: boolean;
}

/**
 * Opens the runtime for one command and always closes it, so the DuckDB file is left clean.
 * While a daemon owns the warehouse, the runtime is the daemon's: runs are queued there and
 * reads go through its API, so no command ever meets the file lock.
 */
export async function withRuntime<T>(
  options: CommonOptions,
  fn: (runtime: Runtime) => Promise<T>,
  run: RunOptions = {},
): Promise<T> {
  const runtime = await openOrRoute(cliConfig(options), run);
  try {
    if (runtime.orphanedRuns > 0) {
      process.stderr.write(`note: marked ${runtime.orphanedRuns} interrupted run(s) as failed\n`);
    }
    return await fn(runtime);
  } finally {
    await runtime.close();
  }
}
