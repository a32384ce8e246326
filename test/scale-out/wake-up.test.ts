import { afterEach, describe, expect, it } from 'vitest';
import { JobQueue, TASK_QUEUE, type TaskJobData } from '../../src/orchestrator/scale-out/job-queue.js';
import type { QueueSignal } from '../../src/orchestrator/scale-out/queue-signals.js';
import { createDatabase } from '../support/postgres.js';
import { postgresPerFile } from './support.js';

const pg = postgresPerFile();

/** Far beyond the test's timeout: a job done in time was fetched on its NOTIFY, not by the poll. */
const POLL_SECONDS = 600;

describe.skipIf(!pg.available)('queue wake-ups (LISTEN/NOTIFY)', () => {
  let cleanup: (() => Promise<void>)[] = [];
  afterEach(async () => {
    for (const c of cleanup.reverse()) await c();
    cleanup = [];
  });

  async function openQueue(url: string): Promise<JobQueue> {
    const queue = await JobQueue.open({ url, settings: { pollingIntervalSeconds: POLL_SECONDS } });
    cleanup.push(() => queue.close({ graceful: false, timeoutMs: 1000 }));
    return queue;
  }

  it('an idle worker takes a job sent after its last poll, and its coordinator hears it finish', async () => {
    const db = await createDatabase(pg.server(), 'wake');
    cleanup.push(db.drop);
    const submitter = await openQueue(db.url);
    const workerSide = await openQueue(db.url);
    const taken: TaskJobData[] = [];
    const first = new Promise<void>((resolve) => {
      void workerSide.work<TaskJobData>(TASK_QUEUE, async (job) => {
        taken.push(job.data);
        resolve();
        await workerSide.completeTask(job.id, job.data.runId, { rows: 3 });
        return { rows: 3 };
      });
    });
    // The worker's first fetch (at start) found nothing; its next poll is POLL_SECONDS away.
    await new Promise((resolve) => setTimeout(resolve, 1000));
    const signals: QueueSignal[] = [];
    let heard: () => void = () => {};
    const done = new Promise<void>((resolve) => {
      heard = resolve;
    });
    await submitter.onSignal((s) => {
      signals.push(s);
      if (s.kind === 'done') heard();
    });
    const [id] = await submitter.sendTasks([{ runId: 'run-1', asset: 'a', key: 'k', payload: {} }]);
    await first;
    await done;
    expect(taken).toEqual([{ runId: 'run-1', asset: 'a', key: 'k', payload: {} }]);
    expect(signals).toContainEqual({ kind: 'jobs', queue: TASK_QUEUE });
    expect(signals).toContainEqual({ kind: 'done', runId: 'run-1' });
    const states = await submitter.states([id as string]);
    expect(states.get(id as string)).toMatchObject({ state: 'completed', output: { rows: 3 } });
  }, 60_000);

  it('a worker takes queued jobs back to back, not one per polling interval', async () => {
    const db = await createDatabase(pg.server(), 'wake');
    cleanup.push(db.drop);
    const submitter = await openQueue(db.url);
    const workerSide = await openQueue(db.url);
    const keys = ['d1', 'd2', 'd3', 'd4', 'd5'];
    const taken: string[] = [];
    const all = new Promise<void>((resolve) => {
      void workerSide.work<TaskJobData>(TASK_QUEUE, async (job) => {
        taken.push(job.data.key);
        if (taken.length === keys.length) resolve();
        return {};
      });
    });
    await new Promise((resolve) => setTimeout(resolve, 1000));
    // One NOTIFY for the five: the first is fetched on it; pg-boss 10 alone would then sleep out its
    // polling interval (POLL_SECONDS) after each short job, and the test would time out.
    await submitter.sendTasks(keys.map((key) => ({ runId: 'run-2', asset: 'a', key, payload: {} })));
    await all;
    expect([...taken].sort()).toEqual(keys);
  }, 60_000);
});
