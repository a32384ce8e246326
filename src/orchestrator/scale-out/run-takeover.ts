import type { Cell } from '../../warehouse/warehouse.js';
import type { Backfills } from '../backfill.js';
import type { Ledger } from '../ledger.js';
import { requestFromStored, resumeRequest } from '../run-queue.js';
import { isTerminal } from '../run-status.js';
import { type JobQueue, RUN_QUEUE } from './job-queue.js';
import type { QueuedRuns } from './queued-runs.js';
import type { RunLeases } from './run-lease.js';

export interface LeaseSweepOptions {
  leases: RunLeases;
  ledger: Ledger;
  queue: JobQueue;
  runs: QueuedRuns;
  backfills: Backfills;
  log: (message: string, fields?: Record<string, Cell>) => void;
}

/**
 * Every worker's look for runs whose coordinator was lost (its lease lapsed): each is handed over
 * as the SIGTERM handover does it, a `resume` run that another worker picks up (a backfill's
 * partition relinked to it); the lost run is marked failed, saying why and which run resumes it,
 * and its pg-boss job is cancelled so its expiry never runs it again. The resume run's key
 * (`takeover:<run>`) keeps a takeover repeated after a crash of the taker to one run.
 */
export async function takeOverLostRuns(options: LeaseSweepOptions): Promise<string[]> {
  const { leases, ledger, queue, runs, backfills, log } = options;
  const resumed: string[] = [];
  for (const lost of await leases.claimStale()) {
    const row = await ledger.runRequest(lost.runId);
    if (row && !isTerminal(row.status)) {
      const request = requestFromStored(row);
      const next = resumeRequest(lost.runId, request);
      let note = 'it was interrupted too many times and is not resumed again';
      if (next) {
        const keyed = { ...next, runKey: `takeover:${lost.runId}` };
        const { runId } = await runs.submit(keyed);
        await backfills.relink(runId, keyed);
        resumed.push(runId);
        note = `run ${runId} resumes its work`;
      }
      await ledger.finishRun(
        lost.runId,
        'failed',
        `its coordinator stopped renewing its lease for ${leases.timeoutSeconds} s (its worker was killed or cut off); ${note}`,
      );
      log(`run ${lost.runId} lost its coordinator; ${note}`, { run_id: lost.runId });
    }
    await queue.cancel(RUN_QUEUE, [lost.jobId]).catch(() => {});
    await leases.done(lost.runId);
  }
  return resumed;
}

/** Runs the sweep on a timer, one pass at a time; errors (PostgreSQL restarting) wait for the next pass. */
export function startLeaseSweep(options: LeaseSweepOptions): { stop(): void } {
  let busy = false;
  const timer = setInterval(() => {
    if (busy) return;
    busy = true;
    takeOverLostRuns(options)
      .catch((error: unknown) => {
        const message = error instanceof Error ? error.message : String(error);
        options.log(`could not look for lost runs: ${message}`);
      })
      .finally(() => {
        busy = false;
      });
  }, options.leases.renewIntervalMs);
  timer.unref();
  return { stop: () => clearInterval(timer) };
}
