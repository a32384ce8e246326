import { Counter, collectDefaultMetrics, Gauge, Histogram, Registry } from 'prom-client';
import type { RunEmitter, RunEventMap } from '../orchestrator/run-events.js';
import type { SourceError } from '../sources/source.js';
import type { SensorFreshness, TickEvent } from './automation-service.js';

/** What the queue gauges read at scrape time. */
export interface QueueView {
  readonly queuedIds: readonly string[];
  readonly runningIds: readonly string[];
  /**
   * Scale-out: jobs waiting and running in the shared job queue, for the whole cluster (the ids
   * above are only what this process submitted).
   */
  jobDepth?(): Promise<Record<'runs' | 'tasks', { waiting: number; active: number }>>;
}

/** What the automation metrics hear and read; the AutomationService provides both. */
export interface AutomationView {
  onTick(listener: (event: TickEvent) => void): () => void;
  sensorFreshness(): Promise<SensorFreshness[]>;
}

export interface MetricsOptions {
  /** Wall clock for sensor lag (ticks are stored with wall-clock times); injected in tests. */
  now?: () => Date;
  /** Monotonic milliseconds for run durations, so clock jumps never skew them. */
  monotonicMs?: () => number;
  /** Upper bounds of the run duration histogram, in seconds. */
  durationBuckets?: readonly number[];
  /** Node process metrics (CPU, memory, event loop, GC); on by default. */
  processMetrics?: boolean;
}

/** Runs take from under a second (nothing new) to hours (a full refresh of a year). */
const DEFAULT_DURATION_BUCKETS = [0.5, 1, 2.5, 5, 10, 30, 60, 120, 300, 600, 1800, 3600, 7200];

/** Materialization metadata keys an ingesting asset reports (billing_events does). */
const ROWS_KEY = 'rows';
const REJECTED_ROWS_KEY = 'rejectedRows';
const REJECTED_FILES_KEY = 'rejectedFiles';

const count = (value: unknown): number => {
  const n = typeof value === 'string' ? Number(value) : value;
  return typeof n === 'number' && Number.isFinite(n) && n > 0 ? n : 0;
};

/**
 * Every metric of one pipeline process, in its own Registry (never prom-client's global one, so
 * two daemons in one test process never share counts). Fed only by events (runs, ticks, source
 * errors) and by read-at-scrape views (queue, sensor freshness); nothing else calls into it.
 * Nothing here is DuckDB-specific, so a PostgreSQL worker/serve process can build the same set.
 */
export class PipelineMetrics {
  readonly registry = new Registry();
  private readonly now: () => Date;
  private readonly monotonicMs: () => number;
  private readonly runStarts = new Map<string, number>();

  private readonly runsFinished: Counter<'status'>;
  private readonly runDuration: Histogram<'status'>;
  private readonly rowsIngested: Counter<'asset'>;
  private readonly rowsRejected: Counter<'asset'>;
  private readonly filesRejected: Counter<'asset'>;
  private readonly ticks: Counter<'kind' | 'name' | 'outcome'>;
  private readonly sourceErrors: Counter<'kind'>;
  private queue: QueueView | null = null;
  private automation: AutomationView | null = null;

