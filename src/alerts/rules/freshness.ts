import { addDays, dayOf } from '../../orchestrator/days.js';
import * as sql from '../alert-sql.js';
import type { AlertCondition } from '../alert-types.js';
import type { RuleDefinition } from './rule.js';

/** Only the latest this many due days can open an alert: a historic hole must not fire forever. */
export const FRESHNESS_LOOKBACK_DAYS = 3;

const HOUR_MS = 3_600_000;

/** The latest day whose file is due at `now`: day D is due at D+1 00:00 UTC + grace. */
export function latestDueDay(now: Date, graceHours: number): string {
  return dayOf(new Date(now.getTime() - 24 * HOUR_MS - graceHours * HOUR_MS));
}

/** When day's file was due, as ISO-8601 UTC. */
function dueAt(day: string, graceHours: number): string {
  return new Date(Date.parse(`${addDays(day, 1)}T00:00:00Z`) + graceHours * HOUR_MS).toISOString();
}

export const freshnessRule: RuleDefinition = {
  rule: 'freshness',
  description: `A day's billing file has not arrived by the next day 00:00 UTC + grace (latest ${FRESHNESS_LOOKBACK_DAYS} days)`,
  tables: ['billing_files'],
  async conditions(ctx) {
    const grace = ctx.config.rules.freshness.grace_hours;
    const due = latestDueDay(ctx.now, grace);
    const lookback: string[] = [];
    for (let i = FRESHNESS_LOOKBACK_DAYS - 1; i >= 0; i--) lookback.push(addDays(due, -i));
    // A day that left the window while still missing stays open until its file arrives.
    const carried = ctx.open.map((a) => a.period).filter((p) => /^\d{4}-\d{2}-\d{2}$/.test(p));
    // The first day and every candidate day's arrival in one statement; the window is cut after.
    const [found] = await ctx.session.all<{ first_day: string | null; arrived: string | null }>(sql.ARRIVAL, [
      [...new Set([...lookback, ...carried])].join(','),
    ]);
    const firstDay = found?.first_day;
    // Nothing has arrived yet: an empty warehouse is not late, there is no day to expect from.
    if (!firstDay) return [];
    const days = new Set<string>(lookback.filter((day) => day >= firstDay));
    for (const day of carried) days.add(day);
    if (days.size === 0) return [];
    const arrived = new Set(found.arrived ? found.arrived.split(',') : []);
    return [...days]
      .filter((day) => !arrived.has(day))
      .sort()
      .map(
        (day): AlertCondition => ({
          rule: 'freshness',
          scope: 'source',
          period: day,
          threshold: null,
          severity: 'warning',
          summary: `No billing file for ${day}: it was expected by ${dueAt(day, grace).replace('.000Z', 'Z')} (${grace} h grace)`,
          details: { day, expected_by: dueAt(day, grace), grace_hours: grace, first_day: firstDay },
        }),
      );
  },
};
