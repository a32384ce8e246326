import type { Command } from 'commander';
import type { DaemonMode } from '../../server/daemon.js';
import { type CommonOptions, cliConfig, commonOptions, UsageError } from '../context.js';

interface DaemonFlags extends CommonOptions {
  host: string;
  port: string;
}

export function parsePort(value: string): number {
  const port = Number(value);
  if (!Number.isInteger(port) || port < 0 || port > 65_535)
    throw new UsageError(
      `--port must be a whole number from 0 to 65535 (0 picks a free port); got "${value}"`,
    );
  return port;
}

/** `dev` and `serve` are the same daemon; `dev` switches every sensor and schedule on. */
export function daemonCommand(
  program: Command,
  mode: DaemonMode,
  description: string,
  examples: string,
): Command {
  return commonOptions(
    program
      .command(mode)
      .description(description)
      .option(
        '--host <host>',
        'interface to listen on; anything but loopback needs BILLING_API_TOKEN',
        '127.0.0.1',
      )
      .option(
        '--port <port>',
        'HTTP port (0 picks a free one; the real port is printed and saved in daemon.json)',
        '3000',
      ),
    true,
  )
    .addHelpText('after', examples)
    .action(async (flags: DaemonFlags) => {
      const port = parsePort(flags.port);
      const config = cliConfig(flags);
      // Loaded here so other commands never pay for the HTTP server's modules.
      const { runDaemonUntilSignal } = await import('../../server/daemon.js');
      await runDaemonUntilSignal({ config, mode, host: flags.host, port });
    });
}

export function registerServe(program: Command): void {
  daemonCommand(
    program,
    'serve',
    'Run the daemon: owns the warehouse, runs the run queue, the sensors and schedules that are switched on, and the HTTP API',
    `
While it runs, materialize, backfill, query, runs, sensors and schedules talk to it (found through
$BILLING_HOME/daemon.json) instead of opening the DuckDB file. Stop it with Ctrl-C or SIGTERM: the
current run stops at its next safe point and is queued again for the next start.

Examples:
  $ billing-pipeline serve --source s3://billing/exports/
  $ BILLING_API_TOKEN=... billing-pipeline serve --host 0.0.0.0 --port 8080`,
  );
}
