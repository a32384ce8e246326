import { Mutex } from '../warehouse/mutex.js';
import type { Warehouse } from '../warehouse/warehouse.js';
import type { AssetGraph } from './asset-graph.js';
import type { Ledger, StoredRunRequest } from './ledger.js';
import type { RunEmitter } from './run-events.js';
import { describeRun, executeRun, type RunRequest } from './run-executor.js';

export interface RunQueueOptions {
  graph: AssetGraph;
  ledger: Ledger;
  warehouse: Warehouse;
  /** Runs executing at once. DuckDB allows one writing process and runs write, so 1 by default. */
  concurrency?: number;
  /** Hears every run's events (daemon log lines, live UIs). */
  emitter?: RunEmitter;
  /** A run was re-queued as a new run (resumed after a crash or a shutdown). */
  onRequeued?: (previousRunId: string, runId: string, request: RunRequest) => Promise<void>;
  log?: (line: string) => void;
}

export class QueueClosedError extends Error {
  override name = 'QueueClosedError';
}

interface Entry {
  runId: string;
  request: RunRequest;
  priority: number;
}

interface Active {
  request: RunRequest;
  controller: AbortController;
  /** Why it was aborted: a user's cancel, or the daemon shutting down (then it is re-queued). */
  stopReason: 'cancel' | 'shutdown' | null;
  done: Promise<void>;
}

export type QueueState = 'paused' | 'running' | 'stopping' | 'stopped';

/** How many times a run interrupted by a crash or shutdown is started again automatically. */
const MAX_RESUMES = 3;

/**
 * The request that finishes the work of an interrupted run (a shutdown, a crash): a new run with
 * the same selection and range, tagged with the run it resumes. Null after MAX_RESUMES in a row.
 */
export function resumeRequest(previousRunId: string, request: RunRequest): RunRequest | null {
  const tags = { ...(request.tags ?? {}) };
  const attempt = Number(tags.resume_attempt ?? 0) + 1;
  if (attempt > MAX_RESUMES) return null;
  return {
    ...request,
    runKey: null,
    trigger: request.trigger.startsWith('backfill') ? request.trigger : 'resume',
    tags: { ...tags, resumed_from: previousRunId, resume_attempt: String(attempt) },
  };
}

/** Background work (backfills) waits behind runs someone is waiting for (sensors, API, schedules). */
const priorityOf = (trigger: string): number => (trigger.startsWith('backfill') ? 1 : 0);

export function parseTags(tags: string | null): Record<string, string> {
  if (!tags) return {};
  try {
    const parsed: unknown = JSON.parse(tags);
    return typeof parsed === 'object' && parsed !== null ? (parsed as Record<string, string>) : {};
  } catch {
    return {};
  }
}

/** The request a stored run was made from (its selection is already resolved). */
export function requestFromStored(row: StoredRunRequest): RunRequest {
  return {
    selection: row.selection,
    withUpstream: false,
    range: row.partition_from && row.partition_to ? { from: row.partition_from, to: row.partition_to } : null,
    fullRefresh: row.full_refresh,
    trigger: row.trigger,
    runKey: row.run_key,
    tags: parseTags(row.tags),
    // A resumed or taken-over run keeps the configuration it was submitted with.
    config: row.config ? (parseTags(row.config) as Record<string, unknown>) : null,
  };
}

/**
 * The persistent run queue. A submitted run is recorded `queued` in the ledger before `submit`
 * resolves, so it survives a restart; it starts as soon as a slot is free, with no polling delay.
 * Cancel stops a queued run outright and a running one at its next safe point (asset boundary,
 * or between files during ingest).
 */
export class RunQueue {
  private readonly pending: Entry[] = [];
  private readonly active = new Map<string, Active>();
  private readonly submitLock = new Mutex();
  private readonly concurrency: number;
  private state: QueueState = 'paused';
  private idleWaiters: (() => void)[] = [];

  constructor(private readonly options: RunQueueOptions) {
    this.concurrency = Math.max(1, options.concurrency ?? 1);
  }

  /** Loads runs left queued by an earlier process and starts launching. */
  async start(): Promise<void> {
    if (this.state !== 'paused') return;
    const known = new Set(this.pending.map((e) => e.runId));
    for (const row of await this.options.ledger.queuedRuns()) {
      if (known.has(row.run_id)) continue;
      this.enqueue({ runId: row.run_id, request: requestFromStored(row), priority: priorityOf(row.trigger) });
    }
    this.state = 'running';
    this.pump();
  }

  /** Records a run as queued; a run key used before makes it a no-op that returns the earlier run. */
  submit(request: RunRequest): Promise<{ runId: string; deduplicated: boolean }> {
    return this.submitLock.run(async () => {
      this.assertOpen();
      const created = await this.options.ledger.createRunOnce(
        describeRun(this.options.graph, request),
        'queued',
      );
      if (created.deduplicated) return created;
      const { runId } = created;
      this.enqueue({ runId, request, priority: priorityOf(request.trigger) });
      this.pump();
      return { runId, deduplicated: false };
    });
  }

  /** Queues many runs in one ledger transaction (a backfill); run keys are not checked. */
  submitMany(requests: readonly RunRequest[]): Promise<string[]> {
    return this.submitLock.run(async () => {
      this.assertOpen();
      const records = requests.map((r) => describeRun(this.options.graph, r));
      const runIds = await this.options.ledger.createQueuedRuns(records);
      requests.forEach((request, i) => {
        this.enqueue({ runId: runIds[i] ?? '', request, priority: priorityOf(request.trigger) });
      });
      this.pump();
      return runIds;
    });
  }

