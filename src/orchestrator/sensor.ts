import type { SqlSession } from '../warehouse/warehouse.js';
import type { AutomationStore, TickOutcome } from './automation-store.js';
import type { RunRequest } from './run-executor.js';

export interface SensorContext {
  cursor: string | null;
  now: Date;
  signal: AbortSignal;
}

export interface SensorEvaluation {
  cursor: string | null;
  /** Runs to request; each carries a run key derived from what changed. */
  runRequests: RunRequest[];
  /** Why nothing was requested. */
  skipReason?: string;
  /** State written in the tick's transaction, with the cursor (e.g. a file snapshot). */
  persist?: (tx: SqlSession) => Promise<void>;
  /** Called once the tick committed, so in-memory state never runs ahead of the stored one. */
  committed?: () => void;
}

/** Something that looks at the world every `intervalSeconds` and asks for runs when it changed. */
export interface SensorDefinition {
  name: string;
  /** What it watches, e.g. `s3` or `file`. */
  kind: string;
  description: string;
  intervalSeconds: number;
  evaluate(context: SensorContext): Promise<SensorEvaluation>;
}

/** Where ticks send their run requests: the run queue. */
export interface RunSubmitter {
  submit(request: RunRequest): Promise<{ runId: string; deduplicated: boolean }>;
  /** A queued, not yet started run of `trigger` that will see the same changes, if any. */
  pendingRunOf?(trigger: string): string | null;
}

export interface TickDeps {
  store: AutomationStore;
  submitter: RunSubmitter;
}

export interface TickReport {
  tickId: number;
  outcome: TickOutcome;
  runIds: string[];
  skipReason: string | null;
  error: string | null;
}

const message = (error: unknown) => (error instanceof Error ? error.message : String(error));

/**
 * Submits a tick's run requests. A request whose run key was used before never makes a second
 * run; a request while a run of the same trigger still waits in the queue rides along with it,
 * since that run lists the source when it starts and will load these changes too.
 */
export async function submitRequests(
  submitter: RunSubmitter,
  requests: readonly RunRequest[],
): Promise<{ outcome: TickOutcome; runIds: string[]; skipReason: string | null }> {
  const created: string[] = [];
  const notes: string[] = [];
  const joined: string[] = [];
  for (const request of requests) {
    // Only "load whatever is new" requests can share a run; a range names specific days.
    const pending = request.range ? null : (submitter.pendingRunOf?.(request.trigger) ?? null);
    if (pending) {
      joined.push(pending);
      notes.push(`run ${pending} is already queued and will pick these changes up`);
      continue;
    }
    const { runId, deduplicated } = await submitter.submit(request);
    if (deduplicated) notes.push(`run key ${request.runKey} was already used by run ${runId}`);
    else created.push(runId);
  }
  if (created.length > 0) return { outcome: 'requested', runIds: created, skipReason: null };
  return { outcome: 'skipped', runIds: joined, skipReason: notes.join('; ') || 'nothing to request' };
}

/** One sensor evaluation, recorded as a tick with the cursor before and after. */
export async function runSensorTick(
  deps: TickDeps,
  sensor: SensorDefinition,
  now: Date,
  signal: AbortSignal = new AbortController().signal,
): Promise<TickReport> {
  const startedAt = now.getTime();
  const cursorBefore = (await deps.store.state(sensor.name))?.cursor ?? null;
  let evaluation: SensorEvaluation | null = null;
  let result: { outcome: TickOutcome; runIds: string[]; skipReason: string | null };
  let error: string | null = null;
  try {
    evaluation = await sensor.evaluate({ cursor: cursorBefore, now, signal });
    result =
      evaluation.runRequests.length > 0
        ? await submitRequests(deps.submitter, evaluation.runRequests)
        : { outcome: 'skipped', runIds: [], skipReason: evaluation.skipReason ?? 'nothing changed' };
  } catch (caught) {
    // Stopped mid-tick (daemon shutdown, sensor stopped): not an outcome worth recording.
    if (signal.aborted) throw caught;
    // The cursor stays put: the next tick sees the same changes and derives the same run keys.
    evaluation = null;
    error = message(caught);
    result = { outcome: 'failed', runIds: [], skipReason: null };
  }
  const tickId = await deps.store.commitTick(
    {
      name: sensor.name,
      kind: 'sensor',
      startedAt,
      finishedAt: startedAt + Math.max(0, Date.now() - now.getTime()),
      outcome: result.outcome,
      skipReason: result.skipReason,
      cursorBefore,
      cursorAfter: evaluation ? evaluation.cursor : cursorBefore,
      runIds: result.runIds,
      error,
    },
    evaluation?.persist,
  );
  evaluation?.committed?.();
  return { tickId, ...result, error };
}
