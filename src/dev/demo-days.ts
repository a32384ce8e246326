import { addDays, type DayRange, dayOf } from '../orchestrator/days.js';

/** How many days of data the demo generates. */
export const DEMO_DAY_COUNT = 30;

/**
 * The demo's days: the 30 days up to yesterday (UTC), so its data always looks recent.
 * configs/backfill.yaml names the same window as `today-30` .. `yesterday`.
 */
export function demoDays(now: Date = new Date()): DayRange {
  const to = dayOf(new Date(now.getTime() - 86_400_000));
  return { from: addDays(to, -(DEMO_DAY_COUNT - 1)), to };
}
