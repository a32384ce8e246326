import type { Config } from './config.js';
import type { AssetGraph } from './orchestrator/asset-graph.js';
import type { Ledger } from './orchestrator/ledger.js';
import type { RunEmitter } from './orchestrator/run-events.js';
import type { AssetOutcome, RunRequest, RunSummary } from './orchestrator/run-executor.js';
import { type AssetRunStatus, isTerminal, type RunStatus } from './orchestrator/run-status.js';
import type { JobQueue } from './orchestrator/scale-out/job-queue.js';
import type { QueuedRuns } from './orchestrator/scale-out/queued-runs.js';
import type { Cell, Row } from './warehouse/warehouse.js';

/** The job queue and run submitter of the scale-out mode, opened on the warehouse's PostgreSQL. */
export interface ScaleOut {
  queue: JobQueue;
  runs: QueuedRuns;
  close(): Promise<void>;
}

export async function openScaleOut(options: {
  config: Config;
  graph: AssetGraph;
  ledger: Ledger;
  onError?: (error: Error) => void;
}): Promise<ScaleOut> {
  const url = options.config.databaseUrl;
  if (!url) throw new Error('the scale-out mode needs BILLING_DATABASE_URL');
  // Loaded only in this mode: the embedded mode never pays for pg-boss.
  const [{ JobQueue }, { QueuedRuns }] = await Promise.all([
    import('./orchestrator/scale-out/job-queue.js'),
    import('./orchestrator/scale-out/queued-runs.js'),
  ]);
  const q = options.config.queue;
  const queue = await JobQueue.open({
    url,
    settings: {
      taskTimeoutSeconds: q.taskTimeoutSeconds,
      runTimeoutSeconds: q.runTimeoutSeconds,
      runLeaseTimeoutSeconds: q.runLeaseTimeoutSeconds,
      retries: q.retries,
      retryDelaySeconds: q.retryDelaySeconds,
      maintenanceIntervalSeconds: q.maintenanceIntervalSeconds,
    },
    onError: options.onError,
  });
  const runs = new QueuedRuns({ graph: options.graph, ledger: options.ledger, queue });
  return {
    queue,
    runs,
    async close() {
      await runs.stop();
      await queue.close();
    },
  };
}

const FOLLOW_POLL_MS = 250;

/**
 * Queues a run for the workers and follows it in the ledger until it ends, reporting each asset as
 * it finishes, like an in-process run. `signal` (Ctrl-C) cancels the run, and following goes on
 * until it has really stopped.
 */
export async function materializeOnQueue(
  scaleOut: ScaleOut,
  ledger: Ledger,
  request: RunRequest,
  options: { emitter?: RunEmitter; signal?: AbortSignal } = {},
): Promise<RunSummary> {
  const { runId, deduplicated } = await scaleOut.runs.submit(request);
  const reported = new Set<string>();
  let started = false;
  let cancelRequested = false;
  for (;;) {
    if (options.signal?.aborted && !cancelRequested) {
      cancelRequested = true;
      await scaleOut.runs.cancel(runId);
    }
    // A read failing (the server restarting) is retried on the next poll.
    const detail = await ledger.getRun(runId).catch(() => null);
    const status = detail?.run.status as RunStatus | undefined;
    if (detail && status && deduplicated) {
      return { runId, status, error: null, assets: [], deduplicatedBy: request.runKey ?? '' };
    }
    if (detail && status) {
      if (!started && status !== 'queued') {
        started = true;
        options.emitter?.emit('run:started', { runId, assets: (detail.run.selection as string[]) ?? [] });
      }
      for (const asset of detail.assets) {
        const name = String(asset.asset);
        if (reported.has(name)) continue;
        reported.add(name);
        options.emitter?.emit('asset:finished', { runId, ...outcomeOf(asset) });
      }
      if (isTerminal(status)) {
        return {
          runId,
          status,
          error: (detail.run.error as string | null) ?? null,
          assets: detail.assets.map(outcomeOf),
        };
      }
    }
    await new Promise((resolve) => setTimeout(resolve, FOLLOW_POLL_MS));
  }
}

function outcomeOf(asset: Row): AssetOutcome {
  const metadata = typeof asset.metadata === 'string' ? JSON.parse(asset.metadata) : asset.metadata;
  return {
    asset: String(asset.asset),
    status: asset.status as AssetRunStatus,
    durationMs: Number(asset.duration_ms ?? 0),
    result: {
      changed: asset.changed === true,
      partitions: [],
      metadata: (metadata ?? {}) as Record<string, Cell>,
    },
    error: (asset.error as string | null) ?? null,
  };
}
