/** Day partitions are `YYYY-MM-DD` strings in UTC. */
export interface DayRange {
  from: string;
  to: string;
}

const DAY_PATTERN = /^(\d{4})-(\d{2})-(\d{2})$/;
const MS_PER_DAY = 86_400_000;

/** Validates a `YYYY-MM-DD` day, throwing a message that names the offending input. */
export function parseDay(value: string, label = 'day'): string {
  const match = DAY_PATTERN.exec(value.trim());
  if (match) {
    const [, y, m, d] = match;
    const date = new Date(Date.UTC(Number(y), Number(m) - 1, Number(d)));
    if (date.toISOString().slice(0, 10) === value.trim()) return value.trim();
  }
  throw new RangeError(`${label} "${value}" is not a valid date; expected YYYY-MM-DD, e.g. 2025-04-23`);
}

export function parseDayRange(from: string, to: string): DayRange {
  const range = { from: parseDay(from, '--from'), to: parseDay(to, '--to') };
  if (range.from > range.to) throw new RangeError(`--from ${range.from} is after --to ${range.to}`);
  return range;
}

export function addDays(day: string, count: number): string {
  return new Date(Date.parse(`${day}T00:00:00Z`) + count * MS_PER_DAY).toISOString().slice(0, 10);
}

export function* eachDay(range: DayRange): Generator<string> {
  for (let day = range.from; day <= range.to; day = addDays(day, 1)) yield day;
}

export function dayCount(range: DayRange): number {
  return Math.round((Date.parse(range.to) - Date.parse(range.from)) / MS_PER_DAY) + 1;
}

/** The UTC day of an instant. */
export function dayOf(instant: Date): string {
  return instant.toISOString().slice(0, 10);
}
