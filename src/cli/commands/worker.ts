import { sep } from 'node:path';
import type { Command } from 'commander';
import { evaluateAndDeliverOnce } from '../../alerts/after-run.js';
import { ConfigError } from '../../config.js';
import { RunEmitter } from '../../orchestrator/run-events.js';
import type { Runtime } from '../../runtime.js';
import { openRuntime } from '../../runtime.js';
import type { ScaleOut } from '../../scale-out.js';
import { createLogger, parseLogFormat, stdoutLine } from '../../server/logger.js';
import { openWarehouse } from '../../warehouse/create-warehouse.js';
import { type CommonOptions, cliConfig, commonOptions, UsageError } from '../context.js';
import { parsePort } from './serve.js';

interface WorkerFlags extends CommonOptions {
  concurrency: string;
  host: string;
  port?: string;
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
      .option('--concurrency <n>', 'tasks this worker runs at once', '2')
      .option('--port <port>', 'serve /metrics, /healthz and /readyz (and the API) on this port')
      .option(
        '--host <host>',
        'interface for --port; anything but loopback needs BILLING_API_TOKEN',
        '127.0.0.1',
      ),
    true,
  )
    .addHelpText(
      'after',
      `
Start as many as you like, on as many machines, with the same BILLING_DATABASE_URL and source;
materialize, backfill and serve queue work for them. Ctrl-C / SIGTERM finishes the tasks in hand and queues
the runs it coordinates again for the other workers.

Examples:
  $ BILLING_DATABASE_URL=postgres://billing@db/billing billing-pipeline worker --concurrency 4`,
    )
    .action(async (flags: WorkerFlags) => {
      const concurrency = parseConcurrency(flags.concurrency);
      const config = cliConfig(flags);
      if (!config.databaseUrl)
        throw new ConfigError(
          'worker needs PostgreSQL: set BILLING_DATABASE_URL or pass --database-url (the embedded DuckDB mode runs everything in one process)',
        );
      const logger = createLogger({
        format: parseLogFormat(config.env.BILLING_LOG_FORMAT),
        write: stdoutLine,
      });
      survivePgBossBookkeeping((message) => logger.warn(message));
      const port = flags.port === undefined ? null : parsePort(flags.port);
      const runtime = await openRuntime(config);
      const { startWorker } = await import('../../orchestrator/scale-out/worker.js');
      try {
        const scaleOut = await (runtime.scaleOut as NonNullable<typeof runtime.scaleOut>)();
        const emitter = new RunEmitter();
        // The coordinator of a run judges it and makes one delivery pass, as the CLI does (idempotent:
        // a `serve` instance's periodic evaluation finding the same conditions decides nothing twice;
        // leases keep two processes from sending one event).
        const alerts = runtime.alerts;
        if (alerts)
          emitter.on('run:finished', ({ runId }) => {
            evaluateAndDeliverOnce(runtime.warehouse, alerts, runId).catch((error: unknown) =>
              logger.warn(
                `alerts after run ${runId}: ${error instanceof Error ? error.message : String(error)}`,
              ),
            );
          });
        let stopping = false;
        const http =
          port === null
            ? null
            : await serveProbes({ runtime, scaleOut, emitter, flags, port, isStopping: () => stopping });
        if (http) logger.info(`worker metrics and probes on ${http.url}`);
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
          emitter,
          runGraphs: runtime.runGraphs,
        });
        await new Promise<void>((resolve) => {
          const onSignal = (signal: NodeJS.Signals) => {
            process.once(signal, () => process.exit(130));
            logger.info(
              `${signal} received: finishing the tasks in hand, handing runs over (again to force)`,
            );
            resolve();
          };
          process.once('SIGINT', onSignal);
          process.once('SIGTERM', onSignal);
        });
        stopping = true;
        await worker.stop();
        await http?.close();
        logger.info('worker stopped');
      } finally {
        await runtime.close();
      }
    });
}

/** The daemon's app on the worker: probes, /metrics of the runs this worker coordinates, the API. */
async function serveProbes(o: {
  runtime: Runtime;
  scaleOut: ScaleOut;
  emitter: RunEmitter;
  flags: WorkerFlags;
  port: number;
  isStopping: () => boolean;
}): Promise<{ url: string; close(): Promise<void> }> {
  const [{ createApp }, { PipelineMetrics }, { isLoopback, listen }] = await Promise.all([
    import('../../server/app.js'),
    import('../../server/metrics.js'),
    import('../../server/serve.js'),
  ]);
  const token = o.runtime.config.automation.apiToken;
  if (!isLoopback(o.flags.host) && !token)
    throw new ConfigError(
      `listening on ${o.flags.host} needs BILLING_API_TOKEN (clients send it as a bearer token)`,
    );
  const metrics = new PipelineMetrics();
  metrics.observeRuns(o.emitter);
  metrics.observeQueue(o.scaleOut.runs);
  const app = createApp({
    runtime: o.runtime,
    launcher: o.scaleOut.runs,
    token: token ?? undefined,
    observability: { metrics, notReady: () => (o.isStopping() ? 'the worker is stopping' : null) },
  });
  const server = await listen(app.fetch, { host: o.flags.host, port: o.port });
  return { url: `http://${o.flags.host}:${server.port}`, close: () => server.close() };
}

/**
 * pg-boss 10 marks a job completed or failed without awaiting it; when PostgreSQL is down at that
 * moment (a restart) the rejection is unhandled and Node would end the worker. The job is then
 * still `active` in the queue, which retries it after its timeout (tasks are idempotent), so the
 * worker logs it and carries on. Any other unhandled rejection still ends the process.
 */
function survivePgBossBookkeeping(warn: (message: string) => void): void {
  process.on('unhandledRejection', (reason) => {
    const stack = reason instanceof Error ? (reason.stack ?? '') : '';
    if (stack.includes(`${sep}pg-boss${sep}`)) {
      warn(
        `the job queue could not record a job's outcome (${(reason as Error).message}); it is retried after its timeout`,
      );
      return;
    }
    throw reason;
  });
}
