import { existsSync } from 'node:fs';
import { fileURLToPath } from 'node:url';
import { AlertService } from '../alerts/alert-service.js';
import { type Config, ConfigError } from '../config.js';
import { AutomationLoop } from '../orchestrator/automation-loop.js';
import { AutomationStore } from '../orchestrator/automation-store.js';
import { Backfills } from '../orchestrator/backfill.js';
import { RunEmitter } from '../orchestrator/run-events.js';
import { RunQueue } from '../orchestrator/run-queue.js';
import { LeaderLease } from '../orchestrator/scale-out/leader.js';
import type { QueuedRuns } from '../orchestrator/scale-out/queued-runs.js';
import { openRuntime, type Runtime } from '../runtime.js';
import { type App, createApp } from './app.js';
import { AutomationService, describeTick } from './automation-service.js';
import { type DaemonInfo, findLiveDaemon, removeDaemonFile, writeDaemonFile } from './daemon-file.js';
import type { DaemonAppDeps } from './daemon-services.js';
import { createLogger, type LogFormat, type Logger, parseLogFormat, stdoutLine } from './logger.js';
import { type MetricsOptions, PipelineMetrics } from './metrics.js';
import { isLoopback, listen } from './serve.js';
import { SqlService } from './sql-service.js';

export type DaemonMode = 'dev' | 'serve';

export interface DaemonOptions {
  config: Config;
  /** `dev` switches every sensor and schedule on at start; `serve` keeps their saved state. */
  mode: DaemonMode;
  host: string;
  /** 0 picks a free port; the real one is printed and written to daemon.json. */
  port: number;
  /** Receives each finished log line (text or JSON, no newline); stdout by default. */
  log?: (line: string) => void;
  /** `text` (human lines) or `json` (one object per line); by default from BILLING_LOG_FORMAT. */
  logFormat?: LogFormat;
  /** Clocks and buckets of the metrics; tests inject clocks. */
  metrics?: MetricsOptions;
  /** Built web UI to serve; by default `web/dist` of this package when it exists. */
  webRoot?: string;
}

export interface Daemon {
  info: DaemonInfo;
  runtime: Runtime;
  /** The in-process run queue, or in the scale-out mode the job queue's submitter (workers run them). */
  queue: RunQueue | QueuedRuns;
  automation: AutomationService;
  backfills: Backfills;
  logger: Logger;
  metrics: PipelineMetrics;
  /** The HTTP app it serves, for in-process requests (tests). */
  app: App;
  /** Graceful: stop ticking and launching, checkpoint the current run, close DuckDB. */
  stop(): Promise<void>;
}

function defaultWebRoot(): string | undefined {
  for (const relative of ['../../web/dist', '../../../web/dist']) {
    const path = fileURLToPath(new URL(relative, import.meta.url));
    if (existsSync(path)) return path;
  }
  return undefined;
}

function runLogger(emitter: RunEmitter, logger: Logger, verbose: boolean): void {
  emitter.on('run:started', ({ runId, assets }) =>
    logger.info(`run ${runId} started: ${assets.join(' -> ')}`, { run_id: runId }),
  );
  emitter.on('asset:finished', ({ runId, asset, status, durationMs, error }) => {
    if (verbose || status === 'failed')
      logger[status === 'failed' ? 'error' : 'info'](
        `run ${runId} ${asset} ${status} in ${durationMs} ms${error ? `: ${error}` : ''}`,
        { run_id: runId, asset, status, duration_ms: durationMs },
      );
  });
  emitter.on('run:finished', ({ runId, status, error }) =>
    logger[status === 'failed' ? 'error' : 'info'](
      `run ${runId} ${status}${error && status !== 'success' ? `: ${error}` : ''}`,
      { run_id: runId, status },
    ),
  );
}

