const MS_PER_DAY = 86_400_000;
const DAY_PATTERN = /^(\d{4})-(\d{2})-(\d{2})$/;

/**
 * Days since 1970-01-01 for a `YYYY-MM-DD` string; throws if it is not a real calendar date.
 * `label` names the argument in the message because the CLI shows it to the user as is.
 */
export function dayNumber(s: string, label = 'day'): number {
  const m = DAY_PATTERN.exec(s);
  if (m === null) {
    throw new Error(`Invalid ${label} ${JSON.stringify(s)}: expected a date as YYYY-MM-DD, e.g. 2025-04-23`);
  }
  const year = Number(m[1]);
  const month = Number(m[2]);
  const day = Number(m[3]);
  const ms = Date.UTC(year, month - 1, day);
  const back = new Date(ms);
  // Date.UTC silently rolls Feb 30 over to Mar 2, so only a round trip proves the date exists.
  if (back.getUTCFullYear() !== year || back.getUTCMonth() !== month - 1 || back.getUTCDate() !== day) {
    throw new Error(`Invalid ${label} ${JSON.stringify(s)}: there is no such calendar date`);
  }
  return ms / MS_PER_DAY;
}

/** Returns `s` unchanged if it is a real `YYYY-MM-DD` date, otherwise throws a message fit for a CLI user. */
export function parseDay(s: string): string {
  dayNumber(s);
  return s;
}

/** Validates an inclusive day range; throws if either end is not a date or `from` is after `to`. */
export function parseDayRange(from: string, to: string): { from: number; to: number; days: number } {
  const a = dayNumber(from, '"from" day');
  const b = dayNumber(to, '"to" day');
  if (a > b) {
    throw new Error(`Invalid day range: "from" (${from}) is after "to" (${to})`);
  }
  return { from: a, to: b, days: b - a + 1 };
}

/** `YYYY-MM-DD` for a day number from {@link dayNumber}. */
export function dayString(n: number): string {
  return new Date(n * MS_PER_DAY).toISOString().slice(0, 10);
}

/**
 * Every day from `from` to `to`, both inclusive.
 * Being a generator, it validates only when iteration starts; call {@link parseDayRange} first for an eager check.
 */
export function* eachDay(from: string, to: string): Generator<string> {
  const range = parseDayRange(from, to);
  for (let d = range.from; d <= range.to; d++) yield dayString(d);
}

/** 0 = Sunday … 6 = Saturday; 1970-01-01 was a Thursday. */
export function weekday(n: number): number {
  return (((n + 4) % 7) + 7) % 7;
}