  /** True when the run was queued (now canceled) or running (now stopping at its next safe point). */
  async cancel(runId: string): Promise<boolean> {
    const running = this.active.get(runId);
    if (running) {
      if (running.stopReason === null) running.stopReason = 'cancel';
      running.controller.abort(new Error('canceled'));
      return true;
    }
    const index = this.pending.findIndex((e) => e.runId === runId);
    if (index >= 0) this.pending.splice(index, 1);
    return this.options.ledger.cancelQueuedRun(runId);
  }

  /** The oldest run of `trigger` that has not started yet: a later request can ride along with it. */
  pendingRunOf(trigger: string): string | null {
    return this.pending.find((e) => e.request.trigger === trigger)?.runId ?? null;
  }

  /** `running` from start() until stop(); what readiness probes report. */
  get lifecycle(): QueueState {
    return this.state;
  }

  get runningIds(): string[] {
    return [...this.active.keys()];
  }

  get queuedIds(): string[] {
    return this.pending.map((e) => e.runId);
  }

  /** Resolves when nothing is queued or running (tests, graceful shutdown). */
  idle(): Promise<void> {
    if (this.active.size === 0 && (this.pending.length === 0 || this.state !== 'running'))
      return Promise.resolve();
    return new Promise((resolve) => this.idleWaiters.push(resolve));
  }

  /**
   * Re-queues runs that a crashed process left behind (already marked failed as orphans): each
   * becomes a new queued run with the same request, at most MAX_RESUMES times in a row.
   */
  async resume(orphanedRunIds: readonly string[]): Promise<string[]> {
    const resumed: string[] = [];
    for (const runId of orphanedRunIds) {
      const row = await this.options.ledger.runRequest(runId);
      if (!row) continue;
      const request = requestFromStored(row);
      const next = await this.requeue(runId, request);
      if (next) resumed.push(next);
    }
    return resumed;
  }

  /**
   * Stops launching, asks running runs to stop at their next safe point and waits for them. With
   * `requeue` (a shutdown) each interrupted run is queued again so the next start finishes it.
   */
  async stop(options: { requeue?: boolean } = {}): Promise<void> {
    if (this.state === 'stopped') return;
    this.state = 'stopping';
    for (const run of this.active.values()) {
      if (run.stopReason === null) run.stopReason = options.requeue ? 'shutdown' : 'cancel';
      run.controller.abort(new Error('shutting down'));
    }
    await Promise.all([...this.active.values()].map((r) => r.done));
    this.state = 'stopped';
    this.notifyIdle();
  }

  private async requeue(previousRunId: string, request: RunRequest): Promise<string | null> {
    const next = resumeRequest(previousRunId, request);
    if (!next) {
      this.options.log?.(`run ${previousRunId} was interrupted ${MAX_RESUMES} times; not resuming it again`);
      return null;
    }
    const runId = await this.options.ledger.createRun(describeRun(this.options.graph, next), 'queued');
    await this.options.onRequeued?.(previousRunId, runId, next);
    this.options.log?.(`run ${previousRunId} was interrupted; queued ${runId} to finish its work`);
    if (this.state === 'running' || this.state === 'paused')
      this.enqueue({ runId, request: next, priority: priorityOf(next.trigger) });
    this.pump();
    return runId;
  }

  private assertOpen(): void {
    if (this.state === 'stopping' || this.state === 'stopped')
      throw new QueueClosedError('the daemon is shutting down and accepts no new runs');
  }

  private enqueue(entry: Entry): void {
    // Stable: after every entry of the same or a more urgent priority.
    let index = this.pending.length;
    while (index > 0 && (this.pending[index - 1]?.priority ?? 0) > entry.priority) index--;
    this.pending.splice(index, 0, entry);
  }

  private pump(): void {
    while (this.state === 'running' && this.active.size < this.concurrency) {
      const entry = this.pending.shift();
      if (!entry) break;
      this.launch(entry);
    }
    this.notifyIdle();
  }

  private launch(entry: Entry): void {
    const controller = new AbortController();
    const run: Active = { request: entry.request, controller, stopReason: null, done: Promise.resolve() };
    this.active.set(entry.runId, run);
    run.done = this.execute(entry, run).finally(() => {
      this.active.delete(entry.runId);
      this.pump();
    });
  }

  private async execute(entry: Entry, run: Active): Promise<void> {
    const { graph, ledger, warehouse, emitter } = this.options;
    try {
      const summary = await executeRun({
        graph,
        ledger,
        warehouse,
        request: entry.request,
        runId: entry.runId,
        signal: run.controller.signal,
        emitter,
      });
      if (summary.status === 'canceled' && run.stopReason === 'shutdown') {
        await this.requeue(entry.runId, entry.request);
      }
    } catch (error) {
      // executeRun records its own failures; this is the ledger itself failing (e.g. disk full).
      const message = error instanceof Error ? error.message : String(error);
      this.options.log?.(`run ${entry.runId} crashed: ${message}`);
      await ledger.finishRun(entry.runId, 'failed', message).catch(() => {});
    }
  }

  private notifyIdle(): void {
    if (this.active.size > 0) return;
    if (this.pending.length > 0 && this.state === 'running') return;
    const waiters = this.idleWaiters;
    this.idleWaiters = [];
    for (const resolve of waiters) resolve();
  }
}
