import { type CronSpec, dueTicks, nextTick, previousDay, validateCron } from './cron-ticks.js';
import type { RunRequest } from './run-executor.js';
import { submitRequests, type TickDeps, type TickReport } from './sensor.js';

/** A cron schedule: at each tick, the runs it asks for. */
export interface ScheduleDefinition {
  name: string;
  description: string;
  cron: CronSpec;
  requestsFor(tick: Date): RunRequest[];
}

/**
 * A schedule that, at each tick, reprocesses the day before the tick's local day: at 00:00 it
 * materializes the day that just ended (right across month and year ends, leap days included).
 * The run key is the day, so the same day is never requested twice by this schedule.
 */
export function dailyPartitionSchedule(options: {
  name: string;
  cron: CronSpec;
  description?: string;
  selection?: readonly string[];
}): ScheduleDefinition {
  const cron = validateCron(options.cron);
  return {
    name: options.name,
    description:
      options.description ??
      `materializes the previous day's partition at "${cron.expression}" (${cron.timezone})`,
    cron,
    requestsFor(tick) {
      const day = previousDay(tick, cron.timezone);
      return [
        {
          selection: options.selection,
          range: { from: day, to: day },
          trigger: `schedule:${options.name}`,
          runKey: `${options.name}:${day}`,
          tags: { schedule: options.name, tick: tick.toISOString() },
        },
      ];
    },
  };
}

/** When the schedule should next be evaluated: now if a tick is due, else its next tick. */
export function nextEvaluation(schedule: ScheduleDefinition, cursor: string | null, now: Date): Date | null {
  if (cursor === null) return now;
  const next = nextTick(schedule.cron, new Date(cursor));
  if (next === null) return null;
  return next.getTime() <= now.getTime() ? now : next;
}

/**
 * Evaluates a schedule at `now`. The cursor is the last tick dealt with (ISO). Missed ticks
 * (the daemon was down) follow `dueTicks`' policy: one skipped tick records how many were missed,
 * then the latest one runs once. Returns null when nothing was due.
 */
export async function runScheduleTick(
  deps: TickDeps,
  schedule: ScheduleDefinition,
  now: Date,
): Promise<TickReport | null> {
  const cursorBefore = (await deps.store.state(schedule.name))?.cursor ?? null;
  const due = dueTicks(schedule.cron, cursorBefore ? new Date(cursorBefore) : null, now);
  const cursorAfter = due.cursor.toISOString();
  const base = { name: schedule.name, kind: 'schedule' as const, startedAt: now.getTime() };
  if (due.run === null) {
    if (cursorBefore === null) await deps.store.setCursor(schedule.name, 'schedule', cursorAfter);
    return null;
  }
  if (due.missedCount > 0) {
    await deps.store.commitTick({
      ...base,
      finishedAt: now.getTime(),
      outcome: 'skipped',
      skipReason:
        `${due.missedCount} tick(s) from ${due.firstMissed?.toISOString()} were missed while the daemon was not running; ` +
        'policy: only the latest missed tick runs, once',
      cursorBefore,
      cursorAfter: cursorBefore,
      runIds: [],
    });
  }
  let result: { outcome: 'requested' | 'skipped' | 'failed'; runIds: string[]; skipReason: string | null };
  let error: string | null = null;
  try {
    result = await submitRequests(deps.submitter, schedule.requestsFor(due.run));
  } catch (caught) {
    error = caught instanceof Error ? caught.message : String(caught);
    result = { outcome: 'failed', runIds: [], skipReason: null };
  }
  const tickId = await deps.store.commitTick({
    ...base,
    finishedAt: now.getTime(),
    outcome: result.outcome,
    skipReason: result.skipReason,
    cursorBefore,
    // A failed submission keeps the cursor so the next evaluation tries the same tick again.
    cursorAfter: result.outcome === 'failed' ? cursorBefore : cursorAfter,
    runIds: result.runIds,
    error,
  });
  return { tickId, ...result, error };
}
