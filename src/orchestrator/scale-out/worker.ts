import type PgBoss from 'pg-boss';
import type { Cell, Warehouse } from '../../warehouse/warehouse.js';
import type { TaskContext } from '../asset.js';
import type { AssetGraph } from '../asset-graph.js';
import { Backfills } from '../backfill.js';
import type { Ledger } from '../ledger.js';
import type { RunEmitter } from '../run-events.js';
import { executeRun, type RunRequest } from '../run-executor.js';
import { requestFromStored, resumeRequest } from '../run-queue.js';
import { isTerminal } from '../run-status.js';
import { dispatchTasks } from './dispatcher.js';
import {
  DEAD_RUN_QUEUE,
  type JobQueue,
  RUN_QUEUE,
  type RunJobData,
  TASK_QUEUE,
  type TaskJobData,
} from './job-queue.js';
import { QueuedRuns } from './queued-runs.js';
import { RunLeases } from './run-lease.js';
import { startLeaseSweep } from './run-takeover.js';
import { announceWorker } from './worker-presence.js';

export interface WorkerOptions {
  graph: AssetGraph;
  ledger: Ledger;
  /** The warehouse runs are coordinated on (ledger writes, small asset steps). */
  warehouse: Warehouse;
  queue: JobQueue;
  /** Tasks run at once in this process; each slot writes on its own connection. */
  concurrency: number;
  /** Opens one more connection to the warehouse, for a task slot. */
  openSlot: () => Promise<Warehouse>;
  emitter?: RunEmitter;
  log: (message: string, fields?: Record<string, Cell>) => void;
  /**
   * The graph of a run from the configuration recorded with it (see RunGraphs): a worker runs each
   * run under its submitter's settings. Without it every run uses `graph`.
   */
  runGraphs?: { forStored(config: string | null): AssetGraph } | null;
}

export interface Worker {
  /**
   * Takes no new jobs, stops the runs it coordinates at their next safe point and queues them again
   * for another worker, finishes the tasks in hand (up to the timeout), closes the slots.
   */
  stop(timeoutMs?: number): Promise<void>;
}

const CANCEL_POLL_MS = 500;

/**
 * A scale-out worker: takes run jobs (walks the run's asset graph, dispatching its tasks to the
 * queue) and task jobs (one file, one day) from pg-boss. Any number of workers on any number of
 * machines share one queue; pg-boss hands each job to one of them.
 */
