import type { AssetGraph } from '../asset-graph.js';
import type { Ledger } from '../ledger.js';
import { describeRun, type RunRequest } from '../run-executor.js';
import { isTerminal } from '../run-status.js';
import { type JobQueue, RUN_QUEUE } from './job-queue.js';

const POLL_MS = 250;

/**
 * Submits runs in scale-out mode: each run is recorded `queued` in the ledger and handed to the
 * job queue, where whichever worker is free coordinates it. The same surface as the embedded
 * RunQueue for what the CLI, the API, sensors, schedules and backfills need from it; nothing runs
 * in this process.
 */
export class QueuedRuns {
  private state: 'running' | 'stopped' = 'running';

  constructor(private readonly options: { graph: AssetGraph; ledger: Ledger; queue: JobQueue }) {}

  async submit(request: RunRequest): Promise<{ runId: string; deduplicated: boolean }> {
    const { ledger, graph, queue } = this.options;
    // Two servers may submit the same run key at once: the ledger's unique key picks one.
    const created = await ledger.createRunOnce(describeRun(graph, request), 'queued');
    if (created.deduplicated) return created;
    const { runId } = created;
    await queue.sendRuns([runId]);
    return { runId, deduplicated: false };
  }

  async submitMany(requests: readonly RunRequest[]): Promise<string[]> {
    const { ledger, graph, queue } = this.options;
    const runIds = await ledger.createQueuedRuns(requests.map((r) => describeRun(graph, r)));
    await queue.sendRuns(runIds);
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

  /** Nothing waits in this process: the metrics read the cluster's queue through `jobDepth`. */
  get queuedIds(): string[] {
    return [];
  }

  get runningIds(): string[] {
    return [];
  }

  /** Resolves when no run waits or runs in the shared queue, whoever submitted it. */
  async idle(): Promise<void> {
    for (;;) {
      const { runs } = await this.jobDepth();
      if (runs.waiting + runs.active === 0) return;
      await new Promise((resolve) => setTimeout(resolve, POLL_MS));
    }
  }

  async stop(): Promise<void> {
    this.state = 'stopped';
  }
}