  constructor(options: MetricsOptions = {}) {
    this.now = options.now ?? (() => new Date());
    this.monotonicMs = options.monotonicMs ?? (() => performance.now());
    const registers = [this.registry];
    if (options.processMetrics ?? true) collectDefaultMetrics({ register: this.registry });

    this.runsFinished = new Counter({
      name: 'billing_runs_finished_total',
      help: 'Runs that finished, by final status (success, failed, canceled)',
      labelNames: ['status'],
      registers,
    });
    this.runDuration = new Histogram({
      name: 'billing_run_duration_seconds',
      help: 'Wall time of finished runs from start to finish, by final status',
      labelNames: ['status'],
      buckets: [...(options.durationBuckets ?? DEFAULT_DURATION_BUCKETS)],
      registers,
    });
    const view = () => this.queue;
    const depth = async () =>
      (await view()
        ?.jobDepth?.()
        .catch(() => null)) ?? null;
    new Gauge({
      name: 'billing_runs_queued',
      help: 'Runs waiting in the run queue',
      registers,
      async collect() {
        this.set((await depth())?.runs.waiting ?? view()?.queuedIds.length ?? 0);
      },
    });
    new Gauge({
      name: 'billing_runs_running',
      help: 'Runs executing now',
      registers,
      async collect() {
        this.set((await depth())?.runs.active ?? view()?.runningIds.length ?? 0);
      },
    });
    new Gauge({
      name: 'billing_queue_tasks',
      help: 'Scale-out mode: tasks (file ingests, day recomputes) in the job queue, by state',
      labelNames: ['state'],
      registers,
      async collect() {
        const tasks = (await depth())?.tasks;
        this.reset();
        if (!tasks) return;
        this.set({ state: 'waiting' }, tasks.waiting);
        this.set({ state: 'active' }, tasks.active);
      },
    });
    this.rowsIngested = new Counter({
      name: 'billing_rows_ingested_total',
      help: 'Valid rows loaded from source files, by asset',
      labelNames: ['asset'],
      registers,
    });
    this.rowsRejected = new Counter({
      name: 'billing_rows_rejected_total',
      help: 'Rows set aside as invalid while loading, by asset',
      labelNames: ['asset'],
      registers,
    });
    this.filesRejected = new Counter({
      name: 'billing_files_rejected_total',
      help: 'Source files rejected as a whole (e.g. a wrong header), by asset',
      labelNames: ['asset'],
      registers,
    });
    this.ticks = new Counter({
      name: 'billing_automation_ticks_total',
      help: 'Sensor and schedule evaluations by this process, by outcome (requested, skipped, failed)',
      labelNames: ['kind', 'name', 'outcome'],
      registers,
    });
    this.sourceErrors = new Counter({
      name: 'billing_source_errors_total',
      help: 'Errors raised by the source (S3 or folder), each attempt counted, by kind (transient, permanent)',
      labelNames: ['kind'],
      registers,
    });
    const freshness = async () => (this.automation ? this.automation.sensorFreshness() : []);
    const now = () => this.now().getTime();
    new Gauge({
      name: 'billing_sensor_lag_seconds',
      help: 'Seconds since the start of the last successful tick of each enabled sensor',
      labelNames: ['sensor'],
      registers,
      async collect() {
        // Rebuilt per scrape: a sensor switched off must disappear, not freeze at its last value.
        this.reset();
        for (const sensor of await freshness()) {
          if (!sensor.enabled || !sensor.lastSuccessAt) continue;
          this.set({ sensor: sensor.name }, Math.max(0, (now() - sensor.lastSuccessAt.getTime()) / 1000));
        }
      },
    });
    // Visible at zero before the first event, so rate() and alerts work from the first scrape.
    for (const kind of ['transient', 'permanent']) this.sourceErrors.inc({ kind }, 0);
  }

  /** Runs, durations and ingest counts from a run emitter; returns the unsubscribe. */
  observeRuns(emitter: RunEmitter): () => void {
    const started = ({ runId }: RunEventMap['run:started']) => {
      this.runStarts.set(runId, this.monotonicMs());
    };
    const asset = ({ asset, result }: RunEventMap['asset:finished']) => {
      const metadata = result?.metadata;
      if (!metadata) return;
      // Only assets that report ingest counts appear: an aggregate's zeros would mean nothing.
      if (ROWS_KEY in metadata) this.rowsIngested.inc({ asset }, count(metadata[ROWS_KEY]));
      if (REJECTED_ROWS_KEY in metadata) this.rowsRejected.inc({ asset }, count(metadata[REJECTED_ROWS_KEY]));
      if (REJECTED_FILES_KEY in metadata)
        this.filesRejected.inc({ asset }, count(metadata[REJECTED_FILES_KEY]));
    };
    const finished = ({ runId, status }: RunEventMap['run:finished']) => {
      this.runsFinished.inc({ status });
      const start = this.runStarts.get(runId);
      this.runStarts.delete(runId);
      if (start !== undefined)
        this.runDuration.observe({ status }, Math.max(0, (this.monotonicMs() - start) / 1000));
    };
    emitter.on('run:started', started).on('asset:finished', asset).on('run:finished', finished);
    return () => {
      emitter.off('run:started', started).off('asset:finished', asset).off('run:finished', finished);
    };
  }

  /** Queue depth, read when scraped. */
  observeQueue(queue: QueueView): void {
    this.queue = queue;
  }

  /** Tick outcomes as they happen, sensor lag from the stored ticks when scraped. */
  observeAutomation(automation: AutomationView): () => void {
    this.automation = automation;
    return automation.onTick(({ kind, name, report }) => {
      this.ticks.inc({ kind, name, outcome: report.outcome });
    });
  }

  /** Pass as a source's `onError`. */
  readonly sourceError = (error: SourceError): void => {
    this.sourceErrors.inc({ kind: error.transient ? 'transient' : 'permanent' });
  };

  get contentType(): string {
    return this.registry.contentType;
  }

  render(): Promise<string> {
    return this.registry.metrics();
  }
}