function tickLogger(automation: AutomationService, logger: Logger): void {
  automation.onTick(({ kind, name, report }) => {
    // A sensor ticks every few seconds; only what it did or failed to do is worth a line.
    if (kind === 'sensor' && report.outcome === 'skipped') return;
    logger[report.outcome === 'failed' ? 'warn' : 'info'](`${kind} ${name}: ${describeTick(report)}`, {
      [kind]: name,
      outcome: report.outcome,
      run_id: report.runIds.length === 1 ? report.runIds[0] : undefined,
    });
  });
}

const defaultLogger = (options: DaemonOptions): Logger =>
  createLogger({
    format: options.logFormat ?? parseLogFormat(options.config.env.BILLING_LOG_FORMAT),
    write: options.log ?? stdoutLine,
  });

/**
 * The long-running process that owns the DuckDB file: one writer, with the run queue, sensors,
 * schedules and the HTTP API in the same process, so reads stay concurrent and clients never
 * meet a lock error. Found by clients through `$BILLING_HOME/daemon.json`.
 */
export async function startDaemon(options: DaemonOptions): Promise<Daemon> {
  const { config, mode } = options;
  const logger = defaultLogger(options);
  const log = logger.line;
  const token = config.automation.apiToken;
  if (!isLoopback(options.host) && !token) {
    throw new ConfigError(
      `listening on ${options.host} exposes the API beyond this machine: set BILLING_API_TOKEN (clients send it as a bearer token)`,
    );
  }
  // Scale-out: any number of instances may serve one PostgreSQL; only the embedded mode has one owner.
  const scaled = config.databaseUrl !== null;
  const existing = scaled ? null : await findLiveDaemon(config.home, config.warehousePath);
  if (existing) {
    throw new ConfigError(
      `a daemon (pid ${existing.pid}) already serves ${config.warehousePath} at ${existing.url}`,
    );
  }

  const metrics = new PipelineMetrics(options.metrics);
  const runtime = await openRuntime(config, { restrictFileAccess: true, onSourceError: metrics.sourceError });
  try {
    const emitter = new RunEmitter();
    runLogger(emitter, logger, mode === 'dev');
    metrics.observeRuns(emitter);
    let backfills: Backfills | null = null;
    const queue = runtime.scaleOut
      ? (await runtime.scaleOut()).runs
      : new RunQueue({
          graph: runtime.graph,
          ledger: runtime.ledger,
          warehouse: runtime.warehouse,
          emitter,
          log,
          onRequeued: async (_previous, runId, request) => backfills?.relink(runId, request),
        });
    const leader = config.databaseUrl ? new LeaderLease(config.databaseUrl, log) : null;
    backfills = new Backfills({
      warehouse: runtime.warehouse,
      launcher: queue,
      allAssets: runtime.graph.assets.map((a) => a.name),
    });
    const automation = new AutomationService({
      config,
      store: new AutomationStore(runtime.warehouse),
      live: {
        loop: new AutomationLoop({ log, gate: leader ? () => leader.isLeader() : undefined }),
        submitter: queue,
        log,
        onSourceError: metrics.sourceError,
      },
    });
    tickLogger(automation, logger);
    // Scale-out: workers' runs finish elsewhere (no run:finished here); the periodic evaluation covers them.
    const alerts = runtime.alerts
      ? new AlertService({
          warehouse: runtime.warehouse,
          wiring: runtime.alerts,
          log,
          releaseClaimsAtStart: !scaled,
          holdDelivery: config.env.BILLING_TEST_ALERT_HOLD_DELIVERY === '1',
        })
      : null;
    emitter.on('run:finished', ({ runId }) => alerts?.runFinished(runId));
    metrics.observeQueue(queue);
    metrics.observeAutomation(automation);

    if (queue instanceof RunQueue) {
      if (runtime.orphanedRunIds && runtime.orphanedRunIds.length > 0) {
        log(`marked ${runtime.orphanedRunIds.length} run(s) interrupted by a crash as failed`);
        await queue.resume(runtime.orphanedRunIds);
      }
      await queue.start();
    }

    let stopping: Promise<void> | null = null;
    // Its own, so shutdown can interrupt the SQL endpoint's queries instead of waiting them out.
    const sql = new SqlService({
      warehouse: runtime.warehouse,
      databaseUrl: config.databaseUrl,
      timeoutMs: config.automation.sqlTimeoutMs,
      maxConcurrent: config.automation.sqlMaxConcurrent,
      maxResultBytes: config.automation.sqlMaxResultBytes,
    });
    const deps: DaemonAppDeps = {
      sql,
      runtime,
      launcher: queue,
      token: token ?? undefined,
      webRoot: options.webRoot ?? defaultWebRoot(),
      services: { automation, backfills, alerts: alerts ?? undefined },
      observability: {
        notReady: () => {
          if (stopping) return 'the daemon is shutting down';
          return queue.lifecycle === 'running' ? null : `the run queue is ${queue.lifecycle}`;
        },
        metrics,
      },
    };
    const app = createApp(deps);
    const server = await listen(app.fetch, { host: options.host, port: options.port });
    const urlHost =
      options.host.includes(':') && !options.host.startsWith('[') ? `[${options.host}]` : options.host;
    const info: DaemonInfo = {
      version: 1,
      pid: process.pid,
      mode,
      url: `http://${urlHost === '0.0.0.0' ? '127.0.0.1' : urlHost}:${server.port}`,
      host: options.host,
      port: server.port,
      token,
      warehouse: config.warehousePath,
      started_at: new Date().toISOString(),
      config: runtime.runConfig,
    };
    if (!scaled) await writeDaemonFile(config.home, info);
    await automation.start({ enableAll: mode === 'dev' });
    await alerts?.start();

    const stop = () => {
      stopping ??= (async () => {
        log(
          'shutting down: no new runs or ticks; the current run stops at its next safe point and is re-queued',
        );
        if (!scaled) await removeDaemonFile(config.home, process.pid);
        // Interrupted first: a heavy query would otherwise hold a pool thread through the shutdown.
        await sql.close();
        await automation.close();
        await alerts?.stop();
        await leader?.close();
        if (queue instanceof RunQueue) await queue.stop({ requeue: true });
        else await queue.stop();
        await server.close();
        await runtime.close();
        log('stopped; the warehouse is closed');
      })();
      return stopping;
    };
    return { info, runtime, queue, automation, backfills, logger, metrics, app, stop };
  } catch (error) {
    await runtime.close();
    throw error;
  }
}

