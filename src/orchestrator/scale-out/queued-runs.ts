import type { AssetGraph } from '../asset-graph.js';
import type { Ledger } from '../ledger.js';
import { describeRun, type RunRequest } from '../run-executor.js';
import { isTerminal, type RunStatus } from '../run-status.js';
import { type JobQueue, RUN_QUEUE } from './job-queue.js';

const WAIT_POLL_MS = 250;

/**
 * Submits runs in scale-out mode: each run is recorded `queued` in the ledger and handed to the
 * job queue, where whichever worker is free coordinates it. The same surface as the embedded
 * RunQueue for what the CLI, the API, sensors, schedules and backfills need from it; nothing runs
 * in this process.
 */
export class QueuedRuns {
  private state: 'running' | 'stopped' = 'running';
  /** Runs this process submitted that are not finished yet (for the metrics gauges). */
  private readonly mine = new Map<string, RunStatus>();

  constructor(private readonly options: { graph: AssetGraph; ledger: Ledger; queue: JobQueue }) {}

  async submit(request: RunRequest): Promise<{ runId: string; deduplicated: boolean }> {
    const { ledger, graph, queue } = this.options;
    // Two servers may submit the same run key at once: the ledger's unique key picks one.
    const created = await ledger.createRunOnce(describeRun(graph, request), 'queued');
    if (created.deduplicated) return created;
    const { runId } = created;
    await queue.sendRun(runId);
    this.mine.set(runId, 'queued');
    return { runId, deduplicated: false };
  }

  async submitMany(requests: readonly RunRequest[]): Promise<string[]> {
    const { ledger, graph, queue } = this.options;
    const runIds = await ledger.createQueuedRuns(requests.map((r) => describeRun(graph, r)));
    for (const runId of runIds) {
      await queue.sendRun(runId);
      this.mine.set(runId, 'queued');
    }
    return runIds;
  }

  /** A queued run is canceled in the ledger; a running one through its job, which its coordinator watches. */
  async cancel(runId: string): Promise<boolean> {
    const { ledger, queue } = this.options;
    const row = await ledger.runRequest(runId);
    if (!row || isTerminal(row.status)) return false;
    const job = await queue.runJobOf(runId);
    if (row.status === 'queued' && (await ledger.cancelQueuedRun(runId))) {
      if (job) await queue.cancel(RUN_QUEUE, [job]);
      return true;
    }
    if (!job) return false;
    await queue.cancel(RUN_QUEUE, [job]);
    return true;
  }

  /** Jobs in the shared queue, all processes together (the metrics' queue depth). */
  jobDepth(): ReturnType<JobQueue['depth']> {
    return this.options.queue.depth();
  }

  /** Runs wait in the shared queue, not here: a later request never rides along with one. */
  pendingRunOf(_trigger: string): string | null {
    return null;
  }

  get lifecycle(): 'running' | 'stopped' {
    return this.state;
  }

  get queuedIds(): string[] {
    return [...this.mine].filter(([, s]) => s === 'queued').map(([id]) => id);
  }

  get runningIds(): string[] {
    return [...this.mine].filter(([, s]) => s === 'running').map(([id]) => id);
  }

  /** Waits until the run is finished (by whichever worker) and returns its final status. */
  async wait(
    runId: string,
    options: { signal?: AbortSignal; onStatus?: (s: RunStatus) => void } = {},
  ): Promise<RunStatus> {
    let last: RunStatus | null = null;
    for (;;) {
      const row = await this.options.ledger.runRequest(runId).catch(() => null);
      const status: RunStatus | null = row?.status ?? last;
      if (status && status !== last) {
        last = status;
        options.onStatus?.(status);
      }
      if (status && this.mine.has(runId)) this.mine.set(runId, status);
      if (status && isTerminal(status)) {
        this.mine.delete(runId);
        return status;
      }
      if (options.signal?.aborted) throw new Error('stopped waiting');
      await new Promise((resolve) => setTimeout(resolve, WAIT_POLL_MS));
    }
  }

  /** Resolves when every run this process submitted has finished. */
  async idle(): Promise<void> {
    for (const runId of [...this.mine.keys()]) await this.wait(runId);
  }

  async stop(): Promise<void> {
    this.state = 'stopped';
  }
}
