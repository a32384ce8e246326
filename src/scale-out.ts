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
  /** Workers alive within the last `withinSeconds` (their presence rows, worker-presence.ts). */
  workersSeen(withinSeconds?: number): Promise<number>;
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
  const [{ JobQueue }, { QueuedRuns }, { workersSeen }] = await Promise.all([
    import('./orchestrator/scale-out/job-queue.js'),
    import('./orchestrator/scale-out/queued-runs.js'),
    import('./orchestrator/scale-out/worker-presence.js'),
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
    workersSeen: (withinSeconds) => workersSeen(queue.boss.getDb(), withinSeconds),
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
 * until it has really stopped. A run no worker takes is announced after `noticeAfterMs`, and
 * given up on (left queued) after `waitTimeoutMs` when that is set.
 */
export async function materializeOnQueue(
  scaleOut: ScaleOut,
  ledger: Ledger,
  request: RunRequest,
  options: {
    emitter?: RunEmitter;
    signal?: AbortSignal;
    /** Told once when no worker has taken the run after `noticeAfterMs`. */
    notice?: (line: string) => void;
    noticeAfterMs?: number;
    /** 0 or missing: wait for a worker as long as it takes. */
    waitTimeoutMs?: number;
  } = {},
): Promise<RunSummary> {
  const { runId, deduplicated } = await scaleOut.runs.submit(request);
  const reported = new Set<string>();
  let started = false;
  let cancelRequested = false;
  let noticed = false;
  const submittedAt = Date.now();
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
      if (status === 'queued' && !deduplicated) {
        const waited = Date.now() - submittedAt;
        if (!noticed && waited >= (options.noticeAfterMs ?? 5000)) {
          noticed = true;
          const seen = await scaleOut.workersSeen(60).catch(() => null);
          options.notice?.(
            `no worker has taken the run; ${seen ?? 'an unknown number of'} worker${seen === 1 ? '' : 's'} seen in the last 60 s${seen === 0 ? ' (start one: billing-pipeline worker)' : ''}; still waiting`,
          );
        }
        if (options.waitTimeoutMs && waited >= options.waitTimeoutMs) {
          throw new Error(
            `no worker took run ${runId} within ${Math.round(options.waitTimeoutMs / 1000)} s (BILLING_QUEUE_WAIT_TIMEOUT); it stays queued and runs when a worker starts (cancel it: billing-pipeline runs cancel ${runId})`,
          );
        }
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