export async function startWorker(options: WorkerOptions): Promise<Worker> {
  const { graph, ledger, warehouse, queue, log } = options;
  const slots = await Promise.all(Array.from({ length: Math.max(1, options.concurrency) }, options.openSlot));
  const free = [...slots];
  /** Tasks still running when the stop's timeout is up are aborted (the queue retries them). */
  const stopping = new AbortController();
  /** Runs this worker coordinates stop at their next safe point and are queued again, as in the daemon. */
  const handover = new AbortController();
  let coordinating = 0;
  const runs = new QueuedRuns({ graph, ledger, queue });
  const backfills = new Backfills({ warehouse, launcher: runs, allAssets: graph.assets.map((a) => a.name) });
  const leases = new RunLeases(queue.boss.getDb(), queue.settings.runLeaseTimeoutSeconds);
  await RunLeases.setup(queue.boss.getDb());

  /** Recorded configurations of the runs this worker ran tasks for, so a task reads it once per run. */
  const runConfigs = new Map<string, string | null>();
  const graphOfRun = async (runId: string): Promise<AssetGraph> => {
    if (!options.runGraphs) return graph;
    let stored = runConfigs.get(runId);
    if (stored === undefined) {
      stored = (await ledger.runRequest(runId))?.config ?? null;
      if (runConfigs.size >= 256) runConfigs.clear();
      runConfigs.set(runId, stored);
    }
    return options.runGraphs.forStored(stored);
  };

  const runTask = async (job: PgBoss.Job<TaskJobData>) => {
    const { runId, asset: name, key, payload } = job.data;
    const asset = (await graphOfRun(runId)).get(name);
    if (!asset.runTask) throw new Error(`asset ${name} has no tasks`);
    const slot = free.pop();
    if (!slot) throw new Error('no free warehouse connection (more jobs than slots)');
    const started = Date.now();
    log(`task ${key} of ${name} started`, { run_id: runId, asset: name });
    try {
      const context: TaskContext = {
        runId,
        asset: name,
        warehouse: slot,
        signal: stopping.signal,
        log: (message, data) => log(message, { run_id: runId, asset: name, task: key, ...data }),
      };
      const result = await asset.runTask(context, payload);
      log(`task ${key} of ${name} done in ${Date.now() - started} ms`, { run_id: runId, asset: name });
      // Completed here with a NOTIFY, so the coordinator looks now rather than at its next poll.
      await queue.completeTask(job.id, runId, result).catch(() => {});
      return result;
    } catch (error) {
      const message = error instanceof Error ? error.message : String(error);
      log(`task ${key} of ${name} failed: ${message}`, { run_id: runId, asset: name });
      throw error;
    } finally {
      free.push(slot);
    }
  };

  const coordinate = async (job: PgBoss.Job<RunJobData>) => {
    const { runId } = job.data;
    const row = await ledger.runRequest(runId);
    // Canceled before it started, or already finished by an earlier attempt of this job.
    if (!row || isTerminal(row.status)) return { status: row?.status ?? 'unknown' };
    const request = requestFromStored(row);
    // The run's own configuration (source, FX, checks), not this worker's (docs/scale-out.md).
    let runGraph = graph;
    try {
      if (options.runGraphs) runGraph = options.runGraphs.forStored(row.config);
    } catch (error) {
      const message = `cannot run under the configuration recorded with it: ${error instanceof Error ? error.message : String(error)}`;
      await ledger.finishRun(runId, 'failed', message);
      log(`run ${runId} failed: ${message}`, { run_id: runId });
      return { status: 'failed' };
    }
    // Another worker is handing this run to a new one (its lease had lapsed): this job must not run it.
    if (!(await leases.acquire(runId, job.id))) return { status: 'taken over' };
    const controller = new AbortController();
    const onStop = () => controller.abort(new Error('worker stopping'));
    handover.signal.addEventListener('abort', onStop);
    coordinating += 1;
    // pg-boss's cancel only marks the job: the coordinator looks for the mark at its safe points.
    const watch = setInterval(() => {
      queue
        .states([job.id])
        .then((s) => {
          if (s.get(job.id)?.state === 'cancelled') controller.abort(new Error('canceled'));
        })
        .catch(() => {});
    }, CANCEL_POLL_MS);
    const heartbeat = setInterval(() => {
      leases
        .renew(runId, job.id)
        .then((held) => {
          if (!held) controller.abort(new Error('its lease was taken over: another worker resumes this run'));
        })
        .catch(() => {});
    }, leases.renewIntervalMs);
    try {
      log(`run ${runId} started`, { run_id: runId });
      const summary = await executeRun({
        graph: runGraph,
        ledger,
        warehouse,
        request,
        runId,
        signal: controller.signal,
        emitter: options.emitter,
        dispatch: (asset, tasks, signal) => dispatchTasks({ queue, runId, asset, tasks, signal }),
      });
      log(`run ${runId} ${summary.status}${summary.error ? `: ${summary.error}` : ''}`, { run_id: runId });
      const stoppedByUs = handover.signal.aborted && !isCanceled(await queue.states([job.id]), job.id);
      if (summary.status === 'canceled' && stoppedByUs) await resume(runId, request);
      return { status: summary.status };
    } finally {
      clearInterval(watch);
      clearInterval(heartbeat);
      await leases.release(runId, job.id).catch(() => {});
      handover.signal.removeEventListener('abort', onStop);
      coordinating -= 1;
    }
  };

  /** Interrupted by this worker stopping, not by a user: another worker finishes the work. */
  const resume = async (runId: string, request: RunRequest) => {
    const next = resumeRequest(runId, request);
    if (!next) {
      log(`run ${runId} was interrupted too many times; not resuming it again`, { run_id: runId });
      return;
    }
    const { runId: resumed } = await runs.submit(next);
    await backfills.relink(resumed, next);
    log(`run ${runId} was interrupted by this worker stopping; queued ${resumed} to finish its work`, {
      run_id: runId,
    });
  };

  const markLost = async (job: PgBoss.Job<RunJobData>) => {
    const row = await ledger.runRequest(job.data.runId);
    if (row && !isTerminal(row.status)) {
      await ledger.finishRun(
        job.data.runId,
        'failed',
        'the run was lost: its workers stopped or timed out on every attempt (see the worker logs)',
      );
    }
  };

  const sweep = startLeaseSweep({ leases, ledger, queue, runs, backfills, log });
  const presence = await announceWorker(queue.boss.getDb(), slots.length);

  const ids: string[] = [];
  const noListen = (error: Error) =>
    log(`no LISTEN connection (${error.message}): the worker finds jobs by polling only`);
  for (let i = 0; i < slots.length; i += 1) {
    ids.push(await queue.work<TaskJobData>(TASK_QUEUE, runTask, noListen));
    ids.push(await queue.work<RunJobData>(RUN_QUEUE, coordinate, noListen));
  }
  ids.push(await queue.work<RunJobData>(DEAD_RUN_QUEUE, markLost, noListen));
  log(`worker started: ${slots.length} slot(s) on queue ${RUN_QUEUE}/${TASK_QUEUE}`);

  return {
    async stop(timeoutMs = 30_000) {
      sweep.stop();
      for (const id of ids) await queue.offWork(id).catch(() => {});
      handover.abort();
      const deadline = Date.now() + timeoutMs;
      while ((free.length < slots.length || coordinating > 0) && Date.now() < deadline) await sleep(100);
      stopping.abort();
      await presence.stop();
      await Promise.all(slots.map((s) => s.close().catch(() => {})));
    },
  };
}

function isCanceled(states: Map<string, { state: string }>, id: string): boolean {
  return states.get(id)?.state === 'cancelled';
}

function sleep(ms: number): Promise<void> {
  return new Promise((resolve) => setTimeout(resolve, ms));
}
