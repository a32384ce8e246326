import type { Command } from 'commander';
import { ConfigError, loadConfig } from '../../config.js';
import { openRuntime } from '../../runtime.js';
import { createLogger, parseLogFormat, stdoutLine } from '../../server/logger.js';
import { openWarehouse } from '../../warehouse/create-warehouse.js';
import { type CommonOptions, commonOptions, UsageError } from '../context.js';

interface WorkerFlags extends CommonOptions {
  concurrency: string;
}

function parseConcurrency(value: string): number {
  const n = Number(value);
  if (!Number.isInteger(n) || n < 1 || n > 64)
    throw new UsageError(`--concurrency must be a whole number from 1 to 64; got "${value}"`);
  return n;
}

export function registerWorker(program: Command): void {
  commonOptions(
    program
      .command('worker')
      .description(
        'Scale-out mode: take runs and tasks (one file, one day) from the PostgreSQL job queue until stopped',
      )
      .option('--concurrency <n>', 'tasks this worker runs at once', '2'),
    true,
  )
    .addHelpText(
      'after',
      `
Start as many as you like, on as many machines, with the same BILLING_DATABASE_URL and source;
materialize, backfill and serve queue work for them. Ctrl-C / SIGTERM finishes the tasks in hand.

Examples:
  $ BILLING_DATABASE_URL=postgres://billing@db/billing billing-pipeline worker --concurrency 4`,
    )
    .action(async (flags: WorkerFlags) => {
      const concurrency = parseConcurrency(flags.concurrency);
      const config = loadConfig(process.env, flags);
      if (!config.databaseUrl)
        throw new ConfigError(
          'worker needs PostgreSQL: set BILLING_DATABASE_URL or pass --database-url (the embedded DuckDB mode runs everything in one process)',
        );
      const logger = createLogger({
        format: parseLogFormat(config.env.BILLING_LOG_FORMAT),
        write: stdoutLine,
      });
      const runtime = await openRuntime(config);
      const { startWorker } = await import('../../orchestrator/scale-out/worker.js');
      try {
        const scaleOut = await (runtime.scaleOut as NonNullable<typeof runtime.scaleOut>)();
        const worker = await startWorker({
          graph: runtime.graph,
          ledger: runtime.ledger,
          warehouse: runtime.warehouse,
          queue: scaleOut.queue,
          concurrency,
          openSlot: () =>
            openWarehouse({
              databaseUrl: config.databaseUrl ?? undefined,
              path: config.warehousePath,
              postgres: { maxConnections: 2, applicationName: 'billing-pipeline-worker' },
            }),
          log: (message, fields) => logger.info(message, fields as never),
        });
        await new Promise<void>((resolve) => {
          const onSignal = (signal: NodeJS.Signals) => {
            process.once(signal, () => process.exit(130));
            logger.info(`${signal} received: finishing the tasks in hand (again to force)`);
            resolve();
          };
          process.once('SIGINT', onSignal);
          process.once('SIGTERM', onSignal);
        });
        await worker.stop();
        logger.info('worker stopped');
      } finally {
        await runtime.close();
      }
    });
}
