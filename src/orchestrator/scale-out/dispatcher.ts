import type { Cell } from '../../warehouse/warehouse.js';
import type { AssetTask, TaskOutcome } from '../asset.js';
import { type JobQueue, jobError, TASK_QUEUE } from './job-queue.js';

const POLL_MS = 250;

/**
 * Sends a run's tasks to the queue and waits for every one to reach a final state. The queue
 * retries failed and lost tasks itself; what comes back failed has used up its retries. When the
 * run is canceled the tasks not yet finished are canceled too.
 */
export async function dispatchTasks(options: {
  queue: JobQueue;
  runId: string;
  asset: string;
  tasks: readonly AssetTask[];
  signal: AbortSignal;
  /** Read errors (the server restarting) are retried until this many in a row. */
  maxPollErrors?: number;
}): Promise<TaskOutcome[]> {
  const { queue, runId, asset, tasks, signal } = options;
  if (tasks.length === 0) return [];
  const ids = await queue.sendTasks(tasks.map((t) => ({ runId, asset, key: t.key, payload: t.payload })));
  const taskOf = new Map(ids.map((id, i) => [id, tasks[i]]));
  const outcomes = new Map<string, TaskOutcome>();
  // A task of this run finishing wakes the loop at once; the poll stays as the fallback.
  let wake: (() => void) | null = null;
  let woken = false;
  const unsubscribe = await queue
    .onSignal((s) => {
      if (s.kind !== 'done' || s.runId !== runId) return;
      woken = true;
      wake?.();
    })
    .catch(() => () => {});
  const nap = () =>
    new Promise<void>((resolve) => {
      if (woken) return resolve();
      const timer = setTimeout(resolve, POLL_MS);
      wake = () => {
        clearTimeout(timer);
        resolve();
      };
    }).then(() => {
      wake = null;
      woken = false;
    });
  try {
    await follow();
  } finally {
    unsubscribe();
  }
  return ids.map((id, i) => outcomes.get(id) ?? failed(tasks[i], 'lost'));

  async function follow(): Promise<void> {
    let pollErrors = 0;
    while (outcomes.size < ids.length) {
      if (signal.aborted) {
        const open = ids.filter((id) => !outcomes.has(id));
        await queue.cancel(TASK_QUEUE, open).catch(() => {});
        for (const id of open) outcomes.set(id, failed(taskOf.get(id), 'canceled'));
        break;
      }
      await nap();
      let states: Awaited<ReturnType<JobQueue['states']>>;
      try {
        states = await queue.states(ids.filter((id) => !outcomes.has(id)));
        pollErrors = 0;
      } catch (error) {
        pollErrors += 1;
        if (pollErrors >= (options.maxPollErrors ?? 240)) throw error;
        continue;
      }
      for (const [id, status] of states) {
        const task = taskOf.get(id);
        if (!task) continue;
        switch (status.state) {
          case 'completed':
            outcomes.set(id, {
              key: task.key,
              status: 'success',
              result: (status.output as Record<string, Cell> | null) ?? null,
              error: null,
            });
            break;
          case 'failed':
            outcomes.set(id, failed(task, jobError(status.output)));
            break;
          case 'cancelled':
            outcomes.set(id, failed(task, 'canceled'));
            break;
          case 'created':
          case 'retry':
          case 'active':
            break;
          default: {
            const unreachable: never = status.state;
            throw new Error(`unknown job state ${String(unreachable)}`);
          }
        }
      }
    }
  }
}

function failed(task: AssetTask | undefined, error: string): TaskOutcome {
  return { key: task?.key ?? '?', status: 'failed', result: null, error };
}
