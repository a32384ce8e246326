import { Cron } from 'croner';
import { addDays } from './days.js';

/**
 * Cron arithmetic for schedules, pure and clock-free: every function takes the instants it
 * reasons about, so tests move time by passing dates. Croner does the pattern matching and the
 * time zone (DST) handling.
 */

export class CronError extends Error {
  override name = 'CronError';
}

/** A validated cron expression read in an IANA time zone. */
export interface CronSpec {
  expression: string;
  timezone: string;
}

function compile(spec: CronSpec): Cron {
  try {
    return new Cron(spec.expression, { timezone: spec.timezone, paused: true });
  } catch (error) {
    const reason = error instanceof Error ? error.message : String(error);
    throw new CronError(
      `invalid cron "${spec.expression}" in time zone ${spec.timezone}: ${reason} (expected 5 fields, e.g. "0 0 * * *")`,
    );
  }
}

/** Throws a CronError that names the expression when it cannot be used. */
export function validateCron(spec: CronSpec): CronSpec {
  const cron = compile(spec);
  let next: Date | null;
  try {
    next = cron.nextRun(new Date(0));
  } catch (error) {
    // Croner only notices a bad time zone when it first converts a date.
    const reason = error instanceof Error ? error.message : String(error);
    throw new CronError(`invalid cron "${spec.expression}" in time zone ${spec.timezone}: ${reason}`);
  }
  if (next === null) throw new CronError(`cron "${spec.expression}" never fires`);
  return spec;
}

/** The first tick strictly after `after`, or null for a pattern with no future tick. */
export function nextTick(spec: CronSpec, after: Date): Date | null {
  return compile(spec).nextRun(after);
}

/** Ticks in (after, until], oldest first, at most `max` of them. */
export function ticksBetween(spec: CronSpec, after: Date, until: Date, max = 10_000): Date[] {
  const cron = compile(spec);
  const ticks: Date[] = [];
  let cursor = after;
  while (ticks.length < max) {
    const tick = cron.nextRun(cursor);
    if (tick === null || tick.getTime() > until.getTime()) break;
    ticks.push(tick);
    cursor = tick;
  }
  return ticks;
}

/** What a schedule should do now: at most one tick to run, and how many earlier ones it skips. */
export interface DueTicks {
  /** The tick to run now (the latest one due), or null. */
  run: Date | null;
  /** How many earlier due ticks the missed-tick policy skips (at least this many past the cap). */
  missedCount: number;
  /** The oldest skipped tick, for the record. */
  firstMissed: Date | null;
  /** Where the schedule's cursor goes after this evaluation. */
  cursor: Date;
}

const MISSED_CAP = 1_000;

/**
 * The missed-tick policy: when the daemon was down across several ticks, only the latest one
 * runs (once); the others are reported as missed, never replayed as a storm. With no cursor (a
 * schedule seen for the first time) nothing is due: a new schedule starts from now.
 */
export function dueTicks(spec: CronSpec, cursor: Date | null, now: Date): DueTicks {
  const none = (at: Date): DueTicks => ({ run: null, missedCount: 0, firstMissed: null, cursor: at });
  if (cursor === null) return none(now);
  if (now.getTime() <= cursor.getTime()) return none(cursor);
  const ticks = ticksBetween(spec, cursor, now, MISSED_CAP + 1);
  const walked = ticks.at(-1);
  if (walked === undefined) return none(cursor);
  // Past the cap, the latest tick is found backwards from now instead of walking every minute.
  const run = ticks.length > MISSED_CAP ? (latestTickAtOrBefore(spec, now) ?? walked) : walked;
  return {
    run,
    missedCount: ticks.length - 1,
    firstMissed: ticks.length > 1 ? (ticks[0] ?? null) : null,
    cursor: run,
  };
}

function latestTickAtOrBefore(spec: CronSpec, now: Date): Date | null {
  const candidates = compile(spec).previousRuns(2, new Date(now.getTime() + 1000));
  return candidates.find((tick) => tick.getTime() <= now.getTime()) ?? null;
}

/** The calendar day of an instant in a time zone, `YYYY-MM-DD`. */
export function dayInZone(instant: Date, timezone: string): string {
  const parts = new Intl.DateTimeFormat('en-CA', {
    timeZone: timezone,
    year: 'numeric',
    month: '2-digit',
    day: '2-digit',
  }).formatToParts(instant);
  const get = (type: string) => parts.find((p) => p.type === type)?.value ?? '';
  return `${get('year')}-${get('month')}-${get('day')}`;
}

/** The day before the tick's local day: the partition a daily schedule firing at midnight completes. */
export function previousDay(tick: Date, timezone: string): string {
  return addDays(dayInZone(tick, timezone), -1);
}