/** Runs a daemon until SIGINT/SIGTERM; a second signal exits at once. */
export async function runDaemonUntilSignal(options: DaemonOptions): Promise<void> {
  const daemon = await startDaemon(options);
  const log = daemon.logger.line;
  const sensors = await daemon.automation.listSensors();
  const schedules = await daemon.automation.listSchedules();
  const state = (items: { name: string; enabled: boolean }[]) =>
    items.map((i) => `${i.name} (${i.enabled ? 'on' : 'off'})`).join(', ') || 'none';
  // "listening" last: scripts and tests take it as the sign that start-up is complete.
  log(`warehouse ${daemon.info.warehouse}; sensors: ${state(sensors)}; schedules: ${state(schedules)}`);
  log(`billing-pipeline ${options.mode} listening on ${daemon.info.url}`);
  await new Promise<void>((resolve) => {
    const onSignal = (signal: NodeJS.Signals) => {
      process.once(signal, () => process.exit(130));
      log(`${signal} received (again to force)`);
      daemon.stop().then(resolve, (error: unknown) => {
        daemon.logger.error(`shutdown failed: ${error instanceof Error ? error.message : String(error)}`);
        process.exitCode = 1;
        resolve();
      });
    };
    process.once('SIGINT', onSignal);
    process.once('SIGTERM', onSignal);
  });
}
